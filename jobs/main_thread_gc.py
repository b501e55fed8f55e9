"""Python's cyclic garbage collector runs on the Qt (main) thread only (NOTES item 34).

Any thread that allocates can start a collection, and a collection finalises whatever garbage
it finds, PySide objects included. A worker thread that finalises a PySide object disconnects
its signals with the GIL released and then waits for the GIL, while the GUI thread, holding the
GIL, waits in `QObject::connect` for the Qt mutex the worker holds: the process hangs for good
(3 of 4 full test runs here), or crashes when the object is deleted under the GUI thread's feet.
Measured with `tests/desktop/gc_stress.py`: 6 of 10 unguarded runs hung or segfaulted within
6 s, 0 of 10 guarded.

So, as pyqtgraph and OpenCue's Qt GUI do: automatic collection is switched off for the whole
process, and a timer on the main thread's event loop collects whenever the allocation counts
pass the interpreter's own thresholds, i.e. about as often as Python would have, but always on
the thread that owns the Qt objects. Worker threads never hold Qt objects, so reference counting
alone frees what they drop.
"""

from __future__ import annotations

import gc
import logging
import threading

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QTimer

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 250

_installed: MainThreadCollector | None = None


class MainThreadCollector(QObject):
    """Collects the generations whose allocation counts passed their thresholds, on its thread."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.setObjectName("mainThreadCollector")
        # Python's defaults (700, 10, 10) unless the program changed them before switching off.
        self._thresholds = gc.get_threshold()
        self.collections = [0, 0, 0]  # per generation, for tests
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    def start(self) -> None:
        gc.disable()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def check(self) -> None:
        """Collect the oldest generation whose count is over its threshold (with the younger ones)."""
        counts = gc.get_count()
        generation = -1
        for candidate in range(3):
            if counts[candidate] > self._thresholds[candidate]:
                generation = candidate
        if generation >= 0:
            gc.collect(generation)
            self.collections[generation] += 1


def install_main_thread_collector() -> MainThreadCollector:
    """Switch automatic collection off and collect from the application's thread (idempotent).

    Needs a Q(Core)Application; call on its thread. The collector lives as long as the app.
    """
    global _installed
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("install_main_thread_collector needs a QCoreApplication")
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("install_main_thread_collector must be called on the main thread")
    if _installed is None or not shiboken6.isValid(_installed) or _installed.parent() is not app:
        _installed = MainThreadCollector(app)
        _installed.start()
        log.debug("cyclic garbage collection moved to the main thread")
    return _installed
