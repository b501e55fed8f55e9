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

Scheduling starts in stages (`ScheduleStart`, jobs.service_start): the definitions and the
scheduler's store are read and judged on a worker thread, the jobs that need more (those past
due, the changed ones) get it on the GUI thread in slices of SLICE_S, with the event loop turning
between them, so the window stays usable while it starts; their catch-up (missed rows, catch-up
runs) is carried out on a worker thread, its events reaching the window queued.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QMessageBox

from desktop import desktop_service
from desktop.gui_bridge import ensure_bridge, post
from jobs.dbcheck import DEFAULT_BUDGET
from jobs.service_start import StagedStart, import_ahead
from jobs.quick_thread import start_soon

log = logging.getLogger(__name__)

POLL_MS = 50  # how often the GUI thread looks whether the check has gone far enough
FALLBACK_MS = 3000  # scheduling starts without a snapshot after this (a load that failed)
SLICE_S = 0.015  # GUI-thread work per turn of the event loop while scheduling starts


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
        start_soon(import_ahead)  # the modules scheduling needs, off the GUI thread
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
        self.schedule_start = ScheduleStart(self.window)
        self.schedule_start.begin()


class ScheduleStart(QObject):
    """`MainWindow.start_service` in stages (see the module docstring); `done` when scheduling."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.staged = StagedStart(window.service, seal_in_background=True)
        self.done = False
        self.took: dict[str, float] = {"prepare": 0.0, "read": 0.0, "longest slice": 0.0, "finish": 0.0}  # longest part, s
        self.slices = 0

    def begin(self) -> None:
        service = self.window.service
        if self.window._closed_for_good or service.scheduling:
            return
        desktop_service.warm_up()  # before the first run can end and be told
        self._in_parts(self.staged.prepare_parts(), "prepare", self._start_reading)

    def _in_parts(self, parts: list[Callable[[], None]], name: str, then: Callable[[], None]) -> None:
        """Run `parts` one per turn of the event loop, then `then`."""
        if self.window._closed_for_good:
            return
        started = time.perf_counter()
        try:
            parts.pop(0)()
        except Exception as exc:
            self._failed(exc)
            return
        self.took[name] = max(self.took[name], time.perf_counter() - started)
        QTimer.singleShot(0, self, (lambda: self._in_parts(parts, name, then)) if parts else then)

    def _start_reading(self) -> None:
        ensure_bridge()
        start_soon(self._read)  # never waits on the GUI thread (jobs.quick_thread)

    def _read(self) -> None:
        """The worker thread: reads only; what it found goes back through the bridge."""
        started = time.perf_counter()
        try:
            self.staged.read()
            self.took["read"] = time.perf_counter() - started
        except Exception:  # read again on the GUI thread by `step`, which reports what fails there
            log.exception("reading the jobs to schedule failed; trying again")
        post(self, self._step)

    def _step(self) -> None:
        if self.window._closed_for_good:
            return
        started = time.perf_counter()
        try:
            more = not self.staged.step(time.monotonic() + SLICE_S, catch_up=False)
            self.slices += 1
            self.took["longest slice"] = max(self.took["longest slice"], time.perf_counter() - started)
            if more:
                QTimer.singleShot(0, self, self._step)  # the rest after the event loop turned
                return
        except Exception as exc:
            self._failed(exc)
            return
        start_soon(self._catch_up)  # the catch-up runs, off the GUI thread; then `finish`

    def _catch_up(self) -> None:
        """The worker thread: the catch-up's writes and runs (their events come queued)."""
        started = time.perf_counter()
        try:
            self.staged.catch_up(stop=lambda: self.window._closed_for_good)
        except Exception as exc:
            if self.window._closed_for_good:  # the window closed under it: the service is stopping
                log.info("catch-up stopped by the close: %s", exc)
                return
            log.exception("catching up missed runs failed")
            post(self, lambda: self._failed(exc))
            return
        self.took["catch-up"] = time.perf_counter() - started
        post(self, lambda: self._in_parts(self.staged.finish_parts(), "finish", self._started))

    def _started(self) -> None:
        self.done = True
        log.info("scheduling %d job(s); started in %d slice(s) (GUI thread, ms: %s; on workers: read %.0f ms, "
                 "catch-up %.0f ms)", self.window.jobs_model.rowCount(), self.slices,
                 ", ".join(f"{name} {1000 * took:.0f}" for name, took in self.took.items() if name not in ("read", "catch-up")),
                 1000 * self.took["read"], 1000 * self.took.get("catch-up", 0.0))  # fmt: skip
        self.window.loader.request()
        self.window.refresh_status()

    def _failed(self, exc: Exception) -> None:
        log.exception("the scheduler did not start")
        QMessageBox.critical(self.window, "Jobdesk cannot schedule", f"The scheduler did not start: {exc}")


def install(window: Any) -> StartSequence:
    sequence = StartSequence(window)
    window.start_sequence = sequence
    return sequence
