"""Bring APScheduler's job store in line with our definitions at start-up.

Our table is the truth, APScheduler's rows a cache that also remembers each job's next run time.
Re-adding every job with replace_existing would recompute that time from now and silently drop
runs missed while Jobdesk was closed (NOTES item 9). So: add what is missing, reschedule only
what changed (the APScheduler job's name carries a fingerprint of the trigger), remove what has
no definition, and turn past-due next run times into a plan for the missed-run policy, without
letting APScheduler enumerate 43,000 missed minutes on the GUI thread (item 16).

Stored rows whose trigger is of an older kind (cron rows before `WallClockCronTrigger`, see
jobs.triggers) get the current trigger with their stored next run time kept as it is, for the
same reason: recomputing it from now would drop a run missed while closed.

At 10,000 jobs, loading every APScheduler job (unpickling it, rebuilding its trigger) and
decoding every definition took 1.4 s of a 2.5 s start (issue 10). So the store's rows are only
peeked at (`stored_jobs`: name, trigger class and next run time, with the trigger's state left
unread) and each definition's fingerprint is taken from its stored JSON. A job whose
fingerprint matches and that needs nothing (not paused or resumed, not past due, no migration)
is left alone without being decoded or loaded; every other job goes the full way, as before.
A definition that cannot be decoded is treated as missing (its row is removed) when it gets
there; one whose fingerprint still matches is dropped at its next fire instead.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import pickle
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from jobs import triggers
from jobs.entry import FUNC_REF
from jobs.gui_priority import every, fetched_in_parts
from jobs.misfire import DuePlan, plan_due_runs
from jobs.cron_trigger import WallClockCronTrigger
from jobs.model import CronSpec, IntervalSpec, JobSpec
from jobs.repository import StoredDefinition
from jobs.trigger_build import has_times

log = logging.getLogger(__name__)

MISSED_SCAN_LIMIT = 1000


def fingerprint(spec: JobSpec) -> str:
    return _fingerprint_of(triggers.spec_to_dict(spec.trigger))


def _fingerprint_of(trigger: Any) -> str:
    data = json.dumps(trigger, sort_keys=True)
    return "trigger:" + hashlib.sha256(data.encode()).hexdigest()[:20]


def stored_fingerprint(row: StoredDefinition) -> tuple[str, str] | None:
    """(fingerprint, trigger type) from a row's stored JSON, without decoding the definition;
    None if the text is not what `jobs.repository` writes. Equal to the decoded spec's
    fingerprint for every row written by `jobs.codec`, so a match proves the trigger unchanged."""
    try:
        trigger = json.loads(row.spec)["trigger"]
        return _fingerprint_of(trigger), str(trigger["type"])
    except (ValueError, TypeError, KeyError):
        return None


def scheduling_spec(spec: JobSpec) -> JobSpec:
    """Interval jobs need a fixed anchor so their trigger (and fingerprint) never depends on now."""
    trigger = spec.trigger
    if isinstance(trigger, IntervalSpec) and trigger.start is None:
        anchor = datetime.now(ZoneInfo(trigger.timezone)).replace(microsecond=0)
        return replace(spec, trigger=replace(trigger, start=anchor))
    return spec


def store_lock(scheduler: Any) -> Any:
    """APScheduler's lock over its stores (an RLock): held, no pass (on the scheduler's own
    thread) runs between a check of a job and what is done with it; a one-off could fire and
    go in between (a JobLookupError)."""
    return scheduler._jobstores_lock


def add_to_scheduler(scheduler: Any, spec: JobSpec) -> None:
    """Add or replace the APScheduler job of a definition, paused if the definition is. A job
    that runs after other jobs has none: jobs.chains starts its runs. Holds the scheduler's
    store lock, so that no pass (on its own thread) fires and removes a one-off job between
    the check and the removal here."""
    with store_lock(scheduler):
        _add_to_scheduler(scheduler, spec)


def _add_to_scheduler(scheduler: Any, spec: JobSpec) -> None:
    if not has_times(spec.trigger):
        if scheduler.get_job(spec.id):
            scheduler.remove_job(spec.id)
        return
    options: dict[str, Any] = dict(
        trigger=triggers.to_aps_trigger(spec.trigger), args=[spec.id], id=spec.id, name=fingerprint(spec),
        replace_existing=True, coalesce=False, misfire_grace_time=None, max_instances=1,
    )
    if spec.paused:
        options["next_run_time"] = None
    elif options["trigger"].get_next_fire_time(None, datetime.now(ZoneInfo(_tz(spec)))) is None:
        if scheduler.get_job(spec.id):
            scheduler.remove_job(spec.id)
        return  # a one-off whose time has passed: nothing left to schedule
    scheduler.add_job(FUNC_REF, **options)


# --- APScheduler's rows, peeked at ---------------------------------------------------------

WALL_CLOCK_CRON = f"{WallClockCronTrigger.__module__}.{WallClockCronTrigger.__qualname__}"


@dataclass(frozen=True)
class StoredJob:
    """What reconciling needs of an APScheduler row, read without building its trigger."""

    name: str  # our fingerprint (see `add_to_scheduler`)
    trigger_class: str  # module.Name of the pickled trigger
    next_run_time: datetime | None


class _Unread:
    """Stands in for a pickled trigger (or anything of ours or APScheduler's): keeps nothing."""

    qualified = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Unread:
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass


class _Peek(pickle.Unpickler):
    """Unpickles a job state with its trigger (and any class of ours or APScheduler's) left
    as a stand-in: building a WallClockCronTrigger was most of the cost of loading a row."""

    def find_class(self, module: str, name: str) -> Any:
        found = _FOUND.get((module, name))
        if found is None:
            if module.split(".")[0] in ("jobs", "apscheduler"):
                found = type(name, (_Unread,), {"qualified": f"{module}.{name}"})
            else:
                found = super().find_class(module, name)
            _FOUND[(module, name)] = found
        return found


_FOUND: dict[tuple[str, str], Any] = {}


def stored_jobs(engine: Engine, table: str) -> dict[str, StoredJob | None]:
    """Every APScheduler row by job id; None for a row that cannot be peeked at (it then
    goes the full way, through the scheduler)."""
    with engine.connect() as conn:
        rows = list(fetched_in_parts(conn.execute(text(f"SELECT id, job_state FROM {table}"))))
    out: dict[str, StoredJob | None] = {}
    for job_id, state in every(rows):  # (jobs.gui_priority: a window's GUI thread first)
        try:
            data = _Peek(io.BytesIO(state)).load()
            trigger = data["trigger"]
            when = data["next_run_time"]  # what APScheduler would load (the column is its index)
            if when is not None and not isinstance(when, datetime):
                raise TypeError(f"next_run_time {when!r}")
            out[job_id] = StoredJob(
                str(data["name"]),
                trigger.qualified if isinstance(trigger, _Unread) else f"{type(trigger).__module__}.{type(trigger).__qualname__}",
                when,
            )  # fmt: skip
        except Exception:  # anything odd in a row: let APScheduler itself load it
            out[job_id] = None
    return out


@dataclass(frozen=True)
class ReconcileReport:
    added: int
    rescheduled: int
    removed: int
    missed: tuple[tuple[JobSpec, DuePlan], ...]
    migrated: int = 0  # rows whose trigger was replaced by the current kind


@dataclass
class ReconcilePlan:
    """What `plan` found: the rows that go the full way, and the store's rows left unmatched
    so far (those of the work rows are matched by `Reconciling`, the rest are removed)."""

    work: list[StoredDefinition]
    left: dict[str, StoredJob | None]


def plan(rows: Iterable[StoredDefinition], stored: Mapping[str, StoredJob | None], now: datetime) -> ReconcilePlan:
    """The cheap first pass, without the scheduler: any thread may run it (issue 10)."""
    left = dict(stored)
    work = []
    for row in every(rows):
        peeked = left.get(row.id)
        if peeked is not None and not _needs_work(row, peeked, now):
            del left[row.id]
        else:
            work.append(row)
    return ReconcilePlan(work, left)


class Reconciling:
    """The full way for a plan's work rows, a few at a time (`step`), then `finish`. On the
    scheduler's thread, with the scheduler started *paused*. Whatever the user changed between
    `plan` and a step already reached the scheduler (it was running): so `step` takes the rows
    as they are now (a removed job's row is simply missing) and `finish` removes only entries
    still there."""

    def __init__(self, scheduler: Any, left: dict[str, StoredJob | None],
                 decode: Callable[[StoredDefinition], JobSpec | None]) -> None:  # fmt: skip
        self.scheduler = scheduler
        self.left = left
        self.decode = decode
        self.added = self.rescheduled = self.migrated = 0
        self.plans: list[tuple[JobSpec, DuePlan]] = []

    def step(self, rows: Iterable[StoredDefinition], now: datetime) -> None:
        scheduler, left = self.scheduler, self.left
        for row in rows:
            spec = self.decode(row)
            if spec is None:
                continue  # as if it had no definition: its row is removed below
            if not has_times(spec.trigger):
                continue  # runs after other jobs: no row of its own (one left from another trigger goes below)
            job = scheduler.get_job(spec.id) if left.pop(spec.id, False) is not False else None
            if job is not None and job.name == fingerprint(spec) and _outdated(spec, job):
                job = _migrate(scheduler, spec, job)
                self.migrated += 1
            if job is None or job.name != fingerprint(spec):
                add_to_scheduler(scheduler, spec)
                self.added += job is None
                self.rescheduled += job is not None
            elif spec.paused and job.next_run_time is not None:
                scheduler.pause_job(spec.id)
            elif not spec.paused and job.next_run_time is None:
                scheduler.resume_job(spec.id)
            elif not spec.paused and job.next_run_time < now:
                self.plans.append((spec, _catch_up(scheduler, spec, job, now)))

    def finish(self) -> ReconcileReport:
        from apscheduler.jobstores.base import JobLookupError  # (not at import: the command line needs none)

        removed = 0
        for job_id in self.left:
            log.info("removing scheduler entry %s: no such job definition", job_id)
            try:
                self.scheduler.remove_job(job_id)  # (never loaded: the row may not unpickle)
            except JobLookupError:
                continue  # removed meanwhile (a job deleted while a staged start ran)
            removed += 1
        if self.plans:
            slots = sum(len(plan.runs) + len(plan.missed) for _, plan in self.plans)
            log.warning("%d job(s) had %d run time(s) pass while Jobdesk was not running (per job: jobdesk.log; "
                        "their runs and missed rows: History, `jobdesk missed`)", len(self.plans), slots)  # fmt: skip
        if self.added or self.rescheduled or removed or self.migrated:
            log.info(
                "reconciled: %d added, %d rescheduled, %d removed, %d triggers migrated",
                self.added, self.rescheduled, removed, self.migrated,
            )  # fmt: skip
        return ReconcileReport(self.added, self.rescheduled, removed, tuple(self.plans), self.migrated)


def reconcile(
    scheduler: Any,
    rows: Iterable[StoredDefinition],
    stored: Mapping[str, StoredJob | None],
    now: datetime,
    decode: Callable[[StoredDefinition], JobSpec | None],
) -> ReconcileReport:
    """Call with the scheduler started *paused*, so nothing fires while this runs. `stored`:
    `stored_jobs()` of its store; `decode` turns a row into its definition (None: unreadable)."""
    found = plan(rows, stored, now)
    work = Reconciling(scheduler, found.left, decode)
    work.step(found.work, now)
    return work.finish()


def _needs_work(row: StoredDefinition, peeked: StoredJob, now: datetime) -> bool:
    """Whether a stored job may differ from its definition or is past due: everything the
    full way below could do something about, judged from the row and the peek alone."""
    found = stored_fingerprint(row)
    if found is None or found[0] != peeked.name:
        return True
    if found[1] == "cron" and peeked.trigger_class != WALL_CLOCK_CRON:
        return True  # an older trigger kind: migrate
    if row.paused:
        return peeked.next_run_time is not None
    return peeked.next_run_time is None or peeked.next_run_time < now


def _outdated(spec: JobSpec, job: Any) -> bool:
    """A cron row still holding an APScheduler CronTrigger (or an OrTrigger of two)."""
    return isinstance(spec.trigger, CronSpec) and not isinstance(job.trigger, WallClockCronTrigger)


def _migrate(scheduler: Any, spec: JobSpec, job: Any) -> Any:
    """The current trigger for a stored row, with its stored next run time unchanged (NOTES 9)."""
    log.info("job %s: stored trigger %s replaced by the wall-clock cron trigger", spec.id, type(job.trigger).__name__)
    scheduler.modify_job(spec.id, trigger=triggers.to_aps_trigger(spec.trigger), next_run_time=job.next_run_time)
    return scheduler.get_job(spec.id)


def _catch_up(scheduler: Any, spec: JobSpec, job: Any, now: datetime) -> DuePlan:
    """Plan the runs missed while closed and move the job to its next future fire time."""
    first = job.next_run_time
    later, more = triggers.fire_times_between(spec.trigger, first, now, MISSED_SCAN_LIMIT - 1)
    times = [first, *later]
    following = job.trigger.get_next_fire_time(times[-1], now)
    if following is not None and following <= now:  # past the scan limit: jump to the future
        following = job.trigger.get_next_fire_time(None, now + timedelta(microseconds=1))
    if following is None:
        scheduler.remove_job(spec.id)
    else:
        scheduler.modify_job(spec.id, next_run_time=following)
    # Per job at INFO (jobdesk.log); `finish` sums them up in one warning: after a night closed at
    # 10,000 jobs, 371 warnings written one by one in the GUI thread's reconcile slices cost it ~0.1 s.
    log.info("job %s: %d%s run time(s) passed while Jobdesk was not running", spec.id, len(times), "+" if more else "")
    return plan_due_runs(spec, times, now, more=more)


def _tz(spec: JobSpec) -> str:
    return spec.trigger.timezone
