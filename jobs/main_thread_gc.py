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

The timer speeds up while threads allocate fast. A collection walks every object allocated
since the last one, and a worker building a snapshot of 10,000 jobs allocates ~100,000 objects
in 250 ms: collected all at once, that froze the window 20-80 ms a time (gen 0 and gen 1,
measured with gc.callbacks at 10,000 jobs). Checking every BUSY_INTERVAL_MS while the youngest
count keeps passing BUSY_COUNT walks the same objects in slices a few milliseconds long; an
idle process goes back to one check every CHECK_INTERVAL_MS.

Full collections walk every long-lived object (tens of milliseconds at 10,000 jobs), and
checking sooner would make them come sooner too. CPython itself puts a full collection off until
the long-lived objects grew by a quarter, a count it does not expose; here one comes at most
every FULL_EVERY_S (and not before that long after start-up, while the window loads).

A load that makes objects meant to live on (the window's jobs snapshot: ~250,000 at 10,000 jobs)
holds collections off while it runs (`hold`): each one walked what the load had made so far,
and the rows, records and definitions it was still working on (15-55 ms for 40,000-65,000 young
objects, 25-65 ms for gen 1, at 10,000 jobs). Once the window shows the load it freezes what is
alive (`gc.freeze`, as CPython documents for long-lived objects), so no collection walks it
again; what the load dropped was freed by reference counting. Loads back to back (the catch-up
after Jobdesk was closed a while: one every few seconds for a minute or more) would hold it for
good; past HELD_LONGEST_S or HELD_MOST young objects it freezes them too instead of walking them
(collecting 10 s of them froze the window 120-190 ms; a freeze moves a list, whatever its size).
Garbage in cycles frozen with it stays until the collector thaws everything, collects and
freezes again, at most every THAW_EVERY_S (cycles are rare here: collections found 0-10 objects at 10,000 jobs).
"""

from __future__ import annotations

import gc
import logging
import threading
import time

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QTimer

log = logging.getLogger(__name__)

CHECK_INTERVAL_MS = 250
BUSY_INTERVAL_MS = 20
BUSY_COUNT = 3000  # youngest generation's count at a check above which the next check comes sooner
FULL_EVERY_S = 30.0
HELD_MOST = 1_000_000  # young objects past which a held collector freezes them (see above)
HELD_LONGEST_S = 10.0  # ...and time: loads back to back (a catch-up, a burst of runs) hold it no longer
THAW_EVERY_S = 1800.0  # frozen objects are collected this often (a full walk: ~170 ms at 10,000 jobs)

_installed: MainThreadCollector | None = None


class MainThreadCollector(QObject):
    """Collects the generations whose allocation counts passed their thresholds, on its thread."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = CHECK_INTERVAL_MS,
                 busy_interval_ms: int = BUSY_INTERVAL_MS) -> None:  # fmt: skip
        super().__init__(parent)
        self._intervals = (interval_ms, min(interval_ms, busy_interval_ms))
        self.setObjectName("mainThreadCollector")
        # Python's defaults (700, 10, 10) unless the program changed them before switching off.
        self._thresholds = gc.get_threshold()
        self.collections = [0, 0, 0]  # per generation, for tests
        self.freezes = 0  # young objects frozen by a hold that lasted too long, for tests
        self._full_at = self._thawed_at = time.monotonic()
        self._held = False
        self._free_at = time.monotonic()  # the last check that was not held
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
        if generation == 2 and time.monotonic() - self._full_at < FULL_EVERY_S:
            generation = 1  # the younger ones are collected meanwhile
        now = time.monotonic()
        if now - self._thawed_at > THAW_EVERY_S and gc.get_freeze_count():
            self._thaw()
        elif self._held:
            generation = -1  # frozen once the window shows them (desktop.app.freeze_alive)...
            if counts[0] >= HELD_MOST or now - self._free_at >= HELD_LONGEST_S:
                gc.freeze()  # ...or now, if the loads go on (see the module's docstring)
                self.freezes += 1
                self._free_at = now
        else:
            self._free_at = now
        if generation >= 0:
            gc.collect(generation)
            self.collections[generation] += 1
            if generation == 2:
                self._full_at = time.monotonic()
        idle, busy = self._intervals
        self._timer.setInterval(busy if counts[0] > BUSY_COUNT else idle)

    def hold(self, held: bool) -> None:
        """While held, nothing is collected (a load is making long-lived objects, frozen once
        they are in use). Connected to the window's loader."""
        self._held = held

    def _thaw(self) -> None:
        """Collect the frozen objects too, once in a long while: cycles that died after they
        were frozen are freed then."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._thawed_at = self._full_at = time.monotonic()
        self.collections[2] += 1

    @property
    def interval_ms(self) -> int:
        """Milliseconds to the next check (short while threads allocate fast)."""
        return self._timer.interval()


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
