"""What every run is told about itself: JOBDESK_* environment variables.

One builder for every runner: the dispatcher puts these into the run's request environment
(`RunRequest.env`), which the local runner hands to the process and the Celery runner sends to
the worker (jobs.remote.protocol), so a run on another machine sees the same variables.

`JOBDESK_SCHEDULED_FOR` is the slot the run is for, in the job's time zone with its UTC offset,
so a catch-up run at 10:00 knows it is producing the 07:30 report; it is empty for a run with
no slot (Run now). `JOBDESK_UPSTREAM_RUN_ID` is set only for a run started by another job's run.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobs.model import JobSpec, RunCause

JOB_ID = "JOBDESK_JOB_ID"
JOB_NAME = "JOBDESK_JOB_NAME"
RUN_ID = "JOBDESK_RUN_ID"
CAUSE = "JOBDESK_CAUSE"
ATTEMPT = "JOBDESK_ATTEMPT"
SCHEDULED_FOR = "JOBDESK_SCHEDULED_FOR"
UPSTREAM_RUN_ID = "JOBDESK_UPSTREAM_RUN_ID"
NAMES = frozenset({JOB_ID, JOB_NAME, RUN_ID, CAUSE, ATTEMPT, SCHEDULED_FOR, UPSTREAM_RUN_ID})


def run_environment(
    job: JobSpec,
    run_id: int,
    cause: RunCause,
    *,
    attempt: int = 1,
    scheduled_for: datetime | None = None,
    upstream_run_id: int | None = None,
) -> dict[str, str]:
    """The JOBDESK_* variables of one run (they override the job's own `env` of the same name)."""
    env = {
        JOB_ID: job.id,
        JOB_NAME: job.name,
        RUN_ID: str(run_id),
        CAUSE: cause.value,
        ATTEMPT: str(attempt),
        SCHEDULED_FOR: slot_text(scheduled_for, job),
    }
    if upstream_run_id is not None:
        env[UPSTREAM_RUN_ID] = str(upstream_run_id)
    return env


def slot_text(moment: datetime | None, job: JobSpec) -> str:
    """ISO 8601 of `moment` in the job's time zone, with offset ("2026-12-01T07:30:00+01:00")."""
    if moment is None:
        return ""
    try:
        zone = ZoneInfo(job.trigger.timezone)
    except (ZoneInfoNotFoundError, ValueError):  # a zone this machine lacks: the offset still says when
        return moment.isoformat(timespec="seconds")
    return moment.astimezone(zone).isoformat(timespec="seconds")
