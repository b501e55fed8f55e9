"""Stress: a worker thread allocates while the GUI thread builds calendar widgets and drops
garbage cycles whose bound methods are connected to Qt signals (NOTES item 34).

    python tests/desktop/gc_stress.py [--seconds 6] [--unguarded]

Guarded (the default) runs with `jobs.main_thread_gc` as the window does and must end with
"ok N" and exit 0. `--unguarded` leaves Python's automatic collection on: a collection started by
the worker finalises PySide objects off the GUI thread, and the process hangs for good or
segfaults (6 of 10 runs of 6 s here; a hang shows as the caller's timeout).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from jobs.pyside_refcount import pin_singletons  # noqa: E402

pin_singletons()

from PySide6.QtCore import QObject, Signal  # noqa: E402
from PySide6.QtWidgets import QApplication, QCalendarWidget, QDateEdit  # noqa: E402

from jobs.main_thread_gc import install_main_thread_collector  # noqa: E402


class Hub(QObject):
    changed = Signal(object)


class PlainReceiver:
    """A plain object in a reference cycle, listening to a long-lived QObject's signal."""

    def __init__(self, hub: Hub) -> None:
        self.me = self
        hub.changed.connect(self.on_changed)

    def on_changed(self, _value: object) -> None:
        pass


class QtReceiver(QObject):
    def __init__(self, hub: Hub) -> None:
        super().__init__()
        self.me = self
        hub.changed.connect(self.on_changed)

    def on_changed(self, _value: object) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--unguarded", action="store_true")
    args = parser.parse_args()
    app = QApplication(sys.argv[:1])
    if not args.unguarded:
        gc.disable()
        install_main_thread_collector()
    hubs = [Hub() for _ in range(64)]
    stop = threading.Event()

    def churn() -> None:  # allocations only: whatever it collects, it did not create
        while not stop.is_set():
            junk = [(i, [i]) for i in range(300)]
            del junk

    worker = threading.Thread(target=churn, name="churn", daemon=True)
    worker.start()
    deadline = time.monotonic() + args.seconds
    rounds = 0
    while time.monotonic() < deadline:
        for hub in hubs:
            PlainReceiver(hub)
            QtReceiver(hub)
        QCalendarWidget().deleteLater()  # dozens of QObject::connect calls each
        QDateEdit(calendarPopup=True).deleteLater()
        app.processEvents()  # runs the collector's timer when it is due
        rounds += 1
    stop.set()
    worker.join()
    print(f"ok {rounds}", flush=True)
    os._exit(0)  # the point was the run, not interpreter teardown


if __name__ == "__main__":
    sys.exit(main())
