"""The window's start catches up missed runs off the GUI thread (desktop.startup, issue 10): the
catch-up's rows and runs are written by a worker, their events reach the window queued, and
what the missed-run policy decides is what a start in one go decides."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt

from desktop import startup
from jobs.history import HistoryQuery
from jobs.model import JobSpec, RunCause, RunStatus
from tests.conftest import py
from tests.jobs.test_staged_start import DAILY, closed_for_days


def test_a_window_start_catches_up_on_a_worker_and_shows_what_it_did(data_dir, qtbot):
    from desktop.app import create_window

    collapse, *strict = closed_for_days(data_dir, [
        JobSpec(name="collapse", command=py("pass"), trigger=DAILY),
        *[JobSpec(name=f"strict {i}", command=py("pass"), trigger=DAILY, misfire_grace=1, coalesce=False) for i in range(5)],
    ], days=3)  # fmt: skip
    window = create_window(data_dir, start=False, defer_check=True)
    qtbot.addWidget(window, before_close_func=lambda w: w.shutdown())
    announced: list[tuple[str, bool]] = []  # (signal, on the GUI thread) as the service emitted them
    for name in ("run_queued", "run_started", "runs_recorded"):
        getattr(window.service.events, name).connect(
            lambda _record, name=name: announced.append((name, threading.current_thread() is threading.main_thread())),
            Qt.ConnectionType.DirectConnection)  # fmt: skip
    sealed_on_gui: list[bool] = []  # the wake-up digest's gathering, a write: off the GUI thread too
    window.service.events.digest_changed.connect(
        lambda *_: sealed_on_gui.append(threading.current_thread() is threading.main_thread()),
        Qt.ConnectionType.DirectConnection)  # fmt: skip
    sequence = startup.install(window)
    window.resize(1000, 700)
    window.show()
    sequence.begin()
    try:
        qtbot.waitUntil(lambda: sequence.done and sequence.schedule_start is not None and sequence.schedule_start.done,
                        timeout=30_000)  # fmt: skip
        assert window.service.scheduling and window.service.scheduler.state == 1
        assert ("runs_recorded", False) in announced
        # the catch-up run: its thread gives way to a busy GUI thread first (jobs.runners.local)
        qtbot.waitUntil(lambda: bool({name for name, _ in announced} & {"run_queued", "run_started"}), timeout=10_000)
        assert not [name for name, on_gui in announced if on_gui]  # the catch-up wrote nothing from the GUI thread
        qtbot.waitUntil(lambda: sealed_on_gui == [False], timeout=10_000)
        qtbot.waitUntil(lambda: window.service.history.count(HistoryQuery(job_id=collapse.id)) == 3, timeout=10_000)
        runs = window.service.query_history(HistoryQuery(job_id=collapse.id))
        assert [r.cause for r in runs if r.status is not RunStatus.MISSED] == [RunCause.CATCH_UP]
        for spec in strict:
            assert [r.status for r in window.service.query_history(HistoryQuery(job_id=spec.id))] == [RunStatus.MISSED] * 3
        # the window heard of them: each job's last run in the table
        qtbot.waitUntil(lambda: all(window.jobs_model.last_run(spec.id) is not None for spec in (collapse, *strict)),
                        timeout=10_000)  # fmt: skip
    finally:
        window.shutdown()
