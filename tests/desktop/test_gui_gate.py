"""jobs.gui_priority with desktop.gui_gate on a real event loop: a worker's loop stops while the
GUI thread handles an event, goes on once the GUI thread waits for events again, and is held up
at most about BUDGET_S by one long event (a GUI thread waiting for this very worker must not
wait for ever)."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QTimer

from desktop.gui_gate import install_gui_gate
from jobs import gui_priority


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


def test_a_stream_of_events_without_a_pause_holds_a_worker_up_only_for_the_longest_wait(gate, qtbot):
    """Events one after the other for 400 ms, never waiting for more (each one refreshes "busy"):
    the worker still goes on at least every LONGEST_WAIT_S."""
    from PySide6.QtCore import QCoreApplication

    worker = Worker()
    worker.thread.start()
    qtbot.waitUntil(lambda: worker.done > 100, timeout=5000)
    during: list[int] = []

    def busy_stream() -> None:
        start, until = worker.done, time.monotonic() + gui_priority.LONGEST_WAIT_S * 4
        while time.monotonic() < until:
            QTimer.singleShot(0, lambda: None)
            QCoreApplication.processEvents()  # handles it without ever waiting: no idle moment
            time.sleep(0.002)
        during.append(worker.done - start)

    QTimer.singleShot(0, busy_stream)
    qtbot.waitUntil(lambda: bool(during), timeout=5000)
    worker.stop = True
    worker.thread.join(5)
    assert during[0] > 16
