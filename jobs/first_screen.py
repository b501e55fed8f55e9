"""The jobs that come first in next-run order, read without reading every definition.

The window's Jobs table is sorted by next run unless the user picks another column. At 10,000
jobs, reading and decoding every definition takes ~0.2 s after the first paint, and the table
stayed empty meanwhile. Its top rows are the jobs due soonest, and APScheduler's store finds those
through its `next_run_time` index. Only jobs the store holds no time for must be read as well,
because their place comes from their definitions: paused jobs, jobs that run after other jobs,
and jobs added while no scheduler ran. The upstream jobs of after-jobs are read too, so that the
expected times of after-jobs are the ones a full read gives.

`SoonestJobs.horizon` is the promise. Every job left out runs strictly after it. So the soonest
jobs, sorted as the table sorts them, are exactly the table's first rows up to that time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, text

from jobs.model import AfterSpec, JobSpec
from jobs.last_runs import id_chunks
from jobs.repository import JobRepository
from jobs.stored_next_runs import APS_TABLE

MOST_READ = 2000  # read more definitions than this and a full read is as quick: give up


@dataclass(frozen=True)
class SoonestJobs:
    specs: list[JobSpec]  # by name, as JobRepository.all lists them
    horizon: datetime  # every job not in `specs` has a next run later than this (or none)


def soonest_jobs(engine: Engine, jobs: JobRepository, count: int, *, at_least: int = 0,
                 most: int = MOST_READ) -> SoonestJobs | None:  # fmt: skip
    """At least the `count` jobs due soonest and every job whose place needs its definition.
    None when that would not save reading them all: there are fewer than `at_least` jobs, fewer
    than `count` jobs have a stored next run, or more than `most` definitions would be read."""
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM sqlite_master WHERE type='table' AND name=:n"), {"n": APS_TABLE}).first():
            return None
        if at_least and conn.execute(text("SELECT count(*) FROM job_definitions")).scalar_one() < at_least:
            return None
        horizon = conn.execute(text(f"SELECT next_run_time FROM {APS_TABLE} WHERE next_run_time IS NOT NULL "
                                    "ORDER BY next_run_time LIMIT 1 OFFSET :skip"), {"skip": count - 1}).scalar()  # fmt: skip
        if horizon is None:
            return None
        due = conn.execute(text(f"SELECT id FROM {APS_TABLE} WHERE next_run_time <= :horizon"),
                           {"horizon": horizon}).scalars().all()  # fmt: skip
        untimed = conn.execute(text(f"SELECT id FROM job_definitions WHERE id NOT IN "
                                    f"(SELECT id FROM {APS_TABLE} WHERE next_run_time IS NOT NULL)")).scalars().all()  # fmt: skip
    wanted = set(due) | set(untimed)
    if len(wanted) > most:
        return None
    specs = _decoded(jobs, wanted)
    upstream = {up for spec in specs if isinstance(spec.trigger, AfterSpec) for up in spec.trigger.jobs} - wanted
    if upstream:  # scheduled later than the horizon, but an after-job's expected time needs theirs
        specs = _decoded(jobs, wanted | upstream)
    return SoonestJobs(specs, datetime.fromtimestamp(float(horizon), timezone.utc))


def _decoded(jobs: JobRepository, ids: set[str]) -> list[JobSpec]:
    rows = [row for chunk in id_chunks(sorted(ids)) for row in jobs.rows(chunk)]
    rows.sort(key=lambda row: (row.name, row.id))  # as one query orders them (UTF-8 bytes sort as code points)
    specs = []
    for row in rows:
        spec = jobs.decode(row)
        if spec is not None:  # an unreadable row: the full read that follows reports it
            specs.append(spec)
    return specs
