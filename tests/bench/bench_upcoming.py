"""Upcoming fires, Timeline lanes, next runs and schedule words at 10,000 cron jobs.

    python -m tests.bench.bench_upcoming [--jobs 10000] [--runs 3]

The jobs: 1 % every minute, 4 % every 5-15 minutes on weekdays, the rest daily or weekly at
random times, in five zones (one without DST). Each measure is timed against a baseline
from the same run:
- Upcoming (200 rows) as the core computed it before jobs/upcoming.py: a fresh APScheduler
  CronTrigger (an OrTrigger of two when both day fields are restricted) per job on every call,
  merged; against `FireTimes.upcoming` on its first call (cold) and on the next one (warm).
- Timeline lanes over 24 h (`FireTimes.timeline`, every job, dense lanes summed up) against
  the same old way capped at 200 fires, which is what the window's Timeline drew.
- Next run of every job without a scheduler (`list` with no `serve`): a trigger built per
  job against `FireTimes.after`.
- Schedule words: cron-descriptor's `ExpressionDescriptor` per job (what `list` paid, issue 10)
  against `describe()` (shared catalogue, cached per expression), cold and warm.
- Previews and DST notes for one expression (the editor), per call.
Prints a table (median of `--runs`) and writes tests/bench/results/upcoming.json.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from cron_descriptor import ExpressionDescriptor, Options

from jobs.cron import DAY_OF_MONTH, HOUR, MINUTE, MONTH, SUNDAY_FIRST, monday_first, parse_cron, runs_text, value_runs, values_text
from jobs.model import CronSpec, JobSpec
from jobs.trigger_words import cron_words
from jobs.triggers import GapSafeCronTrigger, describe, dst_notes, next_fire_times
from jobs.upcoming import FireTimes

RESULTS = Path(__file__).parent / "results"
UTC = timezone.utc
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]


def make_jobs(count: int, seed: int = 7) -> list[JobSpec]:
    rng, jobs = random.Random(seed), []
    for i in range(count):
        share = i % 100
        if share == 0:
            expression = "* * * * *"
        elif share < 5:
            expression = f"*/{rng.choice([5, 10, 15])} {rng.randint(6, 9)}-{rng.randint(17, 20)} * * 1-5"
        elif share < 20:
            expression = f"{rng.randint(0, 59)} {rng.randint(0, 23)} * * {rng.randint(0, 6)}"
        elif share < 25:
            expression = f"{rng.randint(0, 59)} {rng.randint(0, 23)} 1,15 * 1-5"
        else:
            expression = f"{rng.randint(0, 59)} {rng.randint(0, 23)} * * *"
        jobs.append(JobSpec(id=f"job{i:05}", name=f"job {i}", command=("true",), trigger=CronSpec(expression, rng.choice(ZONES))))
    return jobs


# --- the way it was done before jobs/upcoming.py ---------------------------------------------------


def old_trigger(spec: CronSpec) -> BaseTrigger:
    """The trigger the core built per job before WallClockCronTrigger (same construction)."""
    cron, zone = parse_cron(spec.expression), ZoneInfo(spec.timezone)
    common: dict[str, Any] = {
        "minute": values_text(cron.minutes, MINUTE), "hour": values_text(cron.hours, HOUR),
        "month": values_text(cron.months, MONTH), "timezone": zone,
    }  # fmt: skip
    days = values_text(cron.days, DAY_OF_MONTH)
    weekdays = "*"
    if len(cron.weekdays) < 7:
        weekdays = runs_text(value_runs(monday_first(cron.weekdays)), lambda day: SUNDAY_FIRST[(day + 1) % 7])
    if cron.either_day and days != "*" and weekdays != "*":
        return OrTrigger([GapSafeCronTrigger(day=days, day_of_week="*", **common),
                          GapSafeCronTrigger(day="*", day_of_week=weekdays, **common)])  # fmt: skip
    return GapSafeCronTrigger(day=days, day_of_week=weekdays, **common)


def old_upcoming(jobs: list[JobSpec], next_runs: dict[str, datetime], limit: int, now: datetime) -> list[Any]:
    by_id = {spec.id: spec for spec in jobs}
    end = now + timedelta(days=7)

    def stream(spec: JobSpec, first: datetime) -> Iterator[tuple[datetime, str]]:
        aps, when = old_trigger(spec.trigger), first  # type: ignore[arg-type]
        while when is not None:
            yield when.astimezone(UTC), spec.id
            when = aps.get_next_fire_time(when, when)

    out: list[Any] = []
    for when, job_id in heapq.merge(*(stream(by_id[i], first) for i, first in next_runs.items())):
        if when > end or len(out) >= limit:
            break
        out.append((when, by_id[job_id]))
    return out


def old_next_runs(jobs: list[JobSpec], now: datetime) -> dict[str, datetime]:
    return {spec.id: old_trigger(spec.trigger).get_next_fire_time(None, now).astimezone(UTC) for spec in jobs}  # type: ignore[arg-type]


_OPTIONS = Options(locale_code="en_US", use_24hour_time_format=True)


def old_words(jobs: list[JobSpec]) -> list[str]:
    return [ExpressionDescriptor(spec.trigger.expression, _OPTIONS).get_description() for spec in jobs]  # type: ignore[union-attr]


# --- timing ------------------------------------------------------------------------------------------


def timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def median_of(runs: int, make: Callable[[], Callable[[], object]]) -> float:
    """Median seconds of `runs` calls, each on a fresh setup from `make`."""
    return statistics.median(timed(make()) for _ in range(runs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    jobs = make_jobs(args.jobs)
    now = datetime.now(UTC).replace(microsecond=0)
    warm = FireTimes()
    next_runs = {spec.id: warm.after(spec.trigger, now, 1)[0] for spec in jobs}
    rows: list[tuple[str, float, float, str]] = []  # (measure, baseline s, ours s, ours' label)

    def fresh(work: Callable[[FireTimes], object]) -> Callable[[], Callable[[], object]]:
        def make() -> Callable[[], object]:
            fires = FireTimes()
            return lambda: work(fires)
        return make

    def warmed(work: Callable[[FireTimes], object]) -> Callable[[], Callable[[], object]]:
        def make() -> Callable[[], object]:
            fires = FireTimes()
            work(fires)
            return lambda: work(fires)
        return make

    base = median_of(args.runs, lambda: lambda: old_upcoming(jobs, next_runs, 200, now))
    upcoming = lambda fires: fires.upcoming(jobs, next_runs, now=now)  # noqa: E731
    rows.append(("Upcoming, 200 rows", base, median_of(args.runs, fresh(upcoming)), "cold"))
    rows.append(("Upcoming, 200 rows", base, median_of(args.runs, warmed(upcoming)), "warm"))
    timeline = lambda fires: fires.timeline(jobs, next_runs, now=now)  # noqa: E731
    rows.append(("Timeline, every job over 24 h", base, median_of(args.runs, fresh(timeline)), "cold"))
    rows.append(("Timeline, every job over 24 h", base, median_of(args.runs, warmed(timeline)), "warm"))
    base = median_of(args.runs, lambda: lambda: old_next_runs(jobs, now))
    after = lambda fires: [fires.after(spec.trigger, now, 1) for spec in jobs]  # noqa: E731
    rows.append(("Next run of every job (no scheduler)", base, median_of(args.runs, fresh(after)), "cold"))
    base = median_of(args.runs, lambda: lambda: old_words(jobs))

    def words() -> Callable[[], object]:
        cron_words.cache_clear()
        return lambda: [describe(spec.trigger) for spec in jobs]

    rows.append(("Schedule words of every job", base, median_of(args.runs, words), "cold"))
    rows.append(("Schedule words of every job", base, median_of(args.runs, lambda: lambda: [describe(s.trigger) for s in jobs]), "warm"))
    editor = CronSpec("*/15 9-17 * * mon-fri", "Europe/Paris")
    base = median_of(5, lambda: lambda: [old_trigger(editor).get_next_fire_time(None, now) for _ in range(10)])
    rows.append(("Editor preview, 10 times", base, median_of(5, lambda: lambda: next_fire_times(editor, 10, after=now)), "call"))
    rows.append(("Editor DST notes (366 days)", base, median_of(5, lambda: lambda: dst_notes(editor, after=now)), "call"))

    dense = sum(1 for lane in warm.timeline(jobs, next_runs, now=now) if lane.dense is not None)
    print(f"\n{args.jobs:,} cron jobs in {len(ZONES)} zones; median of {args.runs} runs; {dense} dense Timeline lanes")
    print(f"{'measure':40s} {'baseline':>10s} {'Jobdesk':>10s} {'':5s} {'ratio':>7s}")
    for name, before, ours, label in rows:
        print(f"{name:40s} {before * 1000:8.1f} ms {ours * 1000:8.1f} ms {label:5s} x{ours / before:6.3f}")
    print("baselines: old Upcoming (trigger per job per call) for Upcoming and Timeline; a trigger per job for "
          "next runs;\nExpressionDescriptor per job for words; 10 answers of the old CronTrigger for the editor rows")  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "args": vars(args), "machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
        "rows": [{"measure": n, "variant": v, "baseline_ms": round(b * 1000, 2), "ms": round(o * 1000, 2),
                  "ratio": round(o / b, 4)} for n, b, o, v in rows],
        "dense_lanes": dense,
    }  # fmt: skip
    (RESULTS / "upcoming.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'upcoming.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
