"""Usual durations and the jobs table's strips at 10,000 jobs over 1,000,000 runs.

    python -m tests.bench.bench_run_stats [--jobs 10000] [--runs-per-job 100] [--repeat 3]

The runs: 80 % succeeded, 10 % failed, 10 % missed, their ids interleaved across jobs as real
history is. Measured (median of `--repeat`), each against a baseline from the same run:
- `duration_stats` for every job (one statement, index only) against one SQLAlchemy statement
  per job over the old (job_id, id) index (timed on 500 jobs, scaled to all);
- `recent_runs` (the strip: last 20 runs that ran) for every job;
- `duration_stats` of one job (what a run's start costs the slow-run watch).
Prints a table and writes tests/bench/results/run_stats.json. Runs in well under a minute.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import text

from jobs.db import open_database
from jobs.run_stats import duration_stats, recent_runs

RESULTS = Path(__file__).parent / "results"


def make_store(path: Path, jobs: int, per_job: int) -> None:
    open_database(path).dispose()
    rng = random.Random(7)
    rows = []
    for j in range(jobs):
        for k in range(per_job):
            status = rng.choice(("succeeded",) * 8 + ("failed", "missed"))
            start = 1.7e9 + k * 3600 + j
            ended = start + rng.uniform(10, 100) if status != "missed" else start
            rows.append([f"job{j:05}", status, start, ended])
    rng.shuffle(rows)  # ids interleave across jobs
    raw = sqlite3.connect(path)
    raw.executemany(
        "INSERT INTO runs (id, job_id, job_name, cause, status, queued_at, started_at, ended_at, command, env,"
        " output_bytes, truncated, shell) VALUES (?, ?, 'J', 'scheduled', ?, ?, ?, ?, '[]', '{}', 0, 0, 0)",
        ([n + 1, *row[:2], row[2], row[2], row[3]] for n, row in enumerate(rows)),
    )
    raw.commit()
    raw.execute("ANALYZE")
    raw.close()


def per_job_baseline(engine: Any, ids: list[str]) -> None:
    """The obvious way: a statement per job, durations sorted in Python."""
    with engine.connect() as conn:
        for job_id in ids:
            conn.execute(text("SELECT ended_at - started_at FROM runs INDEXED BY ix_runs_job_id_id WHERE job_id = :j "
                              "AND status = 'succeeded' ORDER BY id DESC LIMIT 50"), {"j": job_id}).all()


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs-per-job", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "jobdesk.db"
        began = time.perf_counter()
        make_store(path, args.jobs, args.runs_per_job)
        made = time.perf_counter() - began
        engine = open_database(path)
        ids = [f"job{j:05}" for j in range(args.jobs)]
        sample = ids[:500]
        results = {
            "usual durations, all jobs": timed(lambda: duration_stats(engine, ids), args.repeat),
            "baseline: a statement per job (scaled)": timed(lambda: per_job_baseline(engine, sample), args.repeat)
            * len(ids) / len(sample),
            "strips (last 20 runs), all jobs": timed(lambda: recent_runs(engine, ids), args.repeat),
            "usual duration, one job": timed(lambda: duration_stats(engine, ids[:1]), args.repeat * 10),
        }
        engine.dispose()
    runs = args.jobs * args.runs_per_job
    print(f"{args.jobs:,} jobs, {runs:,} runs (made in {made:.1f} s)")
    for name, seconds in results.items():
        print(f"  {name:<42} {seconds * 1000:9.1f} ms")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "run_stats.json").write_text(json.dumps({"jobs": args.jobs, "runs": runs, "machine": platform.machine(),
                                                        "seconds": results}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
