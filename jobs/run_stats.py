"""How long a job usually takes, and what its recent runs looked like: for `show`, the Jobs
table's "Usual" column and strip, the statistics view and the longer/shorter-than-usual check.

Every read here is one statement for a whole set of jobs, whatever its size: the job ids go in
as one JSON parameter (`json_each`), and each job's newest runs are one range of an index
(`ix_runs_job_status_id` for successes, `ix_runs_job_id_id` for the strip), so the cost grows
with the jobs asked about, never with the history's length. The median and p95 are computed by
SQLite itself (window functions): only one row per job comes back.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, NamedTuple

from sqlalchemy import Engine

from jobs.gui_priority import EVERY, give_way
from jobs.model import JobSpec, RunStatus

USUAL_RUNS = 50  # successful runs a job's usual duration is computed from
STRIP_RUNS = 20  # runs the Jobs table's strip shows
MIN_RUNS_LONG = 3  # fewer successful runs than this: no "longer than usual" yet
MIN_RUNS_SHORT = 10  # "much shorter than usual" needs this many
SHORT_FRACTION = 0.25  # a success shorter than median x this is "much shorter than usual"

# What ran (has a duration or is running): the strip leaves out missed, skipped and queued rows.
_RAN = tuple(s.value for s in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.KILLED,
                               RunStatus.INTERRUPTED, RunStatus.RUNNING))


@dataclass(frozen=True)
class DurationStats:
    """A job's usual duration, from its newest `runs` (at most USUAL_RUNS) successful runs."""

    median: float  # seconds
    p95: float  # seconds, nearest rank
    runs: int

    def as_json(self) -> dict[str, Any]:
        return {"median": round(self.median, 3), "p95": round(self.p95, 3), "runs": self.runs}


NO_STATS_JSON: dict[str, Any] = {"median": None, "p95": None, "runs": 0}


class RunBar(NamedTuple):
    """One run of the strip or the statistics view: when, how long, how it ended. A tuple:
    10,000 jobs' strips are 200,000 of them, and a frozen dataclass cost 1 s more."""

    id: int
    status: RunStatus
    started_at: float | None  # epoch seconds
    duration: float | None  # None while it runs
    slow: str | None = None


# Each job's newest successes: the id of its `runs`-th newest (one seek that skips entries of
# the index), then the index range from there, read from the index alone. The median and p95
# are taken in Python from at most `runs` values per job: SQLite's window functions over the
# same 500,000 rows took 1.4 s where Python takes a fraction of that.
_STATS_SQL = """
WITH wanted(job_id) AS (SELECT DISTINCT value FROM json_each(?1)),
cut AS (
    SELECT w.job_id AS job_id, coalesce((
        SELECT y.id FROM runs y WHERE y.job_id = w.job_id AND y.status = 'succeeded' AND y.id < ?2
        ORDER BY y.id DESC LIMIT 1 OFFSET ?3 - 1), 0) AS low
    FROM wanted w
)
SELECT c.job_id, x.ended_at - x.started_at
FROM cut c JOIN runs x INDEXED BY ix_runs_job_status_id
  ON x.job_id = c.job_id AND x.status = 'succeeded' AND x.id >= c.low AND x.id < ?2
WHERE x.started_at IS NOT NULL AND x.ended_at IS NOT NULL
"""

# The strip: the newest `limit` runs of each status that ran bound where the newest `limit` of
# all of them can start (the highest of those cuts); each status is then one index range above it.
_RECENT_SQL = """
WITH wanted(job_id) AS (SELECT DISTINCT value FROM json_each(?1)),
ran(status) AS (VALUES {ran}),
cut AS (
    SELECT w.job_id AS job_id, coalesce((
        SELECT y.id FROM runs y WHERE y.job_id = w.job_id AND y.status = s.status AND y.id < ?2
        ORDER BY y.id DESC LIMIT 1 OFFSET ?3 - 1), 0) AS low
    FROM wanted w, ran s
),
bound AS (SELECT job_id, max(low) AS low FROM cut GROUP BY job_id)
SELECT b.job_id, x.id, x.status, x.started_at, x.ended_at, x.slow
FROM bound b, ran s JOIN runs x INDEXED BY ix_runs_job_status_id
  ON x.job_id = b.job_id AND x.status = s.status AND x.id >= b.low AND x.id < ?2
""".format(ran=", ".join(f"('{status}')" for status in _RAN))

_NO_LIMIT_ID = 2**62


def duration_stats(engine: Engine, job_ids: Iterable[str], *, before_id: int | None = None,
                   runs: int = USUAL_RUNS) -> dict[str, DurationStats]:  # fmt: skip
    """Median and p95 of each job's newest `runs` successful runs (only runs older than
    `before_id` when given); jobs without a successful run are left out."""
    ids = json.dumps(list(dict.fromkeys(job_ids)))
    durations: dict[str, list[float]] = {}
    for job_id, seconds in _rows(engine, _STATS_SQL, (ids, before_id or _NO_LIMIT_ID, runs)):
        durations.setdefault(job_id, []).append(max(0.0, seconds))
    return {job_id: _stats(values) for job_id, values in durations.items()}


def _rows(engine: Engine, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """Plain tuples from the driver: SQLAlchemy's rows cost 1.2 s more for 500,000 of them.
    Streamed, not fetched all at once: 500,000 rows held together were ~100 MiB of the
    window's peak memory at 10,000 jobs."""
    with engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        cursor = driver.execute(sql, params)
        while batch := cursor.fetchmany(EVERY):
            give_way()  # a window's GUI thread first, when busy (jobs.gui_priority)
            yield from batch


def _stats(values: list[float]) -> DurationStats:
    values.sort()
    n = len(values)
    median = values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2
    p95 = values[max(0, math.ceil(0.95 * n) - 1)]  # nearest rank
    return DurationStats(median, p95, n)


def recent_run_rows(engine: Engine, job_ids: Iterable[str], *, limit: int = STRIP_RUNS,
                    before_id: int | None = None) -> Iterator[tuple[Any, ...]]:  # fmt: skip
    """The strips' rows as SQLite streams them: (job id, run id, status value, started, ended,
    slow), up to a few times `limit` per job, in no order (`recent_runs` keeps the newest
    `limit` of each). For callers that keep strips in their own compact form."""
    ids = json.dumps(list(dict.fromkeys(job_ids)))
    return _rows(engine, _RECENT_SQL, (ids, before_id or _NO_LIMIT_ID, limit))


def recent_runs(engine: Engine, job_ids: Iterable[str], *, limit: int = STRIP_RUNS,
                before_id: int | None = None) -> dict[str, tuple[RunBar, ...]]:  # fmt: skip
    """Each job's newest `limit` runs that ran (or run now), oldest first."""
    by_job: dict[str, list[RunBar]] = {}
    statuses = {status.value: status for status in RunStatus}
    for job_id, run_id, status, started, ended, slow in recent_run_rows(engine, job_ids, limit=limit, before_id=before_id):
        # made into bars as they come: the rows themselves (job id text included) held all
        # together were tens of MiB at 10,000 jobs
        bar = RunBar(int(run_id), statuses[status], started, _seconds(started, ended), slow)
        by_job.setdefault(job_id, []).append(bar)
    return {job_id: tuple(sorted(bars, key=_bar_id)[-limit:]) for job_id, bars in by_job.items()}


def _bar_id(bar: RunBar) -> int:
    return bar.id


def _seconds(started: float | None, ended: float | None) -> float | None:
    return max(0.0, ended - started) if started is not None and ended is not None else None


def long_after(spec: JobSpec, stats: DurationStats | None) -> float | None:
    """Seconds after which a run of `spec` is longer than usual: max(p95 x factor, p95 +
    margin); None while the job has fewer than MIN_RUNS_LONG successful runs."""
    if stats is None or stats.runs < MIN_RUNS_LONG:
        return None
    return max(stats.p95 * spec.slow_factor, stats.p95 + spec.slow_margin)


def much_shorter(duration: float | None, stats: DurationStats | None) -> bool:
    """A successful run that took under a quarter of the median of at least MIN_RUNS_SHORT
    earlier successes (a report that "succeeded" on an empty input, a skipped step)."""
    if duration is None or stats is None or stats.runs < MIN_RUNS_SHORT:
        return False
    return duration < stats.median * SHORT_FRACTION


def eta(stats: DurationStats | None, elapsed: float) -> tuple[float, float] | None:
    """(seconds left, fraction done) of a running run by the median; None without stats.
    Past the median: nothing left, fraction capped at 1."""
    if stats is None or stats.median <= 0:
        return None
    return max(0.0, stats.median - elapsed), min(1.0, max(0.0, elapsed / stats.median))
