"""Decides when a due or manual run starts, hands it to a runner, and records what happened.

Policies that APScheduler cannot express live here (NOTES items 15, 17):
- overlap, per job: skip the new run, queue one, or allow N at once; skips are history rows;
- a global limit of concurrent runs: runs beyond it wait their turn as "queued", never "missed";
- conditions (jobs.conditions): before a run takes a slot the gate is asked; a run whose job
  needs AC power or a network that is not there is *held* as "waiting" (it keeps its job's
  place for the overlap policy and outlives a restart) until the gate releases or expires it.

Execution is the runner's (jobs.runners): the dispatcher admits, the runner runs and reports,
history stores the outcome whole. `submit` is called by the scheduler's executor on its pass
thread (and from the window, the control socket and run threads) and must stay quick: it
writes at most one row and hands the run over. Everything the
runner reports reaches listeners through `JobEvents` signals. A job with `runs_on` goes to the
remote runner (jobs.runners.choice); such runs take no global slot (they use the pool's CPUs),
and quitting leaves them going on their workers for the next start to follow (`recover`).
When the database refuses a run's record, the run's end still reaches whoever waits for it
(`wait`, `run_finished`) from memory, and the refusal is written to the run's log and to
jobdesk.log.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from contextlib import suppress
from datetime import datetime, timezone
from typing import Callable

from jobs import missed_rows
from jobs.conditions.gate import ConditionGate
from jobs.dispatch_holds import ConditionHolds
from jobs.events import JobEvents, OutputChunk
from jobs.expected_outputs import expected_for
from jobs.history import HistoryRepository
from jobs.model import JobSpec, Overlap, RunCause, RunOutcome, RunRecord, RunRequest, RunStatus
from jobs.paths import DataDir
from jobs.runners import LocalRunner, RunHandle, Runner, RunnerUnavailable, RunStarted, Stream
from jobs.runners.choice import RemoteRunners
from jobs.pending_run import RunnerSettings, RunReports, _Pending, memory_record
from jobs.pause_drops import PauseDrops
from jobs.retries import PendingRetries
from jobs.run_context import run_environment
from jobs.workdir import resolved_cwd

log = logging.getLogger(__name__)

_UNRECORDED_KEPT = 200  # final records the database refused, kept for wait() and late askers


class Dispatcher(PendingRetries, PauseDrops, ConditionHolds):
    def __init__(
        self,
        data_dir: DataDir,
        history: HistoryRepository,
        events: JobEvents | None = None,
        settings: RunnerSettings = RunnerSettings(),
        runner: Runner | None = None,
        gate: ConditionGate | None = None,
    ) -> None:
        self._data_dir = data_dir
        self._history = history
        self._events = events
        self.settings = settings
        self.runner: Runner = runner if runner is not None else LocalRunner(settings.output_interval)
        self.remote = RemoteRunners()  # for jobs with `runs_on`; the service gives its factory
        self._unrecorded: dict[int, RunRecord] = {}
        self._lock = threading.Lock()
        self._in_flight: dict[str, int] = defaultdict(int)  # per job: running + waiting for a global slot
        self._job_queue: dict[str, deque[_Pending]] = defaultdict(deque)  # overlap=queue: one waits here
        self._waiting: deque[_Pending] = deque()  # waiting for a global slot
        self._running: dict[int, _Pending] = {}
        self._all: dict[int, _Pending] = {}
        self._closed = False
        self._refusal: str | None = None
        self._held: dict[int, _Pending] = {}  # admitted, but waiting for the gate (conditions)
        self._finish_listeners: list[Callable[[RunRecord], None]] = []  # alerts, chains: every run that ended
        self.gate = gate
        self._init_retries()
        if gate is not None:
            gate.attach(self)

    def add_finish_listener(self, listener: Callable[[RunRecord], None]) -> None:
        """Call `listener(record)` with the final row of every run that ends (any thread)."""
        self._finish_listeners.append(listener)

    def refuse(self, reason: str) -> None:
        """Start no new run from now on (e.g. the database turned out damaged)."""
        with self._lock:
            self._refusal = reason

    # --- submitting ------------------------------------------------------------------------

    def submit(self, job: JobSpec, cause: RunCause, scheduled_at: datetime | None = None, *,
               ignore_conditions: bool = False, upstream_run_id: int | None = None) -> int | None:  # fmt: skip
        """Start, queue, hold (conditions) or skip a run of `job`; returns the run id, or None
        when skipped. `ignore_conditions`: start without asking the gate ("Run anyway");
        `upstream_run_id`: the run whose end started this one (jobs.chains)."""
        with self._lock:
            if self._refusal is not None:
                raise RuntimeError(f"not starting a run of {job.id}: {self._refusal}")
            if self._closed:
                log.info("not starting %s: Jobdesk is stopping", job.id)
                return None
            occupied = self._in_flight[job.id]
            queued_for_job = len(self._job_queue[job.id])
            if occupied >= job.slot_limit and not (job.overlap is Overlap.QUEUE and queued_for_job == 0):
                busy = [p for p in self._all.values() if p.job.id == job.id]
                reason = f"run #{busy[0].run_id} was still {busy[0].doing()}" if busy else "a previous run was still going"
                skip = True
            else:
                skip = False
                pending = _Pending(self._history.allocate_id(), job, cause, scheduled_at,
                                   ignore_conditions=ignore_conditions, upstream_run_id=upstream_run_id)  # fmt: skip
                self._all[pending.run_id] = pending
                if occupied >= job.slot_limit:
                    self._job_queue[job.id].append(pending)
                else:
                    self._in_flight[job.id] += 1
                    self._queue_for_slot(pending)
                to_start = self._take_startable()
                held = pending.run_id in self._held
                must_wait = pending not in to_start and not held
        if skip:
            log.info("job %s: %s run skipped: %s", job.id, cause.value, reason)
            self.record(job, cause, RunStatus.SKIPPED, scheduled_at, f"skipped: {reason}", upstream_run_id)
            return None
        for item in to_start:
            self._start_run(item)
        if must_wait:  # visible as "queued" until a slot frees
            self._write_queued_row(pending)
        if held:
            self._held_now(pending)
        return pending.run_id

    def _write_queued_row(self, pending: _Pending) -> None:
        with self._lock:
            if pending.row_written:
                return
            try:
                self._history.create(pending.job, pending.cause, RunStatus.QUEUED, scheduled_at=pending.scheduled_at,
                                     run_id=pending.run_id, upstream_run_id=pending.upstream_run_id)
            except Exception as exc:  # the run still goes ahead; its start writes the row
                self._write_failed(pending, "while queued", exc)
                return
            pending.row_written = True
        log.info("job %s: %s run #%d queued", pending.job.id, pending.cause.value, pending.run_id)
        self._emit("run_queued", pending.run_id)

    def recover(self, record: RunRecord, job: JobSpec) -> bool:
        """Take over a run a previous Jobdesk left running (its row says which runner and how to
        find it). Until its runner reports the end it holds its slots, so an overlap policy
        sees it as still going. False if no runner here knows it."""
        runner = self.remote.named(record.runner, self.runner)
        if runner is None:
            return False
        pending = _Pending(record.id, job, record.cause, record.scheduled_at, row_written=True,
                           attempt=record.attempt, first_run_id=record.first_run_id)  # fmt: skip
        if record.queued_at is not None:
            pending.queued_at = record.queued_at
        pending.log_path = record.log_path
        with self._lock:
            self._all[record.id] = pending
            self._running[record.id] = pending
            self._in_flight[job.id] += 1
        log.info("job %s: run #%d was left running by the last session; handing it to the %s runner",
                 job.id, record.id, runner.name)
        execution = runner.recover(record, RunReports(self, pending))
        with self._lock:
            pending.execution = execution
            reason = pending.cancel_reason
        if reason is not None:
            execution.cancel(reason)
        return True

    def record(self, job: JobSpec, cause: RunCause, status: RunStatus, scheduled_at: datetime | None, error: str,
               upstream_run_id: int | None = None) -> int:  # fmt: skip
        """Write a row for a run that never ran (missed or skipped) and announce it."""
        run_id = self._history.create(job, cause, status, scheduled_at=scheduled_at, error=error,
                                      upstream_run_id=upstream_run_id)  # fmt: skip
        self._emit("run_recorded", run_id)
        return run_id

    def record_missed(self, job: JobSpec, missed: list[tuple[datetime, str]]) -> list[RunRecord]:
        """One transaction for the job's missed rows, then one `runs_recorded` event (jobs.missed_rows)."""
        return missed_rows.record_missed(self._history, job, missed, self._announce_recorded)

    def _announce_recorded(self, records: list[RunRecord]) -> None:
        if self._events is not None and records:
            self._events.runs_recorded.emit(tuple(records))

    def _take_startable(self) -> list[_Pending]:
        """Move waiting runs into free global slots (remote runs need none). Caller holds the lock."""
        started = []
        limit = max(1, self.settings.max_concurrent)
        local = sum(1 for p in self._running.values() if not p.job.runs_on)
        while self._waiting and (local < limit or any(p.job.runs_on for p in self._waiting)):
            pending = next((p for p in self._waiting if p.job.runs_on or local < limit))
            self._waiting.remove(pending)
            self._running[pending.run_id] = pending
            started.append(pending)
            local += 0 if pending.job.runs_on else 1
        return started

    # --- running ---------------------------------------------------------------------------

    def _start_run(self, pending: _Pending) -> None:
        """Hand an admitted run to the runner; its reports come back through `_Reports`."""
        job = pending.job
        pending.log_path = self._data_dir.run_log(job.id, pending.run_id)
        s = self.settings
        # A remote run without a folder of its own gets the worker's default (its home or the
        # script's folder there): this computer's folders need not exist on the worker.
        cwd = job.cwd if job.runs_on else resolved_cwd(job)
        context = run_environment(job, pending.run_id, pending.cause, attempt=pending.attempt,
                                  scheduled_for=pending.scheduled_at,
                                  upstream_run_id=pending.upstream_run_id)  # JOBDESK_* (jobs.run_context)
        request = RunRequest(
            command=job.argv, log_path=pending.log_path, shell=job.shell, cwd=cwd, env={**job.env_dict, **context},
            timeout=job.timeout, log_cap_bytes=s.log_cap_bytes, kill_grace=s.kill_grace,
            run_id=pending.run_id, job_id=job.id, pool=job.runs_on, wait_limit=job.misfire_grace,
            expect=expected_for(job, pending.scheduled_at),
        )
        reports = RunReports(self, pending)
        try:
            execution = self.remote.for_job(job, self.runner).start(request, reports)
        except RunnerUnavailable as exc:
            log.warning("job %s: run #%d cannot start: %s", job.id, pending.run_id, exc)
            reports.finished(RunOutcome(RunStatus.FAILED, None, None, _utcnow(), error=str(exc)))
            return
        except Exception as exc:  # the runner's bug: the run still ends, and its slot frees
            log.exception("job %s: run #%d could not be handed to a runner", job.id, pending.run_id)
            reports.finished(RunOutcome(RunStatus.FAILED, None, None, _utcnow(), error=f"internal error: {exc}"))
            return
        with self._lock:
            pending.execution = execution
            reason = pending.cancel_reason
        if reason is not None:  # cancelled while being handed over
            execution.cancel(reason)

    def _on_queued(self, pending: _Pending, handle: RunHandle, pool: str | None, note: str | None) -> None:
        """A remote runner handed the run to its pool's queue: the row says queued, with the
        task id (how the next start finds it) and why it waits, if it says."""
        try:
            with self._lock:
                first = not pending.row_written
                pending.row_written = True
            if first:  # one insert: the task id is in the row before the task is sent
                self._history.create(pending.job, pending.cause, RunStatus.QUEUED, scheduled_at=pending.scheduled_at,
                                     error=note, run_id=pending.run_id, queued_on=(handle.runner, handle.ref, pool),
                                     upstream_run_id=pending.upstream_run_id)
            else:
                self._history.mark_queued(pending.run_id, runner=handle.runner, handle=handle.ref, pool=pool, note=note)
        except Exception as exc:
            if first:  # the start (or the end) writes the row then
                with self._lock:
                    pending.row_written = False
            self._write_failed(pending, "while queued", exc)
            return
        if note:
            log.info("job %s: run #%d waits: %s", pending.job.id, pending.run_id, note)
        self._emit("run_queued", pending.run_id)

    def _on_started(self, pending: _Pending, info: RunStarted) -> None:
        pending.started = info
        try:
            if not self._ensure_row(pending):
                self._history.mark_started(pending.run_id, info.started_at, pending.log_path, info, info.handle.runner)
        except Exception as exc:  # e.g. a damaged or full disk: the final write tries again
            self._write_failed(pending, "its start", exc)
        self._emit("run_started", pending.run_id)

    def _on_finished(self, pending: _Pending, outcome: RunOutcome) -> None:
        job = pending.job
        fallback = None
        try:
            self._ensure_row(pending)
            self._history.finish(pending.run_id, outcome)
            log.info("job %s: run #%d %s (exit %s)", job.id, pending.run_id, outcome.status.value, outcome.exit_code)
        except Exception as exc:
            # Whoever waits for this run (run --wait, the window) still gets its end, from memory.
            reason = self._write_failed(pending, "its end", exc, ended=True)
            fallback = memory_record(pending, outcome, reason)
            with self._lock:
                self._unrecorded[pending.run_id] = fallback
                while len(self._unrecorded) > _UNRECORDED_KEPT:
                    self._unrecorded.pop(next(iter(self._unrecorded)))
        finally:
            self._retry_after(pending, outcome)  # jobs.retries: a retry takes the job's place first
            self._release(pending)
            self._emit("run_finished", pending.run_id, fallback)
            pending.done.set()

    def _ensure_row(self, pending: _Pending) -> bool:
        """Write the row of a run that started without waiting. True if it wrote it now."""
        with self._lock:
            if pending.row_written:
                return False
            pending.row_written = True
        info = pending.started
        log_path = pending.log_path if pending.log_path is not None and (info or pending.log_path.exists()) else None
        try:
            self._history.create_started(
                pending.run_id, pending.job, pending.cause, scheduled_at=pending.scheduled_at,
                queued_at=pending.queued_at, log_path=log_path, started=info, runner=self.runner.name,
                upstream_run_id=pending.upstream_run_id,
            )
        except BaseException:
            with self._lock:
                pending.row_written = False
            raise
        return True

    def _write_failed(self, pending: _Pending, what: str, exc: Exception, *, ended: bool = False) -> str:
        """Say where it can still be seen that the database did not take a run's record: in
        jobdesk.log, and once the run is over (its log closed by the runner) in its log."""
        reason = f"not recorded in the database ({what}): {getattr(exc, 'orig', None) or exc}"
        log.error("job %s: run #%d %s", pending.job.id, pending.run_id, reason)
        if ended and pending.log_path is not None and pending.log_path.exists():
            with suppress(OSError), open(pending.log_path, "a", encoding="utf-8") as file:
                file.write(f"[jobdesk] {reason}\n")
        return reason

    def _on_output(self, pending: _Pending, text: str, stream: Stream) -> None:
        if self._events is not None:
            self._events.run_output.emit(OutputChunk(pending.run_id, pending.job.id, text, stream))

    def _release(self, pending: _Pending) -> None:
        job_id = pending.job.id
        with self._lock:
            self._running.pop(pending.run_id, None)
            self._all.pop(pending.run_id, None)
            self._in_flight[job_id] -= 1
            promoted = None
            if self._job_queue[job_id] and self._in_flight[job_id] < pending.job.slot_limit:
                self._in_flight[job_id] += 1
                promoted = self._job_queue[job_id].popleft()
                self._queue_for_slot(promoted)
            if not self._in_flight[job_id]:
                del self._in_flight[job_id]
            if not self._job_queue[job_id]:
                del self._job_queue[job_id]
            to_start = [] if self._closed else self._take_startable()
        for item in to_start:
            self._start_run(item)
        if promoted is not None and promoted.run_id in self._held:
            self._held_now(promoted)

    def _emit(self, signal_name: str, run_id: int, fallback: RunRecord | None = None) -> None:
        if self._events is None:
            return
        try:
            record = self._history.get(run_id) if fallback is None else fallback
        except Exception:
            log.exception("cannot read run #%d back to announce it", run_id)
            return
        if record is not None:
            getattr(self._events, signal_name).emit(record)
            if signal_name == "run_finished":
                for listener in self._finish_listeners:  # each quick (Alerter.consider only queues)
                    try:
                        listener(record)
                    except Exception:  # one listener's bug must not cost the others their call
                        log.exception("run #%d: a finish listener failed", record.id)

    # --- conditions: held runs (jobs.dispatch_holds); a restart's waiting runs held again ----

    def resume_waiting(self, record: RunRecord, job: JobSpec) -> None:
        """Hold again a run that was waiting when the last session ended (its row is kept, its
        deadline counts from when it began to wait)."""
        pending = _Pending(record.id, job, record.cause, record.scheduled_at, row_written=True,
                           waiting_for=record.waiting_for, attempt=record.attempt, first_run_id=record.first_run_id)  # fmt: skip
        if record.queued_at is not None:
            pending.queued_at = record.queued_at
        with self._lock:
            self._all[record.id] = pending
            self._in_flight[job.id] += 1
            self._held[record.id] = pending
        log.info("job %s: run #%d still waits for %s", job.id, record.id, record.waiting_for)
        if self.gate is not None:
            self.gate.wake()

    # --- control ---------------------------------------------------------------------------

    def cancel(self, run_id: int, reason: str = "stopped by the user") -> bool:
        """Kill a running run (its whole process tree) or drop a queued one or a pending retry."""
        if self._cancel_retry(run_id, reason):
            return True
        with self._lock:
            pending = self._all.get(run_id)
            if pending is None:
                return False
            held = pending if self._held.pop(run_id, None) is not None else None
            was_running = run_id in self._running
            if was_running:
                pending.cancel_reason = reason
                execution = pending.execution
            elif held is None:
                self._drop_queued(pending)
        if held is not None:
            what = f"while waiting for {held.waiting_for}" if held.waiting_for else "before it started"
            self._end_held(held, RunStatus.KILLED, f"killed {what}: {reason}")
            return True
        if was_running:
            if execution is not None:  # else _start_run sees cancel_reason once it has one
                execution.cancel(reason)
        else:
            self._end_unstarted(pending, RunStatus.KILLED, f"killed: {reason}")
        return True

    def _end_unstarted(self, pending: _Pending, status: RunStatus, error: str) -> None:
        """Finish a run that was dropped from a queue before it started."""
        outcome = RunOutcome(status, None, None, _utcnow(), error=error)
        fallback = None
        try:
            self._write_queued_row(pending)
            self._history.finish(pending.run_id, outcome)
        except Exception as exc:
            fallback = memory_record(pending, outcome, self._write_failed(pending, "its end", exc))
            with self._lock:
                self._unrecorded[pending.run_id] = fallback
        self._emit("run_finished", pending.run_id, fallback)
        pending.done.set()

    def _drop_queued(self, pending: _Pending) -> None:
        """Remove a run that has not started. Caller holds the lock."""
        job_id = pending.job.id
        self._all.pop(pending.run_id, None)
        if pending in self._job_queue.get(job_id, ()):
            self._job_queue[job_id].remove(pending)
        elif pending in self._waiting:
            self._waiting.remove(pending)
            self._in_flight[job_id] -= 1

    def wait(self, run_id: int, timeout: float | None = None) -> RunRecord | None:
        """Block until run `run_id` ends (for `run --wait`); returns its final row (None after
        `timeout`). A run whose record the database refused is returned from memory, its error
        saying so; a database that cannot be read raises."""
        with self._lock:
            pending = self._all.get(run_id)
        if pending is not None and not pending.done.wait(timeout):
            return None
        with self._lock:
            unrecorded = self._unrecorded.get(run_id)
        return unrecorded if unrecorded is not None else self._history.get(run_id)

    def active_runs(self) -> list[int]:
        with self._lock:
            return sorted(self._all)

    def running_count(self) -> int:
        with self._lock:
            return len(self._running)

    def shutdown(self, reason: str = "Jobdesk quit", timeout: float = 15.0) -> None:
        """Kill running trees first (NOTES item 19), drop queued runs, wait for workers.
        Runs on remote workers go on there: the next start follows them again."""
        with self._lock:
            self._closed = True
            self._park_retries()
            running = [p for p in self._running.values() if not p.job.runs_on]  # remote runs go on
            held = list(self._held.values())
            self._held.clear()
            for pending in held:  # they stay "waiting" in the store: the next start takes them up
                self._all.pop(pending.run_id, None)
            queued = [p for p in self._all.values() if p.run_id not in self._running]
            for pending in queued:
                self._drop_queued(pending)
            for pending in running:
                pending.cancel_reason = reason
        if self.gate is not None:
            self.gate.stop()
        for pending in held:
            if not pending.row_written:  # held before its first check: stored, so it is not lost
                self._write_waiting_row(pending, pending.waiting_for or "its conditions to be checked", held=False)
            pending.done.set()
        for pending in queued:
            self._end_unstarted(pending, RunStatus.INTERRUPTED, f"{reason} before the run could start")
        for pending in running:
            if pending.execution is not None:
                pending.execution.cancel(reason)
        for pending in running:
            pending.done.wait(timeout)
        self.runner.close()
        self.remote.close()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
