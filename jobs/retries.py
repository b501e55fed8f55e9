"""Retries with backoff: a failed attempt of a job with `retries` runs again after a delay.

Every attempt is its own history row (attempt N of at most `retries + 1`, linked to the chain's
first run). When an attempt ends in a way its job retries (`retry_on`: "failure", "timeout";
`retry_on_exit`: exit codes) and attempts remain, the next attempt is written at once as a
`retry pending` row with its due time, and the ended attempt names it (`retried_by`): alerts
and notifications (jobs.alerts.policy.is_final_outcome) wait for the final attempt. A run
stopped by the user (killed), interrupted or missed is never retried.

A pending retry holds its job's place like a running run, so the overlap policy sees the job
busy; Stop ends it `killed`; quitting leaves its row pending, and the next start takes it up
(`resume_retries`): due later, it waits on; due while Jobdesk was closed, it follows the job's
missed-run policy (within the grace it runs now, past it it ends missed). Pausing or removing
its job (now, or while Jobdesk was closed) ends it `skipped`, "retry cancelled: the job was paused".

`PendingRetries` is a part of `jobs.dispatcher.Dispatcher` (a mixin, like
jobs.dispatch_holds), kept apart so the dispatcher only hooks in. Its timers are threading
timers: the due retry queues for a slot and starts on the timer's thread, as a run ending on a
runner's thread starts the next queued one.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from jobs.durations import format_duration
from jobs.model import JobSpec, RunOutcome, RunRecord, RunStatus
from jobs.pending_run import _Pending
from jobs.retry_rows import RetryRows

log = logging.getLogger(__name__)

# A timer counts monotonic time, which stops while the machine sleeps; waking at least this
# often (seconds) and comparing with the wall clock keeps a retry due after a sleep on time.
WAKE_EVERY = 30.0

# Why a pending retry ended without running (status `skipped`: no failure, no alert)
PAUSED_NOTE = "retry cancelled: the job was paused"
REMOVED_NOTE = "retry cancelled: the job was removed"

def wants_retry(job: JobSpec, attempt: int, outcome: RunOutcome) -> bool:
    """Whether the attempt number `attempt` of `job`, which ended with `outcome`, runs again."""
    if attempt > job.retries:
        return False
    if outcome.exit_code is not None and outcome.exit_code in job.retry_on_exit:
        return True
    if outcome.status is RunStatus.FAILED:
        return "failure" in job.retry_on
    return outcome.status is RunStatus.TIMED_OUT and "timeout" in job.retry_on


def retry_delay(job: JobSpec, attempt: int) -> float:
    """Seconds between the end of attempt `attempt` and the next: delay * backoff^(attempt-1),
    at most `retry_max`."""
    try:
        seconds = job.retry_delay * job.retry_backoff ** (attempt - 1)
    except OverflowError:
        seconds = math.inf
    if job.retry_max is not None:
        seconds = min(seconds, job.retry_max)
    return min(seconds, 100 * 365.25 * 86_400.0)


def _what_ended(outcome: RunOutcome) -> str:
    if outcome.status is RunStatus.TIMED_OUT:
        return "timed out"
    return f"failed (exit {outcome.exit_code})" if outcome.exit_code is not None else "failed"


class PendingRetries:
    """Mixin of `jobs.dispatcher.Dispatcher`: retries waiting for their time."""

    if TYPE_CHECKING:  # the Dispatcher's state and methods used here
        _lock: threading.Lock
        _closed: bool
        _all: dict[int, Any]
        _in_flight: dict[str, int]
        _held: dict[int, Any]
        _waiting: deque[Any]
        _history: Any

        def _queue_for_slot(self, pending: Any) -> None: ...

        def _take_startable(self) -> list[Any]: ...

        def _start_run(self, pending: Any) -> None: ...

        def _held_now(self, pending: Any) -> None: ...

        def _end_unstarted(self, pending: Any, status: RunStatus, error: str) -> None: ...

        def _release(self, pending: Any) -> None: ...

        def _emit(self, signal_name: str, run_id: int, fallback: Any = None) -> None: ...

    def _init_retries(self) -> None:
        self._retrying: dict[int, _Pending] = {}
        self._retry_timers: dict[int, threading.Timer] = {}
        self._retry_due_at: dict[int, datetime] = {}
        self._retry_rows = RetryRows(self._history.engine)

    # --- an attempt ended ------------------------------------------------------------------

    def _retry_after(self, pending: _Pending, outcome: RunOutcome) -> None:
        """Called when an attempt ended, before its job's place frees: if the job retries it,
        the next attempt takes that place as a pending retry. Never raises (the run's end
        must still be announced)."""
        job = pending.job
        if not wants_retry(job, pending.attempt, outcome):
            return
        with self._lock:
            if self._closed:
                return
        delay = retry_delay(job, pending.attempt)
        due = datetime.now(timezone.utc) + timedelta(seconds=delay)
        first = pending.first_run_id or pending.run_id
        retry = _Pending(self._history.allocate_id(), job, pending.cause, pending.scheduled_at, row_written=True,
                         attempt=pending.attempt + 1, first_run_id=first, waiting_for=_retry_words(due),
                         upstream_run_id=pending.upstream_run_id)  # an `after` run retries as one  # fmt: skip
        note = f"run #{pending.run_id} {_what_ended(outcome)}; retry in {format_duration(delay)}"
        try:
            self._retry_rows.create_pending(retry.run_id, job, retry.cause, scheduled_at=retry.scheduled_at,
                                            attempt=retry.attempt, first_run_id=first, after_run_id=pending.run_id,
                                            due=due, note=note, upstream_run_id=retry.upstream_run_id)  # fmt: skip
        except Exception:  # the attempt's end is what counts now; no retry without a row
            log.exception("job %s: cannot record a retry of run #%d", job.id, pending.run_id)
            return
        log.info("job %s: run #%d %s; attempt %d/%d is run #%d, due in %s", job.id, pending.run_id,
                 _what_ended(outcome), retry.attempt, job.retries + 1, retry.run_id, format_duration(delay))
        self._hold_retry(retry, delay)
        self._emit("run_queued", retry.run_id)

    def _hold_retry(self, retry: _Pending, delay: float | None) -> None:
        """Keep `retry` in its job's place until `delay` seconds from now (None: no timer, the
        caller ends it)."""
        with self._lock:
            self._all[retry.run_id] = retry
            self._in_flight[retry.job.id] += 1
            self._retrying[retry.run_id] = retry
        if delay is not None:
            self._retry_due_at[retry.run_id] = datetime.now(timezone.utc) + timedelta(seconds=max(0.0, delay))
            self._arm(retry.run_id, delay)

    def _arm(self, run_id: int, delay: float) -> None:
        timer = threading.Timer(min(max(0.0, delay), WAKE_EVERY), self._retry_due, args=(run_id,))
        timer.daemon = True
        timer.name = f"retry-{run_id}"
        with self._lock:
            if run_id not in self._retrying:  # cancelled meanwhile
                return
            self._retry_timers[run_id] = timer
        timer.start()

    def _retry_due(self, run_id: int) -> None:
        """A pending retry's timer woke: not yet due (by the wall clock), it sleeps on; due, it
        queues for a slot (or waits for its conditions)."""
        left = (self._retry_due_at.get(run_id, datetime.now(timezone.utc)) - datetime.now(timezone.utc)).total_seconds()
        if left > 0.005:
            self._arm(run_id, left)
            return
        with self._lock:
            retry = self._retrying.pop(run_id, None)
            self._retry_timers.pop(run_id, None)
            self._retry_due_at.pop(run_id, None)
            if retry is None or self._closed:
                return
        try:
            self._retry_rows.mark_due(run_id)
        except Exception:  # the run still goes ahead; its end writes its final state
            log.exception("job %s: cannot mark retry #%d due", retry.job.id, run_id)
        retry.queued_at = datetime.now(timezone.utc)
        retry.waiting_for = None  # (it said "its retry at ..." for overlap messages)
        with self._lock:
            self._queue_for_slot(retry)
            to_start = self._take_startable()
            held = run_id in self._held
            queued = retry not in to_start and not held
        for item in to_start:
            self._start_run(item)
        if held:
            self._held_now(retry)
        elif queued:
            self._emit("run_queued", run_id)

    # --- control ---------------------------------------------------------------------------

    def pending_retries(self) -> list[int]:
        with self._lock:
            return sorted(self._retrying)

    def _take_retry(self, run_id: int) -> _Pending | None:
        """Take a pending retry out of the waiting ones (its timer stopped); None if it is not."""
        with self._lock:
            retry = self._retrying.pop(run_id, None)
            timer = self._retry_timers.pop(run_id, None)
            self._retry_due_at.pop(run_id, None)
        if timer is not None:
            timer.cancel()
        return retry

    def _cancel_retry(self, run_id: int, reason: str) -> bool:
        """Stop a pending retry: it ends `killed` and its job's place frees. False if `run_id`
        is not a pending retry."""
        retry = self._take_retry(run_id)
        if retry is None:
            return False
        self._end_retry(retry, RunStatus.KILLED, f"retry cancelled: {reason}")
        return True

    def _end_retry(self, retry: _Pending, status: RunStatus, error: str) -> None:
        self._end_unstarted(retry, status, error)
        self._release(retry)

    def _park_retries(self) -> None:
        """Quitting (caller holds the lock): pending retries stay stored for the next start."""
        for timer in self._retry_timers.values():
            timer.cancel()
        for run_id, retry in self._retrying.items():
            self._all.pop(run_id, None)
            retry.done.set()
        self._retry_timers.clear()
        self._retrying.clear()
        self._retry_due_at.clear()

    def job_changed(self, job: Any) -> None:
        """A job was saved (or paused): its pending retries run as it is now; paused, they end."""
        with self._lock:
            for retry in self._retrying.values():
                if retry.job.id == job.id:
                    retry.job = job
        if job.paused:
            self._drop_retries(job.id, PAUSED_NOTE)
        super().job_changed(job)  # type: ignore[misc]

    def job_removed(self, job_id: str) -> None:
        self._drop_retries(job_id, REMOVED_NOTE)
        super().job_removed(job_id)  # type: ignore[misc]

    def _drop_retries(self, job_id: str, note: str) -> None:
        """End the pending retries of `job_id` `skipped` with `note`: they never ran, so it is
        no failure (no alert, and an after-job waiting for failures does not start)."""
        with self._lock:
            doomed = [retry for retry in self._retrying.values() if retry.job.id == job_id]
        for retry in doomed:
            if self._take_retry(retry.run_id) is not None:
                log.info("job %s: retry #%d %s", job_id, retry.run_id, note)
                self._end_retry(retry, RunStatus.SKIPPED, note)

    # --- after a restart -------------------------------------------------------------------

    def resume_retries(self, spec_of: Callable[[str], JobSpec | None]) -> None:
        """Take up the retries that were pending when the last session ended. `spec_of` gives
        a job's definition (None: it was removed)."""
        now = datetime.now(timezone.utc)
        for record in self._retry_rows.pending():
            job = spec_of(record.job_id)
            due = record.retry_at or now
            retry = _Pending(record.id, job or _stand_in(record), record.cause, record.scheduled_at, row_written=True,
                             attempt=record.attempt, first_run_id=record.first_run_id,
                             waiting_for=_retry_words(due), upstream_run_id=record.upstream_run_id)  # fmt: skip
            late = (now - due).total_seconds()
            if job is None or job.paused:  # removed or paused while Jobdesk was closed
                self._hold_retry(retry, None)
                self._take_retry(retry.run_id)
                self._end_retry(retry, RunStatus.SKIPPED, PAUSED_NOTE if job else REMOVED_NOTE)
            elif job.misfire_grace is not None and late > job.misfire_grace:
                self._hold_retry(retry, None)
                self._cancel_or_miss(retry, f"missed by {format_duration(late)} (grace {format_duration(job.misfire_grace)})")
            else:
                log.info("job %s: retry #%d (attempt %d) %s", job.id, record.id, record.attempt,
                         "due now" if late >= 0 else f"due in {format_duration(-late)}")
                self._hold_retry(retry, max(0.0, -late))

    def _cancel_or_miss(self, retry: _Pending, reason: str) -> None:
        self._take_retry(retry.run_id)
        log.warning("job %s: retry #%d %s", retry.job.id, retry.run_id, reason)
        self._end_retry(retry, RunStatus.MISSED, reason)

    # --- waiting for a chain ---------------------------------------------------------------

    def final_attempt(self, record: RunRecord | None, timeout: float | None = None) -> RunRecord | None:
        """`record`'s last word: the final attempt of its chain of retries, waited for (None
        after `timeout` seconds per attempt)."""
        while record is not None and record.retried_by is not None:
            record = self.wait(record.retried_by, timeout)  # type: ignore[attr-defined]
        return record


def _retry_words(due: datetime) -> str:
    """What a pending retry waits for, as the overlap policy's skip reason says it ("run #14
    was still waiting for its retry at 10:42:05")."""
    return f"its retry at {due.astimezone():%H:%M:%S}"


def _stand_in(record: RunRecord) -> JobSpec:
    from jobs.model import DateSpec

    at = record.queued_at or datetime.now(timezone.utc)
    return JobSpec(id=record.job_id, name=record.job_name, command=record.command, trigger=DateSpec(at, "UTC"))
