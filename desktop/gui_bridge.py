"""Hand a worker thread's result to the GUI thread without touching an object that may be gone.

A worker thread must not emit a signal of a QObject the GUI thread can delete meanwhile (a panel
closed, a window torn down while its query ran): the emit races the deletion and crashes the
process. It did: a segfault in the changes-since loader's `emit` as a test's window closed, 3 of 4
full suite runs in a row. Workers post here instead. The bridge is one QObject made on the GUI
thread and never deleted; its signal reaches the GUI thread through a queued connection (NOTES
item 2), and there the call runs only if its owner still exists.
"""

from __future__ import annotations

import threading
from typing import Callable

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot


class _Bridge(QObject):
    posted = Signal(object)  # (owner QObject, call)

    def __init__(self) -> None:
        super().__init__()
        self.posted.connect(self._deliver)

    @Slot(object)
    def _deliver(self, item: tuple[QObject, Callable[[], object]]) -> None:
        owner, call = item
        if shiboken6.isValid(owner):
            call()


_bridge: _Bridge | None = None


def ensure_bridge() -> None:
    """Make the bridge; call on the GUI thread before starting a worker that will `post`."""
    global _bridge
    if _bridge is None:
        assert threading.current_thread() is threading.main_thread(), "the bridge belongs to the GUI thread"
        _bridge = _Bridge()


def post(owner: QObject, call: Callable[[], object]) -> None:
    """From any thread: run `call` on the GUI thread, unless `owner` was deleted by then."""
    assert _bridge is not None, "ensure_bridge() first, on the GUI thread"
    _bridge.posted.emit((owner, call))
