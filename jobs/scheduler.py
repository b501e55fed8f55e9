"""APScheduler's QtScheduler, fixed: one timer, safe wake-ups, a loop that never dies, and its
passes off the GUI thread.

Stock `QtScheduler` (3.11.3) keeps the return value of the static `QTimer.singleShot`, which is
None, so `_stop_timer` cancels nothing and every `wakeup()` starts another self-re-arming chain
(NOTES item 1: 200 `add_job` calls gave ~1,000 `_process_jobs` calls in 2 s). Here one
single-shot QTimer, owned by a QObject on the GUI thread, is restarted, never duplicated; the
pass thread arms it through a queued signal (item 2); a store error inside
the loop is logged and retried (item 3); the timer is precise and rounds up (item 4), capped at
2^31-1 ms (item 5). `ClockWatchdog` wakes the scheduler after suspend or a clock jump (item 6).

The timer only says when. The pass itself (reading due jobs, our dispatch, writing each job's
next run time) runs on one thread of its own, `jobdesk-scheduler` (`_Passes`): on the GUI thread
the minute's burst at 10,000 jobs was ~60 passes of 13 ms median and up to 46 ms each, and their
writes waited there for other writers (issue 10; on a loaded machine the worst stalls around the
minute fell by a quarter to a third). APScheduler guards its stores with its own lock for
exactly this (BackgroundScheduler works so). `wakeup()` asks the pass thread directly.
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
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.qt import QtScheduler
from PySide6.QtCore import QObject, QThread, QTimer, Qt, Signal

from jobs.gui_priority import give_way

log = logging.getLogger(__name__)

MAX_TIMER_MS = 2**31 - 1
EARLY_WAKE_MAX = 0.002  # seconds the pass thread may sleep to hit a due time exactly
COALESCE_S = 0.002  # a wake-up's pass waits this long for the wake-ups right behind it
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


class _Passes:
    """Runs `run` (the scheduler's passes) on one daemon thread, one call at a time. `request`
    from any thread: a request while a call runs means one more call after it (they coalesce)."""

    PASS_THREAD = "jobdesk-scheduler"

    def __init__(self, run: Callable[[], None]) -> None:
        self._run = run
        self._wanted = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stopped = False
        self._coalesce = False  # a wake-up asked: wait COALESCE_S before the call
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def request(self, *, coalesce: bool = False) -> None:
        """`coalesce`: the call may wait COALESCE_S for more requests (wake-ups: 200 adds in a
        row, each taking the store lock after a pass, otherwise cost a pass each)."""
        if self._stopped:
            return
        if coalesce:
            self._coalesce = True
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._serve, name=self.PASS_THREAD, daemon=True)
                    self._thread.start()
        self._wanted.set()

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self, timeout: float = 10.0) -> None:
        """No call starts any more; wait (at most `timeout`) for the one under way."""
        self._stopped = True
        self._wanted.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._idle.wait(timeout)

    def _serve(self) -> None:
        while True:
            self._wanted.wait()
            self._idle.clear()  # before looking at _stopped: `stop` then sees this call or none
            if self._stopped:
                self._idle.set()
                return
            if self._coalesce:
                self._coalesce = False
                time.sleep(COALESCE_S)  # (wake-ups only: a due time the timer says is not delayed)
            self._wanted.clear()
            try:
                self._run()
            except Exception:  # _run logs its own; this keeps the thread for the next request
                log.exception("scheduler passes failed")
            finally:
                self._idle.set()


class JobdeskScheduler(QtScheduler):
    """QtScheduler with one owned timer and its passes on a thread of their own (module doc).
    Create it on the thread running the Qt event loop."""

    def __init__(self, **options: Any) -> None:
        self._passes = _Passes(self._run_passes)
        self._timer_owner = _WakeupTimer(self._request_pass)
        self.process_count = 0  # passes over the store, for tests and benchmarks
        self.due_wall_time: float | None = None  # wall clock of the next planned pass
        # Called on the pass thread after each pass, once its store writes are done (jobs.service
        # tells of the jobs that fired only then; jobs.wake_digest)
        self.after_pass: list[Callable[[], None]] = []
        self.caught_up = True  # the latest pass left nothing due now (for after-pass hooks)
        super().__init__(**options)

    def _start_timer(self, wait_seconds: float | None) -> None:
        self.due_wall_time = None if wait_seconds is None else time.time() + wait_seconds
        self._timer_owner.arm(wait_seconds)

    def _stop_timer(self) -> None:
        self.due_wall_time = None
        self._timer_owner.arm(None)

    def wakeup(self) -> None:
        """A pass now (a job added or changed, a resume, a clock jump). Asked of the pass thread
        directly, not through the timer: the end of a pass under way arms the timer from what it
        read before this, and that queued arm would cancel a wake-up made meanwhile (a job added
        during a pass never fired, 3 test runs in 4). A request during a pass is one more pass."""
        self.due_wall_time = time.time()  # a pass is due now (ClockWatchdog: not overdue)
        self._passes.request(coalesce=True)

    def start(self, paused: bool = False) -> None:
        if self._passes.stopped:  # started again after a shutdown
            self._passes = _Passes(self._run_passes)
        super().start(paused)

    def shutdown(self, wait: bool = True) -> None:
        self._passes.stop()  # the pass under way ends first: it holds the stores the shutdown closes
        super().shutdown(wait)

    def _request_pass(self) -> None:
        self._passes.request()

    def _run_passes(self) -> None:
        """On the pass thread: passes until none is due now, giving the GUI thread its turn
        between them (each takes at most SlicedJobStore.DUE_PER_PASS jobs); then the timer
        waits for the next due time."""
        passes = self._passes  # a shutdown stops these: no more slices of a burst (quitting waited for them)
        while self.state != STATE_STOPPED and not passes.stopped:
            wait_seconds = self._process_jobs()
            if wait_seconds != 0 or self.state == STATE_STOPPED or passes.stopped:
                if self.state != STATE_STOPPED and not passes.stopped:
                    self._start_timer(wait_seconds)
                return
            give_way()  # (jobs.gui_priority: a window's events first)

    def _process_jobs(self) -> float | None:  # type: ignore[override]
        """One pass; the seconds until the next one (None: nothing scheduled)."""
        if self.due_wall_time is not None:
            early = self.due_wall_time - time.time()
            if 0 < early <= EARLY_WAKE_MAX:
                time.sleep(early)  # at most ~1 ms; see _WakeupTimer._arm_here
        self.process_count += 1
        self.caught_up = False
        started = time.perf_counter()
        wait_seconds: float | None
        try:
            wait_seconds = BaseScheduler._process_jobs(self)
        except Exception:
            # A "database is locked" in update_job/remove_job must not end scheduling.
            log.exception("scheduler pass failed; retrying in %ss", self.jobstore_retry_interval)
            wait_seconds = self.jobstore_retry_interval
        if self.process_count == 1:  # start-up is over: say so, with what it cost (issue 10)
            log.info("first scheduler pass done in %.0f ms; next in %s s", 1000 * (time.perf_counter() - started),
                     "-" if wait_seconds is None else f"{wait_seconds:.1f}")  # fmt: skip
        self.caught_up = wait_seconds != 0  # nothing more due now (a burst is handed over in slices)
        for hook in self.after_pass:
            try:
                hook()
            except Exception:
                log.exception("after-pass hook failed")
        return wait_seconds


class SlicedJobStore(SQLAlchemyJobStore):
    """APScheduler's SQLAlchemy store handing at most DUE_PER_PASS due jobs to one pass.

    Each due job costs its unpickling, our dispatch (a history row, events) and its row's
    update: at 10,000 jobs the ~100 every-minute ones fall due together. Passes ran on the GUI
    thread, where that froze the window 0.3-1 s each minute (issue 10). They now run on the
    scheduler's own thread (JobdeskScheduler), which still holds APScheduler's store lock for a
    whole pass and competes with the GUI thread for the GIL: short passes keep both brief. The
    rest stay due, so the pass ends with a wait of 0 and the next pass takes the next ones
    after giving way to the GUI thread.
    """

    DUE_PER_PASS = 2

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
