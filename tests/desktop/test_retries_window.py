"""Retries in the window (issue 12): the editor's Retries tab typed in and saved, attempts
marked in History, Stop on a pending retry, and a notification only for the final outcome."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from desktop.editor import JobEditorDialog
from desktop.editor.field_marks import is_marked
from desktop.history.history_model import ERROR, JOB, STATUS
from desktop.joblist.model import NAME
from desktop.upcoming_model import COUNTDOWN, SCHEDULE
from jobs.model import CronSpec, JobSpec, RunStatus
from jobs.service import JobService
from tests.conftest import py
from tests.desktop.clicks import click_index, menu_entries, open_context_menu

YEARLY = CronSpec("0 0 1 1 *", "UTC")


def type_into(qtbot, widget, text: str) -> None:
    line = widget.lineEdit() if hasattr(widget, "lineEdit") else widget
    line.selectAll()
    qtbot.keyClick(line, Qt.Key.Key_Delete)
    qtbot.keyClicks(line, text)


def test_the_editor_sets_retries_by_keyboard_and_mouse_and_they_are_saved(qtbot, data_dir):
    editor = JobEditorDialog()
    qtbot.addWidget(editor)
    editor.show()
    qtbot.keyClicks(editor.ui.name_edit, "Flaky export")
    qtbot.keyClicks(editor.ui.command_field.line_edit, "python3 export.py")
    tabs = editor.ui.more_tabs
    index = next(i for i in range(tabs.count()) if tabs.tabText(i) == "Retries")
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(index).center())
    form = editor.ui.retry_form
    assert tabs.currentWidget() is form and not form.delay_edit.isEnabled()  # nothing to set before "Retries"
    type_into(qtbot, form.retries_spin, "3")
    assert form.delay_edit.isEnabled()
    qtbot.keyClicks(form.delay_edit, "1m")
    qtbot.keyClicks(form.backoff_edit, "3")
    qtbot.keyClicks(form.max_edit, "10m")
    qtbot.mouseClick(form.on_timeout_check, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(form.exit_codes_edit, "75, 111")
    qtbot.waitUntil(editor.ui.ok_button.isEnabled, timeout=2000)
    qtbot.mouseClick(editor.ui.ok_button, Qt.MouseButton.LeftButton)
    assert editor.result() == QDialog.DialogCode.Accepted

    service = JobService(data_dir)
    try:
        saved = service.add_job(editor.result_spec())
        stored = service.jobs.get(saved.id)
    finally:
        service.shutdown()
    assert (stored.retries, stored.retry_delay, stored.retry_backoff, stored.retry_max, stored.retry_on,
            stored.retry_on_exit) == (3, 60.0, 3.0, 600.0, ("failure",), (75, 111))  # fmt: skip

    again = JobEditorDialog(stored)
    qtbot.addWidget(again)
    again.show()
    assert again.current_spec() == stored  # loads back unchanged
    assert again.ui.retry_form.delay_edit.text() == "1m"
    type_into(qtbot, again.ui.retry_form.backoff_edit, "0.5")
    qtbot.waitUntil(lambda: not again.is_valid(), timeout=2000)
    assert again.problems() == ["retry_backoff: 0.5 must be between 1 (the same delay every time) and 100"]
    assert is_marked(again.ui.retry_form.backoff_edit) and not again.ui.ok_button.isEnabled()
    type_into(qtbot, again.ui.retry_form.exit_codes_edit, "75, x")
    qtbot.waitUntil(lambda: "exit codes" in " ".join(again.problems()), timeout=2000)
    assert is_marked(again.ui.retry_form.exit_codes_edit)


def test_history_marks_attempts_and_stop_cancels_a_pending_retry(window, qtbot):
    window.show()
    spec = window.service.add_job(JobSpec(name="Upload", command=py("import sys; sys.exit(1)"), trigger=YEARLY,
                                          retries=1, retry_delay=600))
    first = window.service.run_now(spec.id)
    ended = window.service.wait_for_run(first, timeout=20)
    retry = ended.retried_by
    assert retry is not None
    window.tabs.setCurrentIndex(3)
    history = window.history
    qtbot.waitUntil(lambda: history.model.row_of(retry) is not None and history.model.row_of(first) is not None,
                    timeout=5000)  # fmt: skip
    status = lambda run_id: history.model.index(history.model.row_of(run_id), STATUS).data()  # noqa: E731
    error = lambda run_id: history.model.index(history.model.row_of(run_id), ERROR).data()  # noqa: E731
    qtbot.waitUntil(lambda: error(first) == "Attempt 1/2: exit code 1", timeout=5000)
    assert (status(retry), error(retry)) == ("Retry pending", f"Attempt 2/2: run #{first} failed (exit 1); retry in 10m")
    qtbot.waitUntil(lambda: window.tray.icon.toolTip() == "Jobdesk: idle; 1 retry pending", timeout=5000)
    assert window.tray.state == "idle"  # a failed attempt a retry follows is no alarm, nor "running"
    window.tray.rebuild_stop_menu()
    assert [a.text() for a in window.tray.stop_menu.actions()] == [f"Upload (run #{retry}, retry 2/2 pending)"]

    upcoming = window.upcoming_model  # the pending retry is listed first in Upcoming, with its countdown
    qtbot.waitUntil(lambda: upcoming.rowCount() > 0 and upcoming.index(0, SCHEDULE).data() == "Retry: attempt 2 of 2",
                    timeout=5000)  # fmt: skip
    assert upcoming.index(0, COUNTDOWN).data() in ("in 10 min", "in 9 min")
    menu = open_context_menu(qtbot, history.table, history.model.index(history.model.row_of(retry), JOB),
                             "historyContextMenu")  # fmt: skip
    entries = menu_entries(menu)
    assert entries["Stop run"].isEnabled()
    entries["Stop run"].trigger()
    menu.close()
    qtbot.waitUntil(lambda: status(retry) == "Killed", timeout=5000)
    assert error(retry) == "Attempt 2/2: retry cancelled: stopped by the user"
    record = window.service.get_run(retry)
    assert record.status is RunStatus.KILLED and record.error == "retry cancelled: stopped by the user"
    assert window.service.dispatcher.active_runs() == []  # the job's place is free
    qtbot.waitUntil(lambda: upcoming.waiting() == [], timeout=5000)


def test_only_the_final_attempt_notifies(window, qtbot, tmp_path):
    window.show()
    counter = tmp_path / "count"
    fixed_once = py(f"import pathlib, sys; p = pathlib.Path({str(counter)!r}); first = not p.exists(); "
                    "p.write_text('x'); sys.exit(1 if first else 0)")
    fixed = window.service.add_job(JobSpec(name="Fixed", command=fixed_once, trigger=YEARLY, retries=1, retry_delay=0.1))
    run = window.service.dispatcher.final_attempt(window.service.wait_for_run(window.service.run_now(fixed.id), 20), 20)
    assert run.status is RunStatus.SUCCEEDED and run.attempt == 2
    qtbot.wait(500)  # the first attempt's end has been announced (queued signals) and said nothing
    assert window.notifier.last is None

    broken = window.service.add_job(JobSpec(name="Broken", command=py("import sys; sys.exit(2)"), trigger=YEARLY,
                                            retries=1, retry_delay=1.0))
    first = window.service.wait_for_run(window.service.run_now(broken.id), 20)
    qtbot.wait(500)  # attempt 1 failed and was announced: no notification, a retry follows
    assert first.status is RunStatus.FAILED and window.notifier.last is None
    window.service.dispatcher.final_attempt(first, 20)
    qtbot.waitUntil(lambda: window.notifier.last is not None, timeout=5000)
    qtbot.wait(300)
    _channel, title, _body = window.notifier.last
    assert title == "Broken failed after 2 attempts"


def test_pausing_in_the_window_cancels_pending_retries_shown_in_history(window, qtbot):
    fails = py("import sys; sys.exit(1)")
    upload = window.service.add_job(JobSpec(name="Upload", command=fails, trigger=YEARLY, retries=2, retry_delay=600))
    fetch = window.service.add_job(JobSpec(name="Fetch", command=fails, trigger=YEARLY, retries=1, retry_delay=600))
    retries = {}
    for job in (upload, fetch):
        retries[job.id] = window.service.wait_for_run(window.service.run_now(job.id), timeout=20).retried_by
    assert all(retries.values())
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.jobs_model.row_of(upload.id) is not None, timeout=5000)
    row = window.jobs_proxy.mapFromSource(window.jobs_model.index(window.jobs_model.row_of(upload.id), NAME))
    click_index(qtbot, window.jobs_table, row)
    qtbot.waitUntil(lambda: window.current_spec() is not None and window.current_spec().id == upload.id, timeout=2000)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Space)  # pause the selected job
    qtbot.waitUntil(lambda: window.service.get_run(retries[upload.id]).status is RunStatus.SKIPPED, timeout=5000)
    assert window.service.get_run(retries[fetch.id]).status is RunStatus.RETRY_PENDING  # only that job's

    window.tabs.setCurrentIndex(3)
    history = window.history
    status = lambda run_id: history.model.index(history.model.row_of(run_id), STATUS).data()  # noqa: E731
    error = lambda run_id: history.model.index(history.model.row_of(run_id), ERROR).data()  # noqa: E731
    qtbot.waitUntil(lambda: history.model.row_of(retries[upload.id]) is not None
                    and status(retries[upload.id]) == "Skipped", timeout=5000)  # fmt: skip
    assert error(retries[upload.id]) == "Attempt 2/3: retry cancelled: the job was paused"

    qtbot.mouseClick(window.toolbar.widgetForAction(window.job_actions.pause_all), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: history.model.row_of(retries[fetch.id]) is not None
                    and status(retries[fetch.id]) == "Skipped", timeout=5000)  # fmt: skip
    assert error(retries[fetch.id]) == "Attempt 2/2: retry cancelled: the job was paused"
    assert window.service.dispatcher.active_runs() == []
    qtbot.wait(300)  # a cancelled retry is no failure: no notification
    assert window.notifier.last is None
    qtbot.waitUntil(lambda: window.tray.icon.toolTip() == "Jobdesk: idle", timeout=5000)
