"""A job's state in one word, by one rule for the window's State column and `jobdesk list`/`show`.

- "paused": the user paused it; scheduled runs do not happen.
- "finished": it is not paused, has no next run, and its trigger can end: a one-off job that has
  run (or whose time passed), an interval with an end date that has passed.
- "active": anything else. A cron job, or an interval without an end, always has a next run; if
  none is known (between a resume and the next read of the scheduler's store), it is still
  active, never "finished".

The rule was restated in the window and in `jobs.control.job_json` and the two disagreed about
a cron job without a known next run (issue 8 item 6): it lives here now, once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from jobs.model import DateSpec, IntervalSpec, JobSpec, TriggerSpec

JobState = Literal["active", "paused", "finished"]
ACTIVE: JobState = "active"
PAUSED: JobState = "paused"
FINISHED: JobState = "finished"
STATES: tuple[JobState, ...] = (ACTIVE, PAUSED, FINISHED)


def can_finish(trigger: TriggerSpec) -> bool:
    """Whether this trigger can run out of fire times (a date, or an interval with an end)."""
    return isinstance(trigger, DateSpec) or (isinstance(trigger, IntervalSpec) and trigger.end is not None)


def job_state(spec: JobSpec, next_run: datetime | None) -> JobState:
    """"paused", "finished" or "active" (see the module docstring)."""
    return state_of(spec.paused, spec.trigger, next_run)


def state_of(paused: bool, trigger: TriggerSpec, next_run: datetime | None) -> JobState:
    """`job_state` from the three things it looks at (jobs.listing has no JobSpec)."""
    if paused:
        return PAUSED
    return FINISHED if next_run is None and can_finish(trigger) else ACTIVE
