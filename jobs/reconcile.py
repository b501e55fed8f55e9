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
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from jobs import triggers
from jobs.entry import FUNC_REF
from jobs.misfire import DuePlan, plan_due_runs
from jobs.cron_trigger import WallClockCronTrigger
from jobs.model import CronSpec, IntervalSpec, JobSpec

log = logging.getLogger(__name__)

MISSED_SCAN_LIMIT = 1000


def fingerprint(spec: JobSpec) -> str:
    data = json.dumps(triggers.spec_to_dict(spec.trigger), sort_keys=True)
    return "trigger:" + hashlib.sha256(data.encode()).hexdigest()[:20]


def scheduling_spec(spec: JobSpec) -> JobSpec:
    """Interval jobs need a fixed anchor so their trigger (and fingerprint) never depends on now."""
    trigger = spec.trigger
    if isinstance(trigger, IntervalSpec) and trigger.start is None:
        anchor = datetime.now(ZoneInfo(trigger.timezone)).replace(microsecond=0)
        return replace(spec, trigger=replace(trigger, start=anchor))
    return spec


def add_to_scheduler(scheduler: Any, spec: JobSpec) -> None:
    """Add or replace the APScheduler job of a definition, paused if the definition is."""
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


@dataclass(frozen=True)
class ReconcileReport:
    added: int
    rescheduled: int
    removed: int
    missed: tuple[tuple[JobSpec, DuePlan], ...]
    migrated: int = 0  # rows whose trigger was replaced by the current kind


def reconcile(scheduler: Any, specs: Iterable[JobSpec], now: datetime) -> ReconcileReport:
    """Call with the scheduler started *paused*, so nothing fires while this runs."""
    stored = {job.id: job for job in scheduler.get_jobs()}
    added = rescheduled = migrated = 0
    plans = []
    for spec in specs:
        job = stored.pop(spec.id, None)
        if job is not None and job.name == fingerprint(spec) and _outdated(spec, job):
            job = _migrate(scheduler, spec, job)
            migrated += 1
        if job is None or job.name != fingerprint(spec):
            add_to_scheduler(scheduler, spec)
            added += job is None
            rescheduled += job is not None
        elif spec.paused and job.next_run_time is not None:
            scheduler.pause_job(spec.id)
        elif not spec.paused and job.next_run_time is None:
            scheduler.resume_job(spec.id)
        elif not spec.paused and job.next_run_time < now:
            plans.append((spec, _catch_up(scheduler, spec, job, now)))
    for job_id in stored:
        log.info("removing scheduler entry %s: no such job definition", job_id)
        scheduler.remove_job(job_id)
    if added or rescheduled or stored or migrated:
        log.info(
            "reconciled: %d added, %d rescheduled, %d removed, %d triggers migrated",
            added, rescheduled, len(stored), migrated,
        )  # fmt: skip
    return ReconcileReport(added, rescheduled, len(stored), tuple(plans), migrated)


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
    log.warning("job %s: %d%s run time(s) passed while Jobdesk was not running", spec.id, len(times), "+" if more else "")
    return plan_due_runs(spec, times, now, more=more)


def _tz(spec: JobSpec) -> str:
    return spec.trigger.timezone
