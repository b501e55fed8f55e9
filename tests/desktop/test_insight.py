"""Durations in the window: the Usual column and Recent-runs strip after real runs, elapsed time
and ETA of a running run (Jobs, History, tray tooltip), a longer-than-usual run marked and told
once, and the statistics view opened with the mouse and the keyboard. Each test grabs its
screenshot; with JOBDESK_SCREENSHOTS=docs/screenshots they become the README's (usual-strip-light,
slow-run-jobs, slow-run-history, stats-light), else they go to a temporary folder."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from desktop.formatting import status_colour
from desktop.history.history_model import DURATION
from desktop.joblist.model import NAME, RECENT, STRIP_ROLE, USUAL
from jobs import triggers
from jobs.model import CronSpec, JobSpec, RunStatus
from tests.desktop.clicks import click_index, menu_entries, open_context_menu
from tests.jobs.test_run_stats import seed

TZ = triggers.local_timezone_name()
SHOTS = Path(os.environ.get("JOBDESK_SCREENSHOTS") or Path(tempfile.gettempdir()) / "jobdesk-shots")


def add_job(window, qtbot, name: str, code: str, **kw) -> JobSpec:
    spec = window.service.add_job(JobSpec(name=name, command=(sys.executable, "-c", code),
                                          trigger=CronSpec("0 3 * * *", TZ), **kw))  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_model.row_of(spec.id) is not None, timeout=5000)
    return spec


def shown(window, qtbot, tab) -> None:
    window.resize(1400, 640)
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(tab)


def cell(window, job_id: str, column: int):
    return window.jobs_proxy.mapFromSource(window.jobs_model.index(window.jobs_model.row_of(job_id), column))


def save(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / name))


def colours_in(image, rect) -> set[str]:
    return {image.pixelColor(x, y).name() for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom())}


def test_usual_column_and_strip_after_real_runs(window, qtbot):
    spec = add_job(window, qtbot, "Sales report", "import time; time.sleep(0.3)")
    failing = add_job(window, qtbot, "Inventory sync", "import sys, time; time.sleep(0.1); sys.exit(2)")
    for job in (spec, spec, failing, spec):
        window.service.wait_for_run(window.service.run_now(job.id), timeout=20)
    shown(window, qtbot, window.tabs.widget(0))
    qtbot.waitUntil(lambda: len(cell(window, spec.id, RECENT).data(STRIP_ROLE) or ()) == 3, timeout=5000)
    usual = cell(window, spec.id, USUAL)  # an index is good until the model changes: taken after the wait
    assert usual.data() in {"300 ms", "301 ms", "302 ms", "303 ms", "304 ms", "305 ms"} or usual.data().endswith(" ms")
    assert "Usual duration" in usual.data(Qt.ItemDataRole.ToolTipRole) and "3 successful runs" in usual.data(
        Qt.ItemDataRole.ToolTipRole)  # fmt: skip
    assert cell(window, failing.id, USUAL).data() == "—"  # no success: no usual time
    bars = cell(window, failing.id, RECENT).data(STRIP_ROLE)
    assert [bar.status for bar in bars] == [RunStatus.FAILED]
    # The strip is painted: the succeeded colour shows inside the Recent runs cell.
    table = window.jobs_table
    qtbot.wait(50)
    image = table.viewport().grab().toImage()
    rect = table.visualRect(cell(window, spec.id, RECENT))
    assert status_colour(RunStatus.SUCCEEDED, table.palette()).name() in colours_in(image, rect)
    assert status_colour(RunStatus.FAILED, table.palette()).name() in colours_in(
        image, table.visualRect(cell(window, failing.id, RECENT)))  # fmt: skip


def test_a_running_run_shows_elapsed_and_eta_in_jobs_history_and_tray(window, qtbot):
    spec = add_job(window, qtbot, "Nightly export", "import time; time.sleep(30)")
    seed(window.service.history, spec, [20.0, 22.0, 25.0])
    window.loader.request()
    shown(window, qtbot, window.tabs.widget(0))
    qtbot.waitUntil(lambda: cell(window, spec.id, USUAL).data() == "22s", timeout=5000)
    run_id = window.service.run_now(spec.id)
    qtbot.waitUntil(lambda: " of ~22s" in (cell(window, spec.id, USUAL).data() or ""), timeout=5000)
    assert window.tray.icon.toolTip().count("Nightly export: ") == 1 and "left" in window.tray.icon.toolTip()
    window.tabs.setCurrentWidget(window.history)
    model = window.history.model
    qtbot.waitUntil(lambda: model.row_of(run_id) is not None
                    and " of ~22s" in model.index(model.row_of(run_id), DURATION).data(), timeout=5000)  # fmt: skip
    window.service.cancel_run(run_id)


def test_a_longer_than_usual_run_is_marked_and_told_once(window, qtbot):
    spec = add_job(window, qtbot, "Slow import", "import time; time.sleep(2.5)", slow_factor=2.0, slow_margin=0.0)
    seed(window.service.history, spec, [0.4, 0.5, 0.5, 0.6])  # p95 0.6 s: longer than usual past 1.2 s
    told = []
    window.service.events.run_slow.connect(told.append)
    window.loader.request()
    shown(window, qtbot, window.tabs.widget(0))
    qtbot.waitUntil(lambda: cell(window, spec.id, USUAL).data() == "500 ms", timeout=5000)
    run_id = window.service.run_now(spec.id)
    qtbot.waitUntil(lambda: window.notifier.last is not None, timeout=10_000)
    channel, title, body = window.notifier.last
    assert title == "Slow import is taking longer than usual"
    assert body.startswith("running for 1s") and body.endswith("it usually takes 500 ms (p95 600 ms)")
    qtbot.waitUntil(lambda: "(usually 500 ms)" in (cell(window, spec.id, USUAL).data() or ""), timeout=5000)
    assert "longer than usual" in cell(window, spec.id, USUAL).data(Qt.ItemDataRole.ToolTipRole)
    save(window.tabs.widget(0), "slow-run-jobs.png")
    window.service.wait_for_run(run_id, timeout=20)
    window.tabs.setCurrentWidget(window.history)
    model = window.history.model
    qtbot.waitUntil(lambda: model.row_of(run_id) is not None and
                    model.index(model.row_of(run_id), DURATION).data().endswith(" (long)"), timeout=5000)  # fmt: skip
    tip = model.index(model.row_of(run_id), DURATION).data(Qt.ItemDataRole.ToolTipRole)
    assert "Longer than usual for this job" in tip
    qtbot.wait(300)
    assert len(told) == 1 and window.notifier.last == (channel, title, body)  # one notice, not two
    save(window.history, "slow-run-history.png")


def test_statistics_view_opens_from_the_detail_bar_context_menu_and_ctrl_i(window, qtbot):
    spec = add_job(window, qtbot, "Weekly KPIs", "print('ok')")
    seed(window.service.history, spec, [60.0 + (i % 7) * 9 for i in range(40)])
    seed(window.service.history, spec, [30.0, 45.0], RunStatus.FAILED)
    seed(window.service.history, spec, [70.0, 65.0, 240.0])
    window.service.history.mark_slow(window.service.history.query()[0].id, "long")
    other = add_job(window, qtbot, "Inventory sync", "print('ok')")
    seed(window.service.history, other, [float(20 + (i * 37) % 50) for i in range(14)])
    seed(window.service.history, other, [12.0], RunStatus.FAILED)
    seed(window.service.history, other, [45.0, 38.0, 51.0, 5.0])
    window.service.history.mark_slow(window.service.history.query()[0].id, "short")
    window.loader.request()
    shown(window, qtbot, window.tabs.widget(0))
    qtbot.waitUntil(lambda: len(cell(window, other.id, RECENT).data(STRIP_ROLE) or ()) == 19, timeout=5000)
    click_index(qtbot, window.jobs_table, cell(window, spec.id, NAME))
    qtbot.waitUntil(lambda: window.detail.stats_button.isEnabled(), timeout=5000)
    save(window.tabs.widget(0), "usual-strip-light.png")
    qtbot.mouseClick(window.detail.stats_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.insight.stats_dialog is not None and window.insight.stats_dialog.stats is not None,
                    timeout=5000)  # fmt: skip
    dialog = window.insight.stats_dialog
    assert dialog.windowTitle() == "Statistics — Weekly KPIs"
    assert "Usual duration" in dialog.summary.text() and "96% of the last 45 runs succeeded" in dialog.summary.text()
    assert "1 unusual" in dialog.summary.text()
    qtbot.wait(50)
    save(dialog, "stats-light.png")
    image = dialog.durations.grab().toImage()
    assert status_colour(RunStatus.FAILED, dialog.palette()).name() in colours_in(image, dialog.durations.rect())
    assert QColor("#d9822b").name() in colours_in(image, dialog.durations.rect())  # the ring of the long run
    dialog.close()
    qtbot.waitUntil(lambda: window.insight.stats_dialog is None, timeout=5000)

    menu = open_context_menu(qtbot, window.jobs_table, cell(window, spec.id, NAME), "jobsContextMenu")
    entry = menu_entries(menu)["Statistics…"]
    menu.close()
    assert entry.isEnabled()
    window.activateWindow()
    click_index(qtbot, window.jobs_table, cell(window, spec.id, NAME))
    qtbot.waitUntil(window.jobs_table.hasFocus, timeout=2000)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.insight.stats_dialog is not None and window.insight.stats_dialog.stats is not None,
                    timeout=5000)  # fmt: skip
    window.insight.stats_dialog.close()


def test_the_editor_reads_and_keeps_the_longer_than_usual_rule(qtbot):
    from desktop.editor import JobEditorDialog
    from tests.desktop.test_editor import fill_basics, message, type_text, wait_checked

    dialog = JobEditorDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    fill_basics(qtbot, dialog)
    policy = dialog.ui.policy_form
    type_text(qtbot, policy.slow_factor_spin, "3")
    type_text(qtbot, policy.slow_margin_edit, "soon")
    wait_checked(qtbot, dialog, lambda: "longer than usual: 'soon' is not a duration" in message(dialog))
    type_text(qtbot, policy.slow_margin_edit, "5m")
    wait_checked(qtbot, dialog, dialog.ui.ok_button.isEnabled)
    spec = dialog.current_spec()
    assert (spec.slow_factor, spec.slow_margin) == (3.0, 300.0)

    again = JobEditorDialog(spec)  # an edit shows what was saved
    qtbot.addWidget(again)
    assert again.ui.policy_form.slow_factor_spin.value() == 3.0 and again.ui.policy_form.slow_margin_edit.text() == "5m"
