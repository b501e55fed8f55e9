"""Each job's next run from APScheduler's stored next_run_time: the rule, without a database driver.

jobs.next_runs reads the store through SQLAlchemy, jobs.list_local through plain sqlite3; both
apply this rule to what they read.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable, Iterable, Mapping, Protocol

from jobs.model import TriggerSpec

APS_TABLE = "apscheduler_jobs"
STORED_SQL = f"SELECT id, next_run_time FROM {APS_TABLE}"


class Scheduled(Protocol):
    """What a next run is read for: a JobSpec, or a listing's row (jobs.stored_rows)."""

    @property
    def id(self) -> str: ...
    @property
    def paused(self) -> bool: ...
    @property
    def trigger(self) -> TriggerSpec: ...


def next_times(specs: Iterable[Scheduled], stored: Mapping[str, float | None],
               first_fire: Callable[[TriggerSpec, datetime], datetime | None] | None) -> dict[str, datetime]:  # fmt: skip
    """Each scheduled job's next run (aware UTC); paused and finished jobs have none. `stored`:
    next_run_time by job id; a job the store does not know (added while no scheduler ran) gets
    `first_fire(trigger, now)` when that is given (None: a scheduler runs, so it will know soon)."""
    from jobs.trigger_build import has_times

    out = {}
    now = datetime.now(timezone.utc)
    for spec in specs:
        if spec.paused:
            continue
        if spec.id in stored:
            timestamp = stored[spec.id]
            if timestamp is not None:
                out[spec.id] = datetime.fromtimestamp(timestamp, timezone.utc)
        elif first_fire is not None and has_times(spec.trigger):
            upcoming = first_fire(spec.trigger, now)
            if upcoming is not None:
                out[spec.id] = upcoming
    return out
