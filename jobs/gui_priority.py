"""Background Python work that gives way while the GUI thread is busy.

Python runs one thread at a time (the GIL). A window's GUI thread calls into Python thousands of
times per repaint (each cell's data, each delegate), and every call gives the GIL away and waits to
get it back. While a worker thread runs pure Python, such as decoding 10,000 definitions or
summing run durations, each of those waits lasts up to the switch interval. A 10 ms repaint then
took 100-400 ms: measured, a table repaint beside a busy thread took 426 ms against 9 ms alone.

So loops that run on worker threads call `give_way()` every few hundred items (`every`). While the
GUI thread handles events, `give_way` waits until the GUI thread is about to sleep again. It waits
no longer than `BUDGET_S` after the GUI thread's latest event began. So one long event (a GUI
thread that waits for this very worker, say) holds background work up once, for at most that long.
Without a GUI (`serve`, the command line, a Celery worker) nothing is installed and `give_way`
costs one attribute read. The desktop installs the hooks (desktop.gui_gate). This module
imports no Qt.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Iterable, Iterator, TypeVar

BUDGET_S = 0.05  # the longest a worker waits for one event of the GUI thread
LONGEST_WAIT_S = 0.1  # ...and for a stream of events with no idle moment between them
EVERY = 256  # items between two looks at the GUI thread (well under a millisecond of work each)

T = TypeVar("T")


class _Gate:
    def __init__(self) -> None:
        self.installed = False
        self.idle = threading.Event()
        self.busy_since = 0.0
        self.gui_thread: threading.Thread | None = None


_gate = _Gate()


def install(gui_thread: threading.Thread | None = None) -> None:
    """From now on worker threads give way while `gui_thread` (the main thread) is busy; the GUI
    reports it with `gui_busy` and `gui_idle`."""
    _gate.gui_thread = gui_thread or threading.main_thread()
    _gate.idle.set()
    _gate.installed = True


def installed() -> bool:
    return _gate.installed


def uninstall() -> None:
    _gate.installed = False
    _gate.idle.set()  # nobody waits any more


def gui_busy() -> None:
    """The GUI thread begins to handle an event (called on it, for every event: kept cheap)."""
    _gate.busy_since = time.monotonic()
    if _gate.idle.is_set():
        _gate.idle.clear()


def gui_idle() -> None:
    """The GUI thread is about to wait for events."""
    _gate.idle.set()


def give_way() -> None:
    """Called by loops on worker threads: wait while the GUI thread is busy (at most until
    BUDGET_S after its latest event began). Returns at once without a GUI or on the GUI thread."""
    gate = _gate
    if not gate.installed or gate.idle.is_set() or threading.current_thread() is gate.gui_thread:
        return
    until = time.monotonic() + LONGEST_WAIT_S
    while not gate.idle.is_set():
        now = time.monotonic()
        left = min(gate.busy_since + BUDGET_S, until) - now
        if left <= 0:  # one event ran that long (it may wait for this very thread), or events never pause
            return
        gate.idle.wait(left)


def fetched_in_parts(result: Any, size: int = EVERY) -> Iterator[Any]:
    """The rows of a query `result` (a cursor or SQLAlchemy result), `size` at a time, giving
    way between parts: one `.all()` of 10,000 rows held the GIL ~50-100 ms in a single call."""
    while rows := result.fetchmany(size):
        give_way()
        yield from rows


def every(items: Iterable[T], count: int = EVERY) -> Iterator[T]:
    """`items`, giving way to the GUI thread every `count` of them."""
    for index, item in enumerate(items):
        if not index % count:
            give_way()
        yield item
