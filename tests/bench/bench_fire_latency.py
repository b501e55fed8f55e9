"""Fire latency: scheduled time to child process started, Jobdesk against a bare APScheduler.

    python -m tests.bench.bench_fire_latency [--jobs 1000] [--fires 200] [--spacing 0.05]

Both schedulers hold `--jobs` enabled jobs; `--fires` of them are one-off jobs due one after
another, `--spacing` seconds apart, the rest are due next year. Each fire spawns /bin/true
(`sys.executable -c pass` where there is none). Latency is measured the same way for both: the
wall clock right after the child was created, minus the slot it was due at.
- Jobdesk: the real JobService (SQLite store in a temp dir, fixed QtScheduler, dispatcher,
  history rows); "started" is the run's started_at written when the process exists.
- Bare: `BackgroundScheduler` with its default memory store and thread pool, whose job function
  does `Popen` and nothing else.
Also counts the Jobdesk scheduler's passes per due instant (1 means no wasted wake-ups).
Prints a table and writes tests/bench/results/fire_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RESULTS = Path(__file__).parent / "results"
COMMAND = [shutil.which("true") or sys.executable] + ([] if shutil.which("true") else ["-c", "pass"])


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def slots(fires: int, spacing: float, lead: float) -> list[datetime]:
    start = datetime.now(timezone.utc) + timedelta(seconds=lead)
    return [start + timedelta(seconds=i * spacing) for i in range(fires)]


def _spawn_and_record(latencies: list[float], lock: threading.Lock, due_ts: float) -> None:
    proc = subprocess.Popen(COMMAND)
    started = time.time()
    with lock:
        latencies.append((started - due_ts) * 1000)
    proc.wait()


_bare_state: dict = {}


def bare_job(due_ts: float) -> None:
    """Module-level so the SQLite store can pickle a reference to it."""
    _spawn_and_record(_bare_state["latencies"], _bare_state["lock"], due_ts)


def bench_bare(jobs: int, fires: int, spacing: float, sqlite_dir: str | None = None) -> dict:
    from apscheduler.schedulers.background import BackgroundScheduler

    latencies: list[float] = []
    _bare_state.update(latencies=latencies, lock=threading.Lock())
    spawn = bare_job
    stores = {}
    if sqlite_dir is not None:
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

        from jobs.db import create_sqlite_engine

        stores["default"] = SQLAlchemyJobStore(engine=create_sqlite_engine(Path(sqlite_dir) / "bare.sqlite3"))
    scheduler = BackgroundScheduler(timezone=timezone.utc, jobstores=stores)
    scheduler.start()
    far = datetime.now(timezone.utc) + timedelta(days=365)
    for i in range(jobs - fires):
        scheduler.add_job(spawn, "date", run_date=far, args=[far.timestamp()], id=f"idle{i}")
    due = slots(fires, spacing, lead=2.0)
    for i, when in enumerate(due):
        scheduler.add_job(spawn, "date", run_date=when, args=[when.timestamp()], id=f"fire{i}",
                          misfire_grace_time=None)
    deadline = time.monotonic() + 2.0 + fires * spacing + 5
    while len(latencies) < fires and time.monotonic() < deadline:
        time.sleep(0.05)
    scheduler.shutdown(wait=True)
    return {"latencies_ms": latencies}


def bench_jobdesk(jobs: int, fires: int, spacing: float) -> dict:
    from PySide6.QtCore import QCoreApplication, QTimer

    from jobs.history import HistoryQuery
    from jobs.model import CronSpec, DateSpec, JobSpec, RunCause, RunStatus
    from jobs.paths import resolve_data_dir
    from jobs.service import JobService

    app = QCoreApplication.instance() or QCoreApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        service = JobService(resolve_data_dir(tmp))
        service.start()
        idle = [JobSpec(name=f"idle {i}", command=tuple(COMMAND), trigger=CronSpec("0 0 1 1 *", "UTC"))
                for i in range(jobs - fires)]
        service.import_jobs(idle)
        due = slots(fires, spacing, lead=2.0)
        service.import_jobs([JobSpec(name=f"fire {i}", command=tuple(COMMAND), trigger=DateSpec(when, "UTC"))
                             for i, when in enumerate(due)])
        passes_before = None

        def note_start() -> None:
            nonlocal passes_before
            passes_before = service.scheduler.process_count

        QTimer.singleShot(1500, note_start)  # after the imports' wake-ups, before the first slot
        done_query = HistoryQuery(statuses=(RunStatus.SUCCEEDED,), limit=fires + 10)
        deadline = time.monotonic() + 2.0 + fires * spacing + 10

        def check() -> None:
            if len(service.history.query(done_query)) >= fires or time.monotonic() > deadline:
                app.quit()

        poll = QTimer()
        poll.timeout.connect(check)
        poll.start(250)
        app.exec()
        poll.stop()
        runs = [r for r in service.history.query(HistoryQuery(limit=fires + 10)) if r.cause is RunCause.SCHEDULED]
        passes = service.scheduler.process_count - (passes_before or 0)
        service.shutdown()
    latencies = [(r.started_at - r.scheduled_at).total_seconds() * 1000 for r in runs if r.started_at]
    return {"latencies_ms": latencies, "passes": passes, "due_instants": fires}


def summarize(name: str, data: dict) -> dict:
    values = data["latencies_ms"]
    return {
        "name": name,
        "fires": len(values),
        "p50_ms": round(percentile(values, 50), 3),
        "p99_ms": round(percentile(values, 99), 3),
        "max_ms": round(max(values), 3),
        "mean_ms": round(statistics.fmean(values), 3),
        **({"passes_per_due_instant": round(data["passes"] / data["due_instants"], 3)} if "passes" in data else {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--fires", type=int, default=200)
    parser.add_argument("--spacing", type=float, default=0.05)
    args = parser.parse_args()
    bare = summarize("bare BackgroundScheduler, memory store", bench_bare(args.jobs, args.fires, args.spacing))
    with tempfile.TemporaryDirectory() as tmp:
        bare_sqlite = summarize("bare BackgroundScheduler, SQLite store (WAL)",
                                bench_bare(args.jobs, args.fires, args.spacing, sqlite_dir=tmp))
    ours = summarize("Jobdesk (QtScheduler subclass + dispatcher + SQLite)", bench_jobdesk(args.jobs, args.fires, args.spacing))
    ratio = {
        "p50_ratio": round(ours["p50_ms"] / bare["p50_ms"], 2),
        "p99_ratio": round(ours["p99_ms"] / bare["p99_ms"], 2),
        "p50_ratio_same_store": round(ours["p50_ms"] / bare_sqlite["p50_ms"], 2),
        "p99_ratio_same_store": round(ours["p99_ms"] / bare_sqlite["p99_ms"], 2),
    }
    rows = [bare, bare_sqlite, ours]
    print(f"\nFire latency, {args.jobs} enabled jobs, {args.fires} fires {args.spacing * 1000:.0f} ms apart "
          f"(scheduled time -> child process created)\n")
    print(f"{'scheduler':<55} {'fires':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'passes/instant':>15}")
    for row in rows:
        print(f"{row['name']:<55} {row['fires']:>5} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['max_ms']:>8.2f} "
              f"{row.get('passes_per_due_instant', '-'):>15}")
    print(f"\nJobdesk / bare (memory store): p50 x{ratio['p50_ratio']}, p99 x{ratio['p99_ratio']}; "
          f"Jobdesk / bare (SQLite store): p50 x{ratio['p50_ratio_same_store']}, p99 x{ratio['p99_ratio_same_store']}")
    print("targets: p50 <= 2 ms, p99 <= 10 ms, <= 1.5x bare, 1 pass per due instant")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "fire_latency.json"
    out.write_text(json.dumps({"args": vars(args), "machine": platform.platform(), "python": platform.python_version(),
                               "results": rows, **ratio}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.stdout.flush()
    code = main()
    sys.stdout.flush()
    os._exit(code)  # see main.exit_now: skip PySide6's crash-prone finalization
