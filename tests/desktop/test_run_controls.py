"""Stopping a run from the window (History's context menu, the detail strip, the tray) and the
elapsed time of running rows, which tick instead of showing "—"."""

from __future__ import annotations

import sys

import psutil
from PySide6.QtCore import Qt

from desktop.history.history_model import DURATION, JOB
from desktop.joblist.model import NAME
from jobs import triggers
from jobs.model import CronSpec, JobSpec, Overlap, RunStatus
from tests.desktop.clicks import click_index, menu_entries, open_context_menu

TZ = triggers.local_timezone_name()
SLEEPER = "import time; print('started', flush=True); time.sleep(60)"


def add_sleeper(window, qtbot, name: str = "Slow export", **kw) -> JobSpec:
    spec = window.service.add_job(JobSpec(name=name, command=(sys.executable, "-c", SLEEPER),
                                          trigger=CronSpec("0 3 * * *", TZ), **kw))  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_model.row_of(spec.id) is not None, timeout=5000)
    return spec


def start(window, qtbot, spec: JobSpec) -> int:
    run_id = window.service.run_now(spec.id)
    assert run_id is not None
    qtbot.waitUntil(lambda: (r := window.service.get_run(run_id)) is not None and r.status is RunStatus.RUNNING,
                    timeout=5000)  # fmt: skip
    return run_id


def wait_killed(window, qtbot, run_id: int) -> None:
    qtbot.waitUntil(lambda: window.service.get_run(run_id).status is RunStatus.KILLED, timeout=15_000)
    assert "stopped by the user" in (window.service.get_run(run_id).error or "")


def children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True) if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def shown(window, qtbot, tab) -> None:
    window.resize(1180, 760)
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(tab)


def test_stop_from_the_history_context_menu(window, qtbot):
    spec = add_sleeper(window, qtbot)
    run_id = start(window, qtbot, spec)
    shown(window, qtbot, window.history)
    model = window.history.model
    qtbot.waitUntil(lambda: model.row_of(run_id) is not None, timeout=5000)
    menu = open_context_menu(qtbot, window.history.table, model.index(model.row_of(run_id), JOB), "historyContextMenu")
    entries = menu_entries(menu)
    assert entries["Stop run"].isEnabled()
    entries["Stop run"].trigger()
    menu.close()
    wait_killed(window, qtbot, run_id)
    qtbot.waitUntil(lambda: not children(), timeout=10_000)  # the whole tree is gone
    qtbot.waitUntil(lambda: model.record_at(model.row_of(run_id)).status is RunStatus.KILLED, timeout=5000)

    finished = open_context_menu(qtbot, window.history.table, model.index(model.row_of(run_id), JOB), "historyContextMenu")
    assert not menu_entries(finished)["Stop run"].isEnabled()  # nothing left to stop
    finished.close()


def test_stop_from_the_detail_strip_stops_the_selected_jobs_runs(window, qtbot):
    window.service.set_setting("max_concurrent", 3)  # all three start, whatever the cores
    spec = add_sleeper(window, qtbot, overlap=Overlap.PARALLEL, max_parallel=2)
    other = add_sleeper(window, qtbot, name="Other job")
    shown(window, qtbot, window.tabs.widget(0))
    proxy = window.jobs_proxy
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, NAME).data() == spec.name)
    click_index(qtbot, window.jobs_table, proxy.index(row, NAME))
    assert not window.stop_button.isEnabled()  # nothing running yet
    first, second = start(window, qtbot, spec), start(window, qtbot, spec)
    keep = start(window, qtbot, other)
    qtbot.waitUntil(window.stop_button.isEnabled, timeout=5000)
    assert "2 runs" in window.stop_button.toolTip()
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    wait_killed(window, qtbot, first)
    wait_killed(window, qtbot, second)
    qtbot.waitUntil(lambda: not window.stop_button.isEnabled(), timeout=5000)
    assert window.service.get_run(keep).status is RunStatus.RUNNING  # only the selected job's runs
    window.service.cancel_run(keep)
    wait_killed(window, qtbot, keep)


def test_stop_from_the_tray_menu(window, qtbot):
    spec = add_sleeper(window, qtbot)
    window.tray.rebuild_stop_menu()
    assert not window.tray.stop_menu.isEnabled()
    run_id = start(window, qtbot, spec)
    qtbot.waitUntil(window.tray.stop_menu.isEnabled, timeout=5000)
    window.tray.stop_menu.aboutToShow.emit()  # as when the submenu opens
    (entry,) = [a for a in window.tray.stop_menu.actions() if a.data() == run_id]
    assert "Slow export" in entry.text() and f"#{run_id}" in entry.text()
    entry.trigger()
    wait_killed(window, qtbot, run_id)
    qtbot.waitUntil(lambda: not window.tray.stop_menu.isEnabled(), timeout=5000)


def test_running_rows_show_elapsed_time_that_ticks(window, qtbot):
    spec = add_sleeper(window, qtbot)
    run_id = start(window, qtbot, spec)
    shown(window, qtbot, window.history)
    model = window.history.model
    qtbot.waitUntil(lambda: model.row_of(run_id) is not None, timeout=5000)

    def shown_duration() -> str:
        return model.index(model.row_of(run_id), DURATION).data()

    qtbot.waitUntil(lambda: shown_duration() not in ("—", "", None), timeout=3000)
    first = shown_duration()
    qtbot.waitUntil(lambda: shown_duration() != first, timeout=4000)  # the clock moves it on
    assert shown_duration().endswith("s")
    window.service.cancel_run(run_id)
    wait_killed(window, qtbot, run_id)
    qtbot.waitUntil(lambda: not shown_duration().startswith("—"), timeout=3000)  # a final duration
