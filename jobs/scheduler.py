"""APScheduler's QtScheduler, fixed: one timer, safe wake-ups, a loop that never dies.

Stock `QtScheduler` (3.11.3) keeps the return value of the static `QTimer.singleShot`, which is
None, so `_stop_timer` cancels nothing and every `wakeup()` starts another self-re-arming chain
(NOTES item 1: 200 `add_job` calls gave ~1,000 `_process_jobs` calls in 2 s). Here one
single-shot QTimer, owned by a QObject on the GUI thread, is restarted, never duplicated;
`wakeup()` from a worker thread reaches it through a queued signal (item 2); a store error inside
the loop is logged and retried (item 3); the timer is precise and rounds up (item 4), capped at
2^31-1 ms (item 5). `ClockWatchdog` wakes the scheduler after suspend or a clock jump (item 6).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import datetime
from typing import Any, Callable

from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.qt import QtScheduler
from PySide6.QtCore import QObject, QThread, QTimer, Qt, Signal

log = logging.getLogger(__name__)

MAX_TIMER_MS = 2**31 - 1
EARLY_WAKE_MAX = 0.002  # seconds the GUI thread may sleep to hit a due time exactly
_STOP = -1.0


class _WakeupTimer(QObject):
    """Owns the scheduler's one QTimer; `arm` may be called from any thread."""

    _arm_requested = Signal(float)

    def __init__(self, on_timeout: Callable[[], None]) -> None:
        super().__init__()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(on_timeout)
        self._arm_requested.connect(self._arm_here, Qt.ConnectionType.QueuedConnection)

    def arm(self, seconds: float | None) -> None:
        """Fire once after `seconds` (replacing any pending shot); None stops the timer."""
        value = _STOP if seconds is None else max(0.0, seconds)
        if QThread.currentThread() is self.thread():
            self._arm_here(value)
        else:
            self._arm_requested.emit(value)

    def _arm_here(self, seconds: float) -> None:
        self._timer.stop()
        if seconds != _STOP:
            # Qt counts whole milliseconds: aim up to 1 ms early and let the scheduler sleep the
            # sub-millisecond rest (`JobdeskScheduler._process_jobs`). Rounding up instead would
            # add 0.5 ms to every fire on average; firing early would cost a wasted pass.
            self._timer.start(min(max(0, math.ceil(seconds * 1000) - 1), MAX_TIMER_MS))

    @property
    def active(self) -> bool:
        return self._timer.isActive()


class JobdeskScheduler(QtScheduler):
    """QtScheduler with one owned timer. Create it on the thread running the Qt event loop."""

    def __init__(self, **options: Any) -> None:
        self._timer_owner = _WakeupTimer(self._process_jobs)
        self.process_count = 0  # passes over the store, for tests and benchmarks
        self.due_wall_time: float | None = None  # wall clock of the next planned pass
        self.after_pass: Callable[[], None] | None = None  # called after each pass (jobs.wake_digest)
        super().__init__(**options)

    def _start_timer(self, wait_seconds: float | None) -> None:
        self.due_wall_time = None if wait_seconds is None else time.time() + wait_seconds
        self._timer_owner.arm(wait_seconds)

    def _stop_timer(self) -> None:
        self.due_wall_time = None
        self._timer_owner.arm(None)

    def wakeup(self) -> None:
        self._start_timer(0)

    def _process_jobs(self) -> None:  # type: ignore[override]
        if self.due_wall_time is not None:
            early = self.due_wall_time - time.time()
            if 0 < early <= EARLY_WAKE_MAX:
                time.sleep(early)  # at most ~1 ms; see _WakeupTimer._arm_here
        self.process_count += 1
        started = time.perf_counter()
        try:
            wait_seconds = BaseScheduler._process_jobs(self)
        except Exception:
            # A "database is locked" in update_job/remove_job must not end scheduling.
            log.exception("scheduler pass failed; retrying in %ss", self.jobstore_retry_interval)
            wait_seconds = self.jobstore_retry_interval
        if self.process_count == 1:  # start-up is over: say so, with what it cost (issue 10)
            log.info("first scheduler pass done in %.0f ms; next in %s s", 1000 * (time.perf_counter() - started),
                     "-" if wait_seconds is None else f"{wait_seconds:.1f}")  # fmt: skip

        if self.running:
            self._start_timer(wait_seconds)
        if self.after_pass is not None:
            try:
                self.after_pass()
            except Exception:
                log.exception("after-pass hook failed")


class SlicedJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy store handing at most DUE_PER_PASS due jobs to one pass.

    A pass runs on the GUI thread, and each due job costs its unpickling, our dispatch (a
    history row, events) and its row's update: at 10,000 jobs the ~100 every-minute ones fell
    due together and froze the window for 0.3-1 s each minute and at start (issue 10). The
    rest stay due, so the pass ends with a wait of 0 and the next pass takes the next ones
    once the event loop has turned (our timer is single-shot and restarted, never stacked).
    """

    DUE_PER_PASS = 2  # ~13 ms each with the window's handlers (README): a pass stays under 50 ms

    def get_due_jobs(self, now: datetime) -> list[Any]:
        from apscheduler.util import datetime_to_utc_timestamp
        from sqlalchemy import select

        table = self.jobs_t
        query = (select(table.c.id).where(table.c.next_run_time <= datetime_to_utc_timestamp(now))
                 .order_by(table.c.next_run_time, table.c.id).limit(self.DUE_PER_PASS))  # fmt: skip
        with self.engine.connect() as conn:
            ids = list(conn.execute(query).scalars())
        if not ids:
            return []
        return list(self._get_jobs(table.c.id.in_(ids)))  # (in next_run_time order)


class DispatchExecutor(BaseExecutor):
    """Hands due (job id, run times) to Jobdesk's dispatcher instead of running a callable.

    APScheduler would check lateness when a pool thread *starts* the job, so waiting for a free
    thread counted as "missed" (NOTES item 15), and max_instances silently drops runs (item 17).
    Both policies live in our dispatcher; this executor only forwards, and never refuses.
    """

    def __init__(self, on_due: Callable[[str, list[datetime]], None]) -> None:
        super().__init__()
        self._on_due = on_due

    def submit_job(self, job: Any, run_times: list[datetime]) -> None:
        try:
            self._on_due(job.id, list(run_times))
        except Exception:
            log.exception("could not hand job %s to the dispatcher", job.id)

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:  # pragma: no cover
        raise AssertionError("submit_job is overridden")


class ClockWatchdog(QObject):
    """Wakes the scheduler when the wall clock and the monotonic clock disagree.

    Qt timers run on the monotonic clock, which stops while Linux sleeps: a run due during
    suspend would fire hours late and then be judged missed (Vorta #777, #1214). Every
    `interval` seconds this compares both clocks, and also checks that the planned pass is not
    overdue by the wall clock; either way it forces a pass so the missed-run policy acts at once.
    """

    woke = Signal(float)  # the detected gap in seconds

    def __init__(self, scheduler: JobdeskScheduler, interval: float = 30.0, tolerance: float = 5.0) -> None:
        super().__init__()
        self._scheduler = scheduler
        self._tolerance = tolerance
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval * 1000))
        self._timer.timeout.connect(self.check)
        # The clocks compared; replaceable so that a test can make a real pause look like a
        # suspend (a real one cannot be had in a test).
        self.wall: Callable[[], float] = time.time
        self.monotonic: Callable[[], float] = time.monotonic
        self._last_wall = self.wall()
        self._last_mono = self.monotonic()
        self.last_jump: tuple[float, float] | None = None  # wall clock before and after the last gap

    def start(self) -> None:
        self._last_wall, self._last_mono = self.wall(), self.monotonic()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def check(self) -> None:
        wall, mono = self.wall(), self.monotonic()
        gap = (wall - self._last_wall) - (mono - self._last_mono)
        if abs(gap) > self._tolerance:
            self.last_jump = (self._last_wall, wall)
        self._last_wall, self._last_mono = wall, mono
        due = self._scheduler.due_wall_time
        overdue = due is not None and wall > due + self._tolerance
        if abs(gap) > self._tolerance or overdue:
            log.warning(
                "clock jumped by %.1fs (sleep/resume or clock change)%s; waking the scheduler",
                gap, ", next pass overdue" if overdue else "",
            )
            self._scheduler.wakeup()
            self.woke.emit(gap)


def on_gui_thread() -> bool:
    return threading.current_thread() is threading.main_thread()
