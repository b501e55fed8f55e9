"""What to do with run times that came due: run them, collapse them, or record them as missed.

One pure function used both by the scheduler's executor (normal fires, wake-ups after sleep)
and by start-up reconciliation (runs missed while Jobdesk was closed), so both follow the job's
policy and not APScheduler's 1-second default (NOTES items 15, 28).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from jobs.durations import format_duration
from jobs.model import JobSpec, RunCause

# A run starting later than this after its slot is a catch-up, not a regular scheduled run.
CATCH_UP_AFTER_SECONDS = 30.0
# Past this many missed slots in one batch, the rest are summed up in one row.
MAX_MISSED_ROWS = 50


@dataclass(frozen=True)
class DuePlan:
    runs: tuple[tuple[datetime, RunCause], ...]
    missed: tuple[tuple[datetime, str], ...]


def plan_due_runs(job: JobSpec, run_times: list[datetime], now: datetime, *, more: bool = False) -> DuePlan:
    """Split due `run_times` (oldest first, all <= now) into runs to start and missed slots.

    `more` says that further slots passed and were not enumerated (a long downtime of a frequent
    job); they are reported in one summary row.
    """
    runs: list[tuple[datetime, RunCause]] = []
    missed: list[tuple[datetime, str]] = []
    in_grace = []
    for when in run_times:
        late = (now - when).total_seconds()
        if job.misfire_grace is not None and late > job.misfire_grace:
            missed.append((when, f"missed by {format_duration(late)} (grace {format_duration(job.misfire_grace)})"))
        else:
            in_grace.append(when)
    if job.coalesce and len(in_grace) > 1:
        kept = in_grace[-1]
        missed.extend((when, f"collapsed into one catch-up run at {_hhmm(kept)}") for when in in_grace[:-1])
        in_grace = [kept]
    for when in in_grace:
        late = (now - when).total_seconds()
        runs.append((when, RunCause.CATCH_UP if late > CATCH_UP_AFTER_SECONDS else RunCause.SCHEDULED))
    missed.sort()
    if len(missed) > MAX_MISSED_ROWS or more:
        kept_rows = missed[: MAX_MISSED_ROWS - 1]
        rest = missed[MAX_MISSED_ROWS - 1 :]
        first = rest[0][0] if rest else run_times[-1]
        count = f"{len(rest):,}{' or more' if more else ''}"
        summary = f"missed {count} runs from {first.isoformat(timespec='minutes')} to {now.isoformat(timespec='minutes')}"
        missed = kept_rows + [(first, summary)]
    return DuePlan(tuple(runs), tuple(missed))


def summarised_count(reason: str | None) -> int | None:
    """How many slots a summary row (see `plan_due_runs`) stands for; None for any other row."""
    match = _SUMMARY.match(reason or "")
    return int(match.group(1).replace(",", "")) if match else None


_SUMMARY = re.compile(r"missed ([\d,]+)(?: or more)? runs from ")


def _hhmm(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")
