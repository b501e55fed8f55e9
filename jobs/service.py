"""`JobService`: the core as one object. The window, `serve` and the command line all use it.

It opens a data directory (database, logs), and either runs the scheduler (`start()`, on the
thread that runs the Qt event loop) or acts on the store alone (command line with no running
instance). Changes go to our definitions table first, then to APScheduler.

A command-line call that only reads (list, show, history) must not pay for what it does not
use (issue 10): the dispatcher (psutil, subprocess plumbing), the Qt events object and the
upcoming-fires cache are made on first use, the scheduler's modules only in `start()`.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from contextlib import suppress
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Iterable, Sequence


from jobs.alerts.config import AlertConfig, AlertSettings
from jobs.codec import validate_job
from jobs import chains, dbcheck
from jobs.conditions.source import ConditionSource
from jobs.db import open_checked_database, truncate_wal
from jobs.entry import set_handler
from jobs.history import HistoryQuery, HistoryRepository
from jobs.misfire import plan_due_runs
from jobs.next_runs import APS_TABLE, NextRuns
from jobs.model import DateSpec, JobSpec, RunCause, RunOutcome, RunRecord, RunStatus
from jobs.pause_drops import PAUSED_NOTE, started_by_the_schedule
from jobs.paths import DataDir, ensure_private_dir
from jobs.reconcile import add_to_scheduler, scheduling_spec, store_lock
from jobs.repository import BrokenRow, JobNotFound, JobRepository, StoredDefinition
from jobs.retention import Retention
from jobs.runners import Runner
from jobs.runners.choice import celery_runner
from jobs.service_reads import ServiceReads
from jobs.settings import CoreSettings, load_settings, save_setting

if TYPE_CHECKING:
    from jobs.alerts.deliveries import Alerter
    from jobs.conditions.gate import ConditionGate
    from jobs.dispatcher import Dispatcher, RunnerSettings
    from jobs.events import JobEvents
    from jobs.upcoming import FireTimes, Lane

log = logging.getLogger(__name__)


class JobService(ServiceReads):
    slow_runs: Any = None  # jobs.slow_runs.SlowRunWatch while scheduling
    wake_digests: Any = None  # jobs.wake_digest.WakeDigests, made by start()
    def __init__(self, data_dir: DataDir, *, watchdog_interval: float = 30.0,
                 conditions: ConditionSource | None = None, check_file: bool = True,
                 defer_check: bool = False) -> None:  # fmt: skip
        """`conditions`: where AC power and the network are read (default: this computer).
        `check_file=False`: the caller checks the database file itself (jobs.list_local.checked_read).
        `defer_check`: the open checks the small tables only; the rest is `db_check` (the window)."""
        self.data_dir = data_dir
        ensure_private_dir(data_dir.root)
        ensure_private_dir(data_dir.logs)
        self.engine, checked = open_checked_database(data_dir.database, check=check_file, defer_check=defer_check)
        self.db_check = dbcheck.BackgroundCheck(self, needed=not checked.complete)
        self.jobs = JobRepository(self.engine)
        self.history = HistoryRepository(self.engine)
        self.retention = Retention(self.engine)
        self.settings = load_settings(self.engine)
        self.next_runs = NextRuns(self.engine, self.jobs, lambda: self.fire_times, lambda: self.scheduling)
        self._events: JobEvents | None = None
        self._dispatcher: Dispatcher | None = None
        self._fire_times: FireTimes | None = None
        self._made_lock = threading.Lock()  # the three above are made once, on first use
        self._conditions = conditions  # None: this computer's, made with the dispatcher
        self._gate: ConditionGate | None = None
        self._alerter: Alerter | None = None
        self.alert_config = AlertConfig(self.engine, data_dir)
        self.scheduler: Any = None
        self.watchdog: Any = None
        # Definitions by id, for the fire path: a due job waits for a query and a JSON decode
        # only on its first fire. Kept current by this object's own writes; only the lock
        # holder writes.
        self._specs: dict[str, JobSpec] = {}
        self._watchdog_interval = watchdog_interval
        self._recovered: list[int] | None = None  # runs handed back to their runner, once per session
        self.damage: str | None = None  # what the background database check found; no run starts then
        self._recovered_here: list[int] = []  # those of them that ran on this computer
        self._fired: deque[str] = deque()  # jobs the scheduler fired in its current pass (_after_pass)
        self._orphans: deque[str] = deque()  # ...that had no definition: removed after it

    @property
    def events(self) -> JobEvents:
        """Signals to whoever listens (jobs.events). A QObject: first asked for on the thread
        that runs the event loop (the window, `serve` and `start()` do so before any worker)."""
        if self._events is None:
            from jobs.events import JobEvents

            with self._made_lock:
                if self._events is None:
                    self._events = JobEvents()
        return self._events

    @property
    def dispatcher(self) -> Dispatcher:
        """Runs jobs (jobs.dispatcher): made when first needed, never for a read-only call."""
        if self._dispatcher is None:
            from jobs.dispatcher import Dispatcher

            from jobs.alerts.deliveries import Alerter
            from jobs.conditions.gate import ConditionGate

            events = self.events
            with self._made_lock:
                if self._dispatcher is None:
                    self._gate = ConditionGate(self.conditions)
                    dispatcher = Dispatcher(self.data_dir, self.history, events, self._runner_settings(), gate=self._gate)
                    self._apply_runner_settings(dispatcher)
                    dispatcher.remote.factory = self._remote_runner
                    self._alerter = Alerter(self.history, self.alert_config.with_secret, self._spec_or_none, events)
                    dispatcher.add_finish_listener(self._alerter.consider)
                    dispatcher.add_finish_listener(chains.follower_for(self, dispatcher))  # after-jobs
                    self._dispatcher = dispatcher
        return self._dispatcher

    @property
    def conditions(self) -> ConditionSource:
        """Where AC power and the network are read (this computer's unless given)."""
        if self._conditions is None:
            from jobs.conditions.system import SystemConditions

            self._conditions = SystemConditions()
        return self._conditions

    @property
    def gate(self) -> ConditionGate:
        """Holds runs whose conditions do not hold yet (made with the dispatcher)."""
        self.dispatcher  # noqa: B018
        assert self._gate is not None
        return self._gate

    @property
    def alerter(self) -> Alerter:
        """Sends e-mail and webhook alerts on a worker thread (made with the dispatcher)."""
        self.dispatcher  # noqa: B018
        assert self._alerter is not None
        return self._alerter

    @property
    def fire_times(self) -> FireTimes:
        """Triggers and fire times kept per trigger spec (jobs.upcoming)."""
        if self._fire_times is None:
            from jobs.upcoming import FireTimes

            with self._made_lock:
                if self._fire_times is None:
                    self._fire_times = FireTimes()
        return self._fire_times

    def _jobs_changed(self, job_ids: tuple[str, ...]) -> None:
        """Tell listeners; with no events object made yet, nobody listens (a command-line call)."""
        if self._events is not None:
            self._events.jobs_changed.emit(job_ids)

    def _runner_settings(self) -> RunnerSettings:
        from jobs.dispatcher import RunnerSettings

        s = self.settings
        return RunnerSettings(max_concurrent=s.max_concurrent, log_cap_bytes=s.log_cap_mb * 1024 * 1024, kill_grace=s.kill_grace)

    def _remote_runner(self) -> Runner:
        return celery_runner(self.settings.broker, self._runner_settings().output_interval)

    def _apply_runner_settings(self, dispatcher: Dispatcher) -> None:
        from jobs.runners import LocalRunner

        dispatcher.settings = settings = self._runner_settings()
        runner = dispatcher.runner
        if isinstance(runner, LocalRunner):
            runner.kill_grace = settings.kill_grace

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start scheduling. Needs a Q(Core)Application; call on its thread. In stages that a
        window spreads out: jobs.service_start."""
        from jobs.service_start import start_now

        start_now(self)

    def recover_leftovers(self) -> None:
        """Runs the last session left unfinished (crash, kill -9, power loss): a run its runner
        can find again is handed back to it (a local one: what it left running is terminated
        and the run says so); every other becomes interrupted. Call before scheduling, so no
        run of a job starts while its predecessor is still being dealt with."""
        if self._recovered is not None:
            return
        recovered = []
        for record in self.history.active():
            # A queued row with a runner was handed to a pool's queue (jobs.remote): followed too.
            if record.runner is not None and (record.status is RunStatus.RUNNING or record.pool is not None):
                if self.dispatcher.recover(record, self._spec_of(record)):
                    recovered.append(record.id)
                    if record.pool is None:
                        self._recovered_here.append(record.id)
        self.history.interrupt_leftovers(keep=recovered)
        self._recovered = recovered

    def resume_waiting(self) -> None:
        """Runs that were waiting for a condition when the last session ended wait again (before
        scheduling, so the overlap policy counts them); a run whose job was removed meanwhile
        ends missed. Only a scheduling instance does this, never a command-line run."""
        for record in self.history.waiting():
            try:
                spec = self.jobs.get(record.job_id)
            except JobNotFound:
                self.history.finish(record.id, RunOutcome(RunStatus.MISSED, None, None, datetime.now(timezone.utc),
                                                          error="missed: its job was removed while it waited"))
                continue
            if spec.paused and started_by_the_schedule(record):  # paused while Jobdesk was closed
                self.history.finish(record.id, RunOutcome(RunStatus.SKIPPED, None, None, datetime.now(timezone.utc),
                                                          error=PAUSED_NOTE))
                continue
            self.dispatcher.resume_waiting(record, spec)

    def _spec_or_none(self, job_id: str) -> JobSpec | None:
        try:
            return self._specs.get(job_id) or self.jobs.get(job_id)
        except JobNotFound:
            return None

    def _spec_of(self, record: RunRecord) -> JobSpec:
        """The definition a leftover run belongs to; a stand-in when it was deleted since."""
        try:
            return self.jobs.get(record.job_id)
        except JobNotFound:
            at = record.queued_at or datetime.now(timezone.utc)
            return JobSpec(id=record.job_id, name=record.job_name, command=record.command, shell=record.shell,
                           trigger=DateSpec(at, "UTC"))

    def shutdown(self) -> None:
        """Stop scheduling, kill running process trees, close the database."""
        if self.watchdog is not None:
            self.watchdog.stop()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        set_handler(None)
        if self._dispatcher is not None:
            self._dispatcher.shutdown()
        if self._alerter is not None:
            self._alerter.close()  # what is due is sent (bounded); later retries wait for the next start
        if self.slow_runs is not None:
            self.slow_runs.close()
        self.db_check.stop()  # its read transaction would pin the WAL
        self.retention.stop()  # as would its batches: the rest is done next start
        self.engine.dispose()
        if self.scheduler is not None and self.damage is None:  # a scheduling process; never a damaged file
            truncate_wal(self.data_dir.database)

    @property
    def scheduling(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    def _decode_and_keep(self, row: StoredDefinition) -> JobSpec | None:
        spec = self.jobs.decode(row)
        if spec is not None:
            self._specs[spec.id] = spec
        return spec

    def _spec(self, job_id: str) -> JobSpec:
        """A definition for the fire path: kept after its first read (JobNotFound if none)."""
        spec = self._specs.get(job_id)
        if spec is None:  # (on the pass thread: an edit kept meanwhile by the GUI thread wins)
            spec = self._specs.setdefault(job_id, self.jobs.get(job_id))
        return spec

    # --- due runs -------------------------------------------------------------------------

    def _on_due(self, job_id: str, run_times: list[datetime]) -> None:
        """Called by the executor (the scheduler's pass thread) with every due time of one job."""
        try:
            spec = self._spec(job_id)
        except JobNotFound:
            log.warning("scheduler fired %s, which has no definition; removing it", job_id)
            self._orphans.append(job_id)  # after the pass: within it, its update of the job would fail
            return
        now = datetime.now(timezone.utc)
        self._apply_plan(spec, plan_due_runs(spec, run_times, now))
        self._fired.append(job_id)  # its next run time moves: told after the pass wrote it (_after_pass)

    def _after_pass(self) -> None:
        """After a scheduler pass (its thread), once the store has the fired jobs' next run
        times: tell of them (a window reading sooner would show a run time already past, for
        good), and remove the jobs that fired without a definition."""
        from apscheduler.jobstores.base import JobLookupError

        while self._orphans:
            with suppress(JobLookupError):
                self.scheduler.remove_job(self._orphans.popleft())
        fired = []
        while self._fired:
            fired.append(self._fired.popleft())
        if fired:
            self._jobs_changed(tuple(dict.fromkeys(fired)))

    def _apply_plan(self, spec: JobSpec, plan: Any) -> None:
        self.dispatcher.record_missed(spec, list(plan.missed))
        for when, cause in plan.runs:
            self.dispatcher.submit(spec, cause, when)

    def _fire_by_reference(self, job_id: str) -> None:
        self.dispatcher.submit(self.jobs.get(job_id), RunCause.SCHEDULED, datetime.now(timezone.utc))

    # --- definitions ----------------------------------------------------------------------

    def add_job(self, spec: JobSpec, *, allow_duplicate_name: bool = False) -> JobSpec:
        """Save a new job. A name another job has is refused (DuplicateName, a
        JobValidationError) unless allowed: names are references too (jobs.names)."""
        from jobs.names import check_new_name  # (with jobs.transfer: TOML, which reads never need)

        validate_job(spec)
        spec = chains.checked(replace(spec, id=""), self.jobs)  # upstream jobs exist; names become ids
        if not allow_duplicate_name:
            check_new_name(self.jobs, replace(spec, id=""))
        saved = self.jobs.add(scheduling_spec(replace(spec, id="")))
        self._schedule(saved)
        return saved

    def update_job(self, spec: JobSpec, *, allow_duplicate_name: bool = False) -> JobSpec:
        from jobs.names import check_new_name

        validate_job(spec, allow_past_date=_unchanged_date(self.jobs.get(spec.id), spec))
        spec = chains.checked(spec, self.jobs)  # upstream jobs exist, no cycle
        if not allow_duplicate_name:
            check_new_name(self.jobs, spec)
        saved = self.jobs.update(scheduling_spec(spec))
        self._schedule(saved)
        return saved

    def import_jobs(self, specs: list[JobSpec], *, allow_duplicate_name: bool = False) -> list[JobSpec]:
        """Add or update several definitions at once (all were validated by the caller). A job
        without an id replaces the one job of its name; name conflicts raise ImportProblem."""
        from jobs.names import plan_import

        specs = chains.checked_import(plan_import(self.jobs, specs, allow_duplicate_name=allow_duplicate_name).specs, self.jobs)
        saved = self.jobs.add_many([scheduling_spec(spec) for spec in specs])
        for spec in saved:
            self._specs[spec.id] = spec
            self.dispatcher.job_changed(spec)
            if self.scheduling:
                add_to_scheduler(self.scheduler, spec)
        self._jobs_changed(())
        return saved

    def remove_job(self, job_id: str) -> None:
        self.jobs.remove(job_id)
        self._specs.pop(job_id, None)
        self.dispatcher.job_removed(job_id)
        if self.scheduling:
            with store_lock(self.scheduler):  # no pass between the check and the removal
                if self.scheduler.get_job(job_id):
                    self.scheduler.remove_job(job_id)
        self._jobs_changed((job_id,))

    def set_paused(self, job_id: str, paused: bool) -> JobSpec:
        spec = self.jobs.set_paused(job_id, paused)
        self._specs[spec.id] = spec
        if self._dispatcher is not None:  # paused: its pending retries end (jobs.retries)
            self._dispatcher.job_changed(spec)
        if self.scheduling:
            with store_lock(self.scheduler):  # no pass between the check and the change
                if self.scheduler.get_job(job_id) is None:
                    add_to_scheduler(self.scheduler, spec)
                elif paused:
                    self.scheduler.pause_job(job_id)
                else:
                    self.scheduler.resume_job(job_id)  # next run computed from now: pausing skips runs
        self._jobs_changed((job_id,))
        return spec

    def set_all_paused(self, paused: bool) -> int:
        changed = [spec for spec in self.jobs.all() if spec.paused != paused]
        for spec in changed:
            self.set_paused(spec.id, paused)
        return len(changed)

    def _schedule(self, spec: JobSpec) -> None:
        self._specs[spec.id] = spec
        self.dispatcher.job_changed(spec)  # a waiting run waits for the conditions as saved
        if self.scheduling:
            add_to_scheduler(self.scheduler, spec)
        self._jobs_changed((spec.id,))

    # --- runs -----------------------------------------------------------------------------

    def run_now(self, job_id: str, *, ignore_conditions: bool = False) -> int | None:
        """Run a job at once without moving its schedule; None when its overlap policy skips it.

        A job with conditions waits for them like a scheduled run. `ignore_conditions` ("Run
        anyway") starts the job's oldest waiting run if it has one, else a new run, at once."""
        spec = self.jobs.get(job_id)
        if ignore_conditions:
            started = self.dispatcher.run_anyway(spec.id)
            if started is not None:
                return started
        if not self.scheduling and self._recovered is None:
            # The command line running a job itself (no instance holds the data directory):
            # first end what a crashed instance left running, so the job does not run twice.
            self.recover_leftovers()
            for run_id in self._recovered_here:  # remote runs go on on their workers: no wait
                self.dispatcher.wait(run_id, timeout=self.settings.kill_grace + 10)
        return self.dispatcher.submit(spec, RunCause.MANUAL, ignore_conditions=ignore_conditions)  # no slot: nothing was scheduled

    # --- runs in progress (the dispatcher) ---------------------------------------------

    def waiting_for(self, run_id: int) -> str | None:
        """What run `run_id` waits for ("AC power"), or None when it is not waiting."""
        return self.dispatcher.waiting_for(run_id)

    def run_anyway(self, run_id: int) -> bool:
        """Start a waiting run now, whatever its conditions; False if it is not waiting."""
        return self.dispatcher.release_held(run_id, anyway=True)

    def cancel_run(self, run_id: int) -> bool:
        return self.dispatcher.cancel(run_id)

    def wait_for_run(self, run_id: int, timeout: float | None = None) -> RunRecord | None:
        return self.dispatcher.wait(run_id, timeout)

    def running_count(self) -> int:
        """Runs whose process is going now (queued runs not counted)."""
        return self.dispatcher.running_count()

    def active_runs(self) -> list[RunRecord]:
        """Runs waiting, queued or running now, oldest first (a run whose row is not written yet is left out)."""
        records = (self.history.get(run_id) for run_id in self.dispatcher.active_runs())
        return [record for record in records if record is not None and not record.status.is_final]

    def prune_history(self) -> int:
        s = self.settings  # in short batches, stopped by shutdown (jobs.retention)
        return self.retention.run(max_age_days=s.retention_days or None, max_runs_per_job=s.retention_runs or None)

    @property
    def alert_settings(self) -> AlertSettings:
        return self.alert_config.settings

    def set_setting(self, name: str, value: Any) -> CoreSettings:
        before = self.settings.broker
        save_setting(self.engine, name, value)
        self.settings = load_settings(self.engine)
        if self._dispatcher is not None:  # else it starts with the new settings
            self._apply_runner_settings(self._dispatcher)
        if self.settings.broker != before and self._dispatcher is not None:
            self._dispatcher.remote.replace()
        return self.settings

def _unchanged_date(old: JobSpec, new: JobSpec) -> bool:
    """Editing a finished one-off job's name must not fail on its past date."""
    return isinstance(new.trigger, DateSpec) and old.trigger == new.trigger
