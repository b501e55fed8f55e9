"""`Throttle`: run a refresh at once, then at most once per interval while requests keep coming.

A burst of run events (~100 runs due together at 10,000 jobs) asked for the same refresh a few
hundred times a second, each one a few milliseconds of the GUI thread. The first request runs
at once (a single event shows without delay, as before); requests during the next `interval_ms`
are merged into one run at its end, and so on while they keep coming.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, QTimer, Slot

THROTTLE_MS = 100


class Throttle(QObject):
    def __init__(self, refresh: Callable[[], None], interval_ms: int = THROTTLE_MS,
                 parent: QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self._refresh = refresh
        self._asked = False  # a request came while the timer ran
        self._timer = QTimer(self, singleShot=True, interval=interval_ms)
        self._timer.timeout.connect(self._on_timeout)

    def request(self) -> None:
        if self._timer.isActive():
            self._asked = True
            return
        self._timer.start()
        self._refresh()

    @Slot()
    def _on_timeout(self) -> None:
        if self._asked:
            self._asked = False
            self._timer.start()  # requests keep coming: stay throttled
            self._refresh()
