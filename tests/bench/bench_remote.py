"""Remote runs against local runs, in the same run: due -> process started, runs per second, lost runs.

    python -m tests.bench.bench_remote [--runs 500] [--spacing 0.02] [--workers 2] [--concurrency 2]

Starts a real redis-server (127.0.0.1, a free port, no persistence) and `--workers` real
`jobdesk worker` processes of one pool, then drives the real JobService's dispatcher: `--runs`
runs of /bin/true are submitted one every `--spacing` seconds, first to the local runner, then
to the pool. "Due" is the moment a run is submitted (its scheduled_at); "started" is the run's
started_at as recorded in history: for a remote run the worker's clock when the job's process
existed (same machine here, so no clock skew). Runs per second: runs ended over the time from
the first due to the last end. Lost: runs that did not end `succeeded` (must be 0).
Prints a table and writes tests/bench/results/remote.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RESULTS = Path(__file__).parent / "results"
COMMAND = (shutil.which("true") or "/bin/true",)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def drive(service, spec, runs: int, spacing: float) -> dict:
    from jobs.model import RunCause

    ids = []
    begin = time.monotonic()
    first_due = datetime.now(timezone.utc)
    for index in range(runs):
        pause = begin + index * spacing - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        run_id = service.dispatcher.submit(spec, RunCause.MANUAL, datetime.now(timezone.utc))
        ids.append(run_id)
    records = [service.dispatcher.wait(run_id, timeout=120) for run_id in ids if run_id is not None]
    finished = [r for r in records if r is not None]
    ok = [r for r in finished if r.status.value == "succeeded" and r.started_at is not None and r.scheduled_at]
    latencies = [(r.started_at - r.scheduled_at).total_seconds() * 1000 for r in ok]
    # Where the time goes: due -> its row written (queued, before a remote run is sent), row -> started.
    to_row = [(r.queued_at - r.scheduled_at).total_seconds() * 1000 for r in ok if r.queued_at]
    row_to_start = [(r.started_at - r.queued_at).total_seconds() * 1000 for r in ok if r.queued_at]
    last_end = max((r.ended_at for r in finished if r.ended_at), default=first_due)
    span = (last_end - first_due).total_seconds()
    return {
        "runs": runs, "succeeded": len(ok), "lost": runs - len(ok),
        "p50_ms": round(percentile(latencies, 50), 2) if latencies else None,
        "p99_ms": round(percentile(latencies, 99), 2) if latencies else None,
        "max_ms": round(max(latencies), 2) if latencies else None,
        "runs_per_s": round(len(finished) / span, 1) if span > 0 else None,
        "hosts": sorted({r.ran_on or "this computer" for r in finished}),
        "due_to_row_p50_ms": round(percentile(to_row, 50), 2) if to_row else None,
        "row_to_started_p50_ms": round(percentile(row_to_start, 50), 2) if row_to_start else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--spacing", type=float, default=0.02)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2)
    args = parser.parse_args()

    from jobs.model import CronSpec, JobSpec, Overlap, RunCause
    from jobs.paths import resolve_data_dir
    from jobs.service import JobService
    from tests.jobs.remote_env import RedisServer, Worker

    folder = Path(tempfile.mkdtemp(prefix="bench-remote-"))
    redis = RedisServer(folder / "redis").start()
    workers = [Worker(redis.url, "bench", folder / f"w{i}", concurrency=args.concurrency) for i in range(args.workers)]
    service = None
    try:
        for worker in workers:
            worker.start()
        service = JobService(resolve_data_dir(folder / "data"))
        service.set_setting("broker", redis.url)
        trigger = CronSpec("0 0 1 1 *", "UTC")
        local = JobSpec(name="local", command=COMMAND, trigger=trigger, id="local", overlap=Overlap.PARALLEL, max_parallel=1000)
        remote = JobSpec(name="remote", command=COMMAND, trigger=trigger, id="remote", overlap=Overlap.PARALLEL,
                         max_parallel=1000, runs_on="bench")
        # One remote run first: the runner imports Celery and connects (once per Jobdesk session).
        warm = service.dispatcher.submit(remote, RunCause.MANUAL)
        service.dispatcher.wait(warm, timeout=60)
        results = {"local": drive(service, local, args.runs, args.spacing),
                   "remote": drive(service, remote, args.runs, args.spacing)}
    finally:
        if service is not None:
            service.shutdown()
        for worker in workers:
            worker.stop()
        redis.stop()
        shutil.rmtree(folder, ignore_errors=True)

    print(f"{args.runs} runs of {COMMAND[0]}, one due every {args.spacing * 1000:g} ms; "
          f"{args.workers} workers x {args.concurrency} on this machine ({os.cpu_count()} cores)")
    print(f"{'runner':<8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'runs/s':>8} {'lost':>5}")
    for name, row in results.items():
        print(f"{name:<8} {row['p50_ms']!s:>8} {row['p99_ms']!s:>8} {row['max_ms']!s:>8} {row['runs_per_s']!s:>8} {row['lost']:>5}")
    local_p50, remote_p50 = results["local"]["p50_ms"], results["remote"]["p50_ms"]
    if local_p50 and remote_p50:
        print(f"remote p50 / local p50: {remote_p50 / local_p50:.1f}x")
    RESULTS.mkdir(exist_ok=True)
    out = {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), "python": platform.python_version(),
           "cores": os.cpu_count(), "args": vars(args), "results": results}
    (RESULTS / "remote.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0 if results["remote"]["lost"] == 0 and results["local"]["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
