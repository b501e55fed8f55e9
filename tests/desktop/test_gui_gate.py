"""jobs.gui_priority with desktop.gui_gate on a real event loop: a worker's loop stops while the
GUI thread handles an event, goes on once the GUI thread waits for events again, and is held up
at most about BUDGET_S by one long event (a GUI thread waiting for this very worker must not
wait for ever). A local run's thread gives way the same way at both ends of the run."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QCoreApplication, QTimer

from desktop.gui_gate import install_gui_gate
from jobs import gui_priority
from jobs.model import CronSpec, JobSpec, RunStatus
from tests.conftest import py


@pytest.fixture
def gate(qapp):
    install_gui_gate()  # as every window does (desktop.app.create_window); it stays for the app
    assert gui_priority.installed()


@pytest.fixture
def no_gate():
    was = gui_priority.installed()
    gui_priority.uninstall()
    yield
    if was:
        gui_priority.install()


class Worker:
    """Counts items through `gui_priority.every`, as the loaders' loops do."""

    def __init__(self, items: int = 10**9) -> None:
        self.done = 0
        self.stop = False
        self.thread = threading.Thread(target=self._run, args=(items,), daemon=True)

    def _run(self, items: int) -> None:
        for _ in gui_priority.every(range(items), 16):
            if self.stop:
                return
            self.done += 1
            time.sleep(0.0001)  # an item's work, with the GIL let go (the GUI thread never waits for it)


def test_without_a_gate_a_worker_never_waits(no_gate):
    worker = Worker(2000)
    worker.thread.start()
    worker.thread.join(10)
    assert worker.done == 2000


def test_a_worker_stops_while_the_gui_thread_handles_an_event_and_goes_on_after(gate, qtbot):
    worker = Worker()
    worker.thread.start()
    qtbot.waitUntil(lambda: worker.done > 100, timeout=5000)
    during: list[int] = []

    def busy_event() -> None:  # a slot of the GUI thread that takes 30 ms (without the GIL)
        time.sleep(0.005)  # the worker reaches its next look at the GUI thread
        start = worker.done
        time.sleep(0.03)
        during.append(worker.done - start)

    QTimer.singleShot(0, busy_event)
    qtbot.waitUntil(lambda: bool(during), timeout=5000)
    after = worker.done
    qtbot.wait(50)  # the GUI thread waits for events: the worker goes on
    worker.stop = True
    worker.thread.join(5)
    assert during[0] <= 16  # at most the rest of one slice
    assert worker.done > after + 16


def test_one_long_event_holds_a_worker_up_only_for_the_budget(gate, qtbot):
    worker = Worker()
    worker.thread.start()
    qtbot.waitUntil(lambda: worker.done > 100, timeout=5000)
    during: list[int] = []

    def long_event() -> None:  # e.g. the GUI thread joining this very worker
        time.sleep(0.005)
        start = worker.done
        time.sleep(gui_priority.BUDGET_S + 0.25)
        during.append(worker.done - start)

    QTimer.singleShot(0, long_event)
    qtbot.waitUntil(lambda: bool(during), timeout=5000)
    worker.stop = True
    worker.thread.join(5)
    assert during[0] > 16  # it went on once the budget was spent


def events_without_a_pause(seconds: float) -> None:
    """On the GUI thread: handle events one after the other for `seconds`, never waiting for more
    (each one marks the GUI thread busy again; it is never idle meanwhile)."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        QTimer.singleShot(0, lambda: None)
        QCoreApplication.processEvents()  # handles it without ever waiting: no idle moment
        time.sleep(0.002)


def test_a_stream_of_events_without_a_pause_holds_a_worker_up_only_for_the_longest_wait(gate, qtbot):
    """Events one after the other for 400 ms, never waiting for more (each one refreshes "busy"):
    the worker still goes on at least every LONGEST_WAIT_S."""
    worker = Worker()
    worker.thread.start()
    qtbot.waitUntil(lambda: worker.done > 100, timeout=5000)
    during: list[int] = []

    def busy_stream() -> None:
        start = worker.done
        events_without_a_pause(gui_priority.LONGEST_WAIT_S * 4)
        during.append(worker.done - start)

    QTimer.singleShot(0, busy_stream)
    qtbot.waitUntil(lambda: bool(during), timeout=5000)
    worker.stop = True
    worker.thread.join(5)
    assert during[0] > 16


# --- runs (jobs.runners.local): a burst of runs must not take the GIL from a repaint ----------------


def _job(service, command: tuple[str, ...]) -> str:
    return service.add_job(JobSpec(name="quick", command=command, trigger=CronSpec("0 0 1 1 *", "UTC"))).id


def test_a_run_asked_for_during_a_gui_event_starts_its_process_after_the_event(gate, service, qtbot):
    job_id = _job(service, py("pass"))
    asked: list[int] = []
    event_ended: list[float] = []

    def busy_event() -> None:  # the GUI thread handles something for 20 ms (well inside BUDGET_S)
        asked.append(service.run_now(job_id))
        time.sleep(0.02)
        event_ended.append(time.time())

    QTimer.singleShot(0, busy_event)
    qtbot.waitUntil(lambda: bool(event_ended), timeout=5000)
    record = service.wait_for_run(asked[0], timeout=20)
    assert record is not None and record.status is RunStatus.SUCCEEDED
    assert record.started_at is not None and record.started_at.timestamp() >= event_ended[0]


def test_the_end_of_a_run_during_a_gui_event_is_recorded_after_the_event(gate, service, qtbot, tmp_path):
    go = tmp_path / "go"
    job_id = _job(service, py(f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.002)"))
    run_id = service.run_now(job_id)

    def running() -> bool:
        record = service.get_run(run_id)  # None until its row is written
        return record is not None and record.status is RunStatus.RUNNING

    qtbot.waitUntil(running, timeout=10_000)
    during: list[bool] = []

    def busy_stream() -> None:  # the process ends at the start of 60 ms of GUI events
        go.touch()
        events_without_a_pause(0.06)  # (a stream: the thread waits up to LONGEST_WAIT_S)
        during.append(running())

    QTimer.singleShot(0, busy_stream)
    qtbot.waitUntil(lambda: bool(during), timeout=5000)
    assert during == [True]  # its thread waits to record the end
    record = service.wait_for_run(run_id, timeout=20)
    assert record is not None and record.status is RunStatus.SUCCEEDED
