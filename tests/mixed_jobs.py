"""A mix of jobs whose next-run order has every case the Jobs table sorts (jobs.first_screen):
ties at one minute, names that differ only in case, paused jobs, one-off dates, intervals,
after-jobs (after a soon job, after a late one, after both, after another after-job, waiting for
a failure) and a job the scheduler's store holds no time for."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import text

from jobs.model import AfterSpec, CronSpec, DateSpec, IntervalSpec, JobSpec
from jobs.service import JobService
from tests.conftest import py


def add_mixed_jobs(service: JobService, seed: int, scheduled: int = 60) -> list[JobSpec]:
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    names = ["report", "Report", "älpha", "Alpha", "zeta", "Beta", "beta", "ÉCLAIR", "eclair"]
    added = []

    def add(name: str, trigger, paused: bool = False) -> JobSpec:
        spec = service.add_job(JobSpec(name=name, command=py("pass"), trigger=trigger))
        if paused:
            spec = service.set_paused(spec.id, True)
        added.append(spec)
        return spec

    minutes = [rng.randrange(60) for _ in range(6)]  # few distinct minutes: many ties
    for i in range(scheduled):
        name = f"{rng.choice(names)} {rng.randrange(5)}"  # ("Report 1" and "report 1": a tie once case is aside)
        name = name if name not in {spec.name for spec in added} else f"{name} {i}"
        kind = rng.random()
        if kind < 0.6:
            add(name, CronSpec(f"{rng.choice(minutes)} * * * *", "UTC"), paused=rng.random() < 0.1)
        elif kind < 0.8:
            add(name, IntervalSpec(rng.choice((7, 13, 45)), "minutes", "UTC"), paused=rng.random() < 0.1)
        else:
            add(name, DateSpec(now + timedelta(minutes=rng.randrange(5, 300)), "UTC"))
    timed = [spec for spec in added if not spec.paused]
    soon = min(timed, key=lambda spec: service.next_run_times([spec]).get(spec.id, now + timedelta(days=9)))
    late = add("late daily", CronSpec(f"{(now.minute + 30) % 60} {(now.hour + 12) % 24} * * *", "UTC"))
    first = add("after soon", AfterSpec((soon.id,)))
    add("after late", AfterSpec((late.id,)))
    add("after both", AfterSpec((soon.id, late.id)))
    add("after the after", AfterSpec((first.id,)))
    add("after a failure", AfterSpec((soon.id,), status="failure"))
    add("paused after", AfterSpec((soon.id,)), paused=True)
    unknown = add("not in the store", CronSpec("*/5 * * * *", "UTC"))
    with service.engine.begin() as conn:  # as if added while no scheduler ran (the store does not know it)
        conn.execute(text("DELETE FROM apscheduler_jobs WHERE id = :id"), {"id": unknown.id})
    return added
