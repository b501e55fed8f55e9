"""Run after other jobs in the window, driven by mouse and keyboard: the editor's After tab,
the schedule in words, a cycle refused before saving, Delete naming the jobs that run after,
and a chain followed by the window's own service."""

from __future__ import annotations

import shlex
import sys
from datetime import datetime, timezone

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QListWidget, QMessageBox, QStyle, QStyleOptionViewItem

from desktop.editor.field_marks import is_marked
from desktop.history.history_model import JOB as HISTORY_JOB, SCHEDULED
from desktop.joblist.model import NAME, SCHEDULE
from jobs import triggers
from jobs.model import AfterSpec, CronSpec, JobSpec, RunCause, RunStatus
from tests.desktop.clicks import click_index

TZ = triggers.local_timezone_name()
YEARLY = CronSpec("0 0 1 1 *", TZ)


def py(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def add_job(window, qtbot, name: str, trigger=YEARLY) -> JobSpec:
    saved = window.service.add_job(JobSpec(name=name, command=py("pass"), trigger=trigger))
    qtbot.waitUntil(lambda: window.jobs_model.row_of(saved.id) is not None, timeout=5000)
    return saved


def select_row(qtbot, window, job_id: str) -> None:
    qtbot.waitUntil(lambda: window.jobs_model.row_of(job_id) is not None, timeout=5000)
    click_index(qtbot, window.jobs_table, window.jobs_proxy.mapFromSource(window.jobs_model.index(window.jobs_model.row_of(job_id), NAME)))
    qtbot.waitUntil(lambda: window.current_spec() is not None and window.current_spec().id == job_id, timeout=2000)
    qtbot.waitUntil(window.jobs_table.hasFocus, timeout=2000)


def shown(qtbot, window) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()


def schedule_text(window, job_id: str) -> str:
    return window.jobs_model.index(window.jobs_model.row_of(job_id), SCHEDULE).data()


def row_of(view: QListWidget, text: str) -> QModelIndex:
    [item] = view.findItems(text, Qt.MatchFlag.MatchExactly)
    return view.indexFromItem(item)


def click_check_box(qtbot, view: QListWidget, text: str) -> None:
    """Click the check box of the row showing `text`, where the style draws it."""
    index = row_of(view, text)
    option = QStyleOptionViewItem()
    view.initViewItemOption(option)
    option.rect = view.visualRect(index)
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = view.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option, view)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=box.center())


def open_after_tab(qtbot, dialog) -> None:
    tabs = dialog.ui.trigger_tabs
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(3).center())
    assert tabs.currentWidget() is dialog.ui.after_editor


def test_create_an_after_job_through_the_editor_with_mouse_and_keys(window, qtbot):
    backup, sync = add_job(window, qtbot, "Backup"), add_job(window, qtbot, "Sync")
    shown(qtbot, window)
    select_row(qtbot, window, backup.id)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.job_actions.editor is not None and window.job_actions.editor.isVisible(), timeout=3000)
    dialog = window.job_actions.editor
    qtbot.keyClicks(dialog.ui.name_edit, "Report")
    qtbot.keyClicks(dialog.ui.command_field.line_edit, shlex.join(py("print('report')")))
    open_after_tab(qtbot, dialog)
    after = dialog.ui.after_editor
    assert [after.job_list.item(row).text() for row in range(after.job_list.count())] == ["Backup", "Sync"]
    qtbot.waitUntil(lambda: "check the jobs this one runs after" in " ".join(dialog.problems()), timeout=3000)
    assert not dialog.ui.ok_button.isEnabled()

    click_check_box(qtbot, after.job_list, "Backup")  # the mouse
    click_index(qtbot, after.job_list, row_of(after.job_list, "Sync"))  # the keyboard: select, then Space
    qtbot.keyClick(after.job_list, Qt.Key.Key_Space)
    after.status_combo.setFocus()
    qtbot.keyClick(after.status_combo, Qt.Key.Key_Down)
    qtbot.keyClick(after.status_combo, Qt.Key.Key_Down)
    qtbot.waitUntil(dialog.ui.ok_button.isEnabled, timeout=3000)
    assert dialog.ui.preview.description_label.text() == "After Backup and Sync (any outcome)"
    qtbot.mouseClick(dialog.ui.ok_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: window.job_actions.editor is None, timeout=3000)
    [report] = [spec for spec in window.service.list_jobs() if spec.name == "Report"]
    assert report.trigger == AfterSpec((backup.id, sync.id), "any", TZ)
    qtbot.waitUntil(lambda: window.jobs_model.row_of(report.id) is not None
                    and schedule_text(window, report.id) == "After Backup and Sync (any outcome)", timeout=5000)  # fmt: skip


def test_the_editor_refuses_a_cycle_with_its_path(window, qtbot):
    backup = add_job(window, qtbot, "Backup")
    add_job(window, qtbot, "Report", AfterSpec((backup.id,), "success", TZ))
    shown(qtbot, window)
    select_row(qtbot, window, backup.id)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.job_actions.editor is not None, timeout=3000)
    dialog = window.job_actions.editor
    open_after_tab(qtbot, dialog)
    click_check_box(qtbot, dialog.ui.after_editor.job_list, "Report")
    qtbot.waitUntil(lambda: any("cycle" in problem for problem in dialog.problems()), timeout=3000)
    assert dialog.problems() == ["jobs: would make a cycle: Backup → Report → Backup"]
    assert not dialog.ui.ok_button.isEnabled() and is_marked(dialog.ui.after_editor.job_list)
    dialog.reject()


def test_delete_names_the_jobs_that_run_after_it(window, qtbot, monkeypatch):
    backup = add_job(window, qtbot, "Backup")
    add_job(window, qtbot, "Report", AfterSpec((backup.id,), "success", TZ))
    shown(qtbot, window)
    select_row(qtbot, window, backup.id)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: asked.append(args[2]) or QMessageBox.StandardButton.Cancel)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Delete)
    assert len(asked) == 1 and "“Report” runs after it and will not run again until you edit it." in asked[0]
    assert backup.id in window.service.jobs.ids()


def test_the_window_runs_the_after_job_when_its_upstream_succeeds(window, qtbot):
    backup = add_job(window, qtbot, "Backup")
    report = add_job(window, qtbot, "Report", AfterSpec((backup.id,), "success", TZ))
    shown(qtbot, window)
    select_row(qtbot, window, backup.id)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)

    def report_runs() -> list:
        return [run for run in window.service.query_history() if run.job_id == report.id and run.status.is_final]

    qtbot.waitUntil(lambda: len(report_runs()) == 1, timeout=10_000)
    [run] = report_runs()
    [upstream] = [r for r in window.service.query_history() if r.job_id == backup.id]
    assert (run.cause, run.status, run.upstream_run_id) == (RunCause.AFTER, RunStatus.SUCCEEDED, upstream.id)
    tabs = window.tabs
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton,
                     pos=tabs.tabBar().tabRect(tabs.indexOf(window.history)).center())  # fmt: skip
    history = window.history
    assert tabs.currentWidget() is history
    qtbot.waitUntil(lambda: history.model.row_of(run.id) is not None, timeout=5000)
    row = history.model.row_of(run.id)
    assert history.model.index(row, SCHEDULED).data() == f"after #{upstream.id}"
    click_index(qtbot, history.table, history.model.index(row, HISTORY_JOB))
    qtbot.waitUntil(lambda: history.output.record is not None and history.output.record.id == run.id, timeout=5000)
    assert f"run #{run.id}, started after run #{upstream.id}" in history.output.summary_label.toolTip()


def test_upcoming_and_the_timeline_show_the_chain(window, qtbot):
    from desktop.upcoming_model import COUNTDOWN, JOB, SCHEDULE as UPCOMING_SCHEDULE, TIME

    backup = add_job(window, qtbot, "Backup", CronSpec("30 * * * *", TZ))
    report = add_job(window, qtbot, "Report", AfterSpec((backup.id,), "success", TZ))
    model = window.upcoming_model
    qtbot.waitUntil(lambda: report.id in model.job_ids(), timeout=5000)
    rows = [[model.index(row, column).data() for column in (TIME, COUNTDOWN, JOB, UPCOMING_SCHEDULE)]
            for row in range(model.rowCount())]  # fmt: skip
    assert rows[0][2:] == ["Backup", "At 30 minutes past the hour"]
    assert rows[1][0] == rows[0][0] and rows[1][1].startswith("after ") and rows[1][2:] == ["Report", "After Backup (success)"]
    assert schedule_text(window, report.id) == "After Backup (success)"

    shown(qtbot, window)
    tabs = window.tabs
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton,
                     pos=tabs.tabBar().tabRect(tabs.indexOf(window.timeline_area)).center())  # fmt: skip
    view = window.timeline
    qtbot.waitUntil(lambda: view.lane_jobs[:2] == [backup.id, report.id], timeout=5000)
    now = datetime.now(timezone.utc)
    when = next(when for when in window.service.fire_times.after(backup.trigger, now, 3) if view.x_of(when) > view.x_of(now) + 10)
    x = round(view.x_of(when))
    image = view.grab().toImage()
    gap = range(view.header_height + view.lane_height - 3, view.header_height + view.lane_height + 3)  # between the lanes
    background = {image.pixelColor(x + 8, y).rgb() for y in gap}
    linked = [y for y in gap if any(image.pixelColor(x + dx, y).rgb() not in background for dx in (-1, 0, 1))]
    assert linked, "no link drawn between Backup's run and Report's"


def test_an_unchanged_after_job_round_trips_through_the_editor(qtbot):
    from desktop.editor import JobEditorDialog

    upstream = JobSpec(id="a1", name="Backup", command=("true",), trigger=YEARLY)
    spec = JobSpec(id="c1", name="Report", command=("true",), trigger=AfterSpec(("a1",), "failure", "Europe/Paris"))
    editor = JobEditorDialog(spec, jobs=[upstream, spec])
    qtbot.addWidget(editor)
    assert editor.ui.trigger_tabs.currentWidget() is editor.ui.after_editor
    assert [editor.ui.after_editor.job_list.item(row).text() for row in range(editor.ui.after_editor.job_list.count())] == ["Backup"]
    assert editor.current_spec() == spec


def test_the_jobs_table_says_when_an_after_job_is_expected(window, qtbot):
    from desktop.formatting import NO_VALUE, format_relative, format_time
    from desktop.joblist.model import COUNTDOWN, NEXT_RUN

    extract = add_job(window, qtbot, "Extract", CronSpec("0 6 * * *", TZ))
    prices = add_job(window, qtbot, "Prices", CronSpec("30 7 * * *", TZ))
    report = window.service.add_job(JobSpec(name="Report", command=py("pass"), trigger=AfterSpec((extract.id, prices.id))))
    upload = window.service.add_job(JobSpec(name="Upload", command=py("pass"), trigger=AfterSpec((report.id,))))
    cell = lambda job_id, column: window.jobs_model.index(window.jobs_model.row_of(job_id), column).data()  # noqa: E731
    qtbot.waitUntil(lambda: window.jobs_model.row_of(upload.id) is not None, timeout=5000)
    next_runs = window.service.next_run_times()
    last = max((extract, prices), key=lambda spec: next_runs[spec.id])  # its fire completes the set
    expected = next_runs[last.id]
    qtbot.waitUntil(lambda: cell(report.id, NEXT_RUN) == f"after {last.name} ({format_time(expected)})", timeout=5000)
    assert cell(upload.id, NEXT_RUN) == f"after Report ({format_time(expected)})"  # along the chain
    countdown = cell(report.id, COUNTDOWN)
    assert countdown.startswith("after ") and countdown[len("after "):] == format_relative(expected)[len("in "):]

    window.service.set_paused(last.id, True)  # no time can be told
    qtbot.waitUntil(lambda: cell(report.id, NEXT_RUN) == "after its upstream jobs", timeout=5000)
    assert cell(report.id, COUNTDOWN) == "after upstream" and cell(upload.id, NEXT_RUN) == "after its upstream jobs"
    window.service.set_paused(report.id, True)
    qtbot.waitUntil(lambda: cell(report.id, COUNTDOWN) == "paused", timeout=5000)
    assert cell(report.id, NEXT_RUN) == NO_VALUE
