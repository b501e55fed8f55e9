"""`JobService`: the core as one object. The window, `serve` and the command line all use it.

It opens a data directory (database, logs), and either runs the scheduler (`start()`, on the
thread that runs the Qt event loop) or acts on the store alone (command line with no running
instance). Changes go to our definitions table first, then to APScheduler.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import text
from tzlocal import get_localzone

from jobs.codec import validate_job
from jobs import dbcheck
from jobs.db import open_checked_database
from jobs.dispatcher import Dispatcher, RunnerSettings
from jobs.entry import set_handler
from jobs.events import JobEvents
from jobs.history import HistoryQuery, HistoryRepository
from jobs.misfire import plan_due_runs
from jobs.names import check_new_name, plan_import
from jobs.model import DateSpec, JobSpec, RunCause, RunRecord, RunStatus
from jobs.paths import DataDir, ensure_private_dir
from jobs.reconcile import add_to_scheduler, reconcile, scheduling_spec
from jobs.repository import BrokenRow, JobNotFound, JobRepository
from jobs.runners import LocalRunner, Runner, RunnerUnavailable
from jobs.runners.choice import NO_BROKER
from jobs.settings import CoreSettings, load_settings, save_setting
from jobs.upcoming import MAX_MARKS, TIMELINE_SPAN, UPCOMING_HORIZON, UPCOMING_LIMIT, FireTimes, Lane

log = logging.getLogger(__name__)

APS_TABLE = "apscheduler_jobs"
NO_CELERY = 'Celery is not installed here: pip install "jobdesk[worker]" (needed to send runs to workers)'


class JobService:
    def __init__(self, data_dir: DataDir, *, watchdog_interval: float = 30.0) -> None:
        self.data_dir = data_dir
        ensure_private_dir(data_dir.root)
        ensure_private_dir(data_dir.logs)
        self.engine, self._db_check = open_checked_database(data_dir.database)
        self.jobs = JobRepository(self.engine)
        self.history = HistoryRepository(self.engine)
        self.settings = load_settings(self.engine)
        self.events = JobEvents()
        self.dispatcher = Dispatcher(data_dir, self.history, self.events, self._runner_settings())
        self.dispatcher.remote.factory = self._remote_runner
        self._apply_runner_settings()
        self.scheduler: Any = None
        self.watchdog: Any = None
        # Definitions by id, for the fire path: a due job must not wait for a query and a JSON
        # decode. Kept current by this object's own writes; only the lock holder writes.
        self._specs: dict[str, JobSpec] = {}
        self._watchdog_interval = watchdog_interval
        self.fire_times = FireTimes()  # triggers and fire times kept per trigger spec
        self._recovered: list[int] | None = None  # runs handed back to their runner, once per session
        self._recovered_here: list[int] = []  # those of them that ran on this computer

    def _runner_settings(self) -> RunnerSettings:
        s = self.settings
        return RunnerSettings(max_concurrent=s.max_concurrent, log_cap_bytes=s.log_cap_mb * 1024 * 1024, kill_grace=s.kill_grace)

    def _remote_runner(self) -> Runner:
        """The runner of jobs with `runs_on` (Celery is imported here, on first use)."""
        url = self.settings.broker
        if not url:
            raise RunnerUnavailable(NO_BROKER)
        if importlib.util.find_spec("celery") is None or importlib.util.find_spec("redis") is None:
            raise RunnerUnavailable(NO_CELERY)
        from jobs.runners.celery_runner import CeleryRunner

        return CeleryRunner(url, output_interval=self.dispatcher.settings.output_interval)

    def _apply_runner_settings(self) -> None:
        self.dispatcher.settings = settings = self._runner_settings()
        runner = self.dispatcher.runner
        if isinstance(runner, LocalRunner):
            runner.kill_grace = settings.kill_grace

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        """Start scheduling. Needs a Q(Core)Application; call on its thread."""
        from jobs.scheduler import ClockWatchdog, DispatchExecutor, JobdeskScheduler

        self.recover_leftovers()
        self.scheduler = JobdeskScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename=APS_TABLE)},
            executors={"default": DispatchExecutor(self._on_due)},
            timezone=get_localzone(),
            jobstore_retry_interval=5,
        )
        self.scheduler.start(paused=True)
        specs = self.jobs.all()
        self._specs = {spec.id: spec for spec in specs}
        report = reconcile(self.scheduler, specs, datetime.now(timezone.utc))
        for spec, plan in report.missed:
            self._apply_plan(spec, plan)
        set_handler(self._fire_by_reference)
        self.scheduler.resume()
        self.watchdog = ClockWatchdog(self.scheduler, interval=self._watchdog_interval)
        self.watchdog.start()
        threading.Thread(target=self.prune_history, name="history-retention", daemon=True).start()
        if not self._db_check.complete:  # a big file: the open checked what its budget allowed
            threading.Thread(target=self._finish_database_check, name="database-check", daemon=True).start()

    def _finish_database_check(self) -> None:
        begun = time.monotonic()
        try:
            problem = dbcheck.full_check(self.data_dir.database)
        except Exception as exc:
            problem = f"{self.data_dir.database} cannot be checked: {exc}"
        if problem is None:
            log.info("database check finished in %.1fs: no damage", time.monotonic() - begun)
            return
        log.error("%s; no new run will start", problem)
        self.dispatcher.refuse(problem)
        self.events.database_damaged.emit(problem)

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
        self.dispatcher.shutdown()
        self.engine.dispose()

    @property
    def scheduling(self) -> bool:
        return self.scheduler is not None and self.scheduler.running

    # --- due runs -------------------------------------------------------------------------

    def _on_due(self, job_id: str, run_times: list[datetime]) -> None:
        """Called by the executor (GUI thread) with every due time of one job."""
        try:
            spec = self._specs.get(job_id) or self.jobs.get(job_id)
        except JobNotFound:
            log.warning("scheduler fired %s, which has no definition; removing it", job_id)
            self.scheduler.remove_job(job_id)
            return
        now = datetime.now(timezone.utc)
        self._apply_plan(spec, plan_due_runs(spec, run_times, now))
        self.events.jobs_changed.emit((job_id,))  # its next run time moved

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
        validate_job(spec)
        if not allow_duplicate_name:
            check_new_name(self.jobs, replace(spec, id=""))
        saved = self.jobs.add(scheduling_spec(replace(spec, id="")))
        self._schedule(saved)
        return saved

    def update_job(self, spec: JobSpec, *, allow_duplicate_name: bool = False) -> JobSpec:
        validate_job(spec, allow_past_date=_unchanged_date(self.jobs.get(spec.id), spec))
        if not allow_duplicate_name:
            check_new_name(self.jobs, spec)
        saved = self.jobs.update(scheduling_spec(spec))
        self._schedule(saved)
        return saved

    def import_jobs(self, specs: list[JobSpec], *, allow_duplicate_name: bool = False) -> list[JobSpec]:
        """Add or update several definitions at once (all were validated by the caller). A job
        without an id replaces the one job of its name; name conflicts raise ImportProblem."""
        specs = plan_import(self.jobs, specs, allow_duplicate_name=allow_duplicate_name).specs
        saved = self.jobs.add_many([scheduling_spec(spec) for spec in specs])
        for spec in saved:
            self._specs[spec.id] = spec
            if self.scheduling:
                add_to_scheduler(self.scheduler, spec)
        self.events.jobs_changed.emit(())
        return saved

    def remove_job(self, job_id: str) -> None:
        self.jobs.remove(job_id)
        self._specs.pop(job_id, None)
        if self.scheduling and self.scheduler.get_job(job_id):
            self.scheduler.remove_job(job_id)
        self.events.jobs_changed.emit((job_id,))

    def set_paused(self, job_id: str, paused: bool) -> JobSpec:
        spec = self.jobs.set_paused(job_id, paused)
        self._specs[spec.id] = spec
        if self.scheduling:
            if self.scheduler.get_job(job_id) is None:
                add_to_scheduler(self.scheduler, spec)
            elif paused:
                self.scheduler.pause_job(job_id)
            else:
                self.scheduler.resume_job(job_id)  # next run computed from now: pausing skips runs
        self.events.jobs_changed.emit((job_id,))
        return spec

    def set_all_paused(self, paused: bool) -> int:
        changed = [spec for spec in self.jobs.all() if spec.paused != paused]
        for spec in changed:
            self.set_paused(spec.id, paused)
        return len(changed)

    def _schedule(self, spec: JobSpec) -> None:
        self._specs[spec.id] = spec
        if self.scheduling:
            add_to_scheduler(self.scheduler, spec)
        self.events.jobs_changed.emit((spec.id,))

    # --- runs -----------------------------------------------------------------------------

    def run_now(self, job_id: str) -> int | None:
        """Run a job at once without moving its schedule; None when its overlap policy skips it."""
        spec = self.jobs.get(job_id)
        if not self.scheduling and self._recovered is None:
            # The command line running a job itself (no instance holds the data directory):
            # first end what a crashed instance left running, so the job does not run twice.
            self.recover_leftovers()
            for run_id in self._recovered_here:  # remote runs go on on their workers: no wait
                self.dispatcher.wait(run_id, timeout=self.settings.kill_grace + 10)
        return self.dispatcher.submit(spec, RunCause.MANUAL, datetime.now(timezone.utc))

    def cancel_run(self, run_id: int) -> bool:
        return self.dispatcher.cancel(run_id)

    def wait_for_run(self, run_id: int, timeout: float | None = None) -> RunRecord | None:
        return self.dispatcher.wait(run_id, timeout)

    def query_history(self, query: HistoryQuery = HistoryQuery()) -> list[RunRecord]:
        return self.history.query(query)

    def prune_history(self) -> int:
        s = self.settings
        try:
            removed = self.history.prune(
                max_age_days=s.retention_days or None, max_runs_per_job=s.retention_runs or None
            )
        except Exception:
            log.exception("history retention failed; will try again next start")
            return 0
        if removed:
            log.info("history retention removed %d old runs", removed)
        return removed

    def set_setting(self, name: str, value: Any) -> CoreSettings:
        before = self.settings.broker
        save_setting(self.engine, name, value)
        self.settings = load_settings(self.engine)
        self._apply_runner_settings()
        if self.settings.broker != before:
            self.dispatcher.remote.replace()
        return self.settings

    # --- reads for the window (typed, so it never reaches past the service) ---------------

    def read_jobs(self) -> tuple[list[JobSpec], list[BrokenRow]]:
        """Every readable definition (by name) and the stored rows that cannot be read."""
        specs = self.jobs.all()
        return specs, list(self.jobs.broken)

    def list_jobs(self) -> list[JobSpec]:
        """Every readable definition, by name."""
        return self.jobs.all()

    def last_runs(self, job_ids: Iterable[str]) -> dict[str, RunRecord]:
        """The newest run of each of `job_ids` that has one."""
        return self.history.last_runs(job_ids)

    def get_run(self, run_id: int) -> RunRecord | None:
        return self.history.get(run_id)

    def running_count(self) -> int:
        """Runs whose process is going now (queued runs not counted)."""
        return self.dispatcher.running_count()

    def active_runs(self) -> list[RunRecord]:
        """Runs queued or running now, oldest first (a run whose row is not written yet is left out)."""
        records = (self.history.get(run_id) for run_id in self.dispatcher.active_runs())
        return [record for record in records if record is not None and not record.status.is_final]

    # --- next runs ------------------------------------------------------------------------

    def next_run_times(self, specs: Sequence[JobSpec] | None = None) -> dict[str, datetime]:
        """Each scheduled job's next run (aware UTC), from APScheduler's store in one query.

        Jobs that APScheduler does not know yet (added while no scheduler ran) get the trigger's
        next time from now; paused and finished jobs have none. `specs`: the definitions when
        the caller has them already (else they are read).
        """
        with self.engine.connect() as conn:
            has_table = conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE type='table' AND name=:n"), {"n": APS_TABLE}
            ).first()
            stored: dict[str, float | None] = dict(conn.execute(text(f"SELECT id, next_run_time FROM {APS_TABLE}")).all()) if has_table else {}
        out = {}
        now = datetime.now(timezone.utc)
        for spec in self.jobs.all() if specs is None else specs:
            if spec.paused:
                continue
            if spec.id in stored:
                timestamp = stored[spec.id]
                if timestamp is not None:
                    out[spec.id] = datetime.fromtimestamp(timestamp, timezone.utc)
            elif not self.scheduling:
                upcoming = self.fire_times.after(spec.trigger, now, 1)
                if upcoming:
                    out[spec.id] = upcoming[0]
        return out

    def upcoming(self, *, limit: int = UPCOMING_LIMIT, horizon: timedelta = UPCOMING_HORIZON) -> list[tuple[datetime, JobSpec]]:
        """Upcoming fires, soonest first: every active job's next run, then the nearest further
        fires within `horizon` up to `limit` rows (jobs.upcoming.FireTimes.upcoming)."""
        specs = self.jobs.all()
        return self.fire_times.upcoming(specs, self.next_run_times(specs), limit=limit, horizon=horizon)

    def timeline(self, *, span: timedelta = TIMELINE_SPAN, max_marks: int = MAX_MARKS) -> list[Lane]:
        """Every active job's fires over the next `span`: listed, or summed up when dense
        (jobs.upcoming.FireTimes.timeline)."""
        specs = self.jobs.all()
        return self.fire_times.timeline(specs, self.next_run_times(specs), span=span, max_marks=max_marks)


def _unchanged_date(old: JobSpec, new: JobSpec) -> bool:
    """Editing a finished one-off job's name must not fail on its past date."""
    return isinstance(new.trigger, DateSpec) and old.trigger == new.trigger
