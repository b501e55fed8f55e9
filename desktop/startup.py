"""What the window does after its first paint: check the database, then start scheduling.

At 10,000 jobs and 10 million runs the database check of an open (jobs.dbcheck, 1 s budget)
and reconciling the scheduler's store (~1 s) made the first paint wait ~1.2 s longer than with
one job (issue 10). So `run_window` opens the database with only the small tables checked
(`defer_check`) and this sequence does the rest once the window is on screen:

1. the first paint (or at once when the window starts hidden in the tray): the rest of the
   check begins on a worker thread (`JobService.db_check`);
2. scheduling starts when the jobs are shown (the first snapshot, or FALLBACK_MS without one)
   and the check has finished or had the open's whole budget (DEFAULT_BUDGET). Nothing is
   written before that point but what the user does by hand, so a damaged file found in that
   time is left as it was: the check says so (the notice at the top) and scheduling never
   starts. A check that goes on longer runs beside scheduling, as the open's leftover always did.

Scheduling starts in stages (`ScheduleStart`), so the GUI thread never waits long for it.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer

from jobs.dbcheck import DEFAULT_BUDGET

log = logging.getLogger(__name__)

POLL_MS = 50  # how often the GUI thread looks whether the check has gone far enough
FALLBACK_MS = 3000  # scheduling starts without a snapshot after this (a load that failed)


class StartSequence(QObject):
    """Runs the steps above for `window` (a MainWindow made with `start=False`); call `begin()`
    after `show()` (or after deciding to stay hidden)."""

    def __init__(self, window: Any, *, budget: float = DEFAULT_BUDGET) -> None:
        super().__init__(window)
        self.window = window
        self.budget = budget
        self.data_shown = False
        self.done = False
        self._poll = QTimer(self, interval=POLL_MS)
        self._poll.timeout.connect(self._maybe_start)
        window.loader.loaded.connect(self._first_data)

    def begin(self) -> None:
        if self.window.isVisible() and not self.window.isMinimized():
            self.window.installEventFilter(self)
        else:  # hidden in the tray or minimized: no paint to wait for
            QTimer.singleShot(0, self, self._painted)
        QTimer.singleShot(FALLBACK_MS, self, self._fallback)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Paint:
            self.window.removeEventFilter(self)
            QTimer.singleShot(0, self, self._painted)  # after this paint, not inside it
        return False

    def _painted(self) -> None:
        if self.done or self.window.service.db_check.started_at is not None:
            return
        self.window.service.db_check.start()
        self._poll.start()

    def _first_data(self, _snapshot: object) -> None:
        self.window.loader.loaded.disconnect(self._first_data)
        self.data_shown = True
        QTimer.singleShot(0, self, self._maybe_start)  # after the rows are painted

    def _fallback(self) -> None:
        self._painted()  # no paint came (a hidden window that was never exposed)
        self.data_shown = True
        self._maybe_start()

    def _maybe_start(self) -> None:
        check = self.window.service.db_check
        if self.done or not self.data_shown or not check.waited_enough(self.budget):
            if not self.done and not self._poll.isActive():
                self._poll.start()
            return
        self.done = True
        self._poll.stop()
        if self.window.service.damage is not None:
            log.error("database damaged: scheduling does not start")
            return
        self.window.start_service()


def install(window: Any) -> StartSequence:
    sequence = StartSequence(window)
    window.start_sequence = sequence
    return sequence
