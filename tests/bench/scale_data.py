"""Data directories for the scale benchmark: N cron jobs and M history rows, made once and kept.

Jobs go in through `JobService.import_jobs` (the real path, validation included); the runs are
bulk-inserted with sqlite3 `executemany` in big transactions (10 million rows through the ORM
would take the better part of an hour). Then a scheduler is started once on the directory, so
APScheduler's store holds every job's next run time, as it does on any machine where Jobdesk has
run. A marker file records what was made; a directory is reused while its marker matches.
"""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARK = "prepared.json"
VERSION = 1
CHUNK = 200_000
STATUSES = ("succeeded",) * 17 + ("failed", "timed out", "missed")


def prepare(folder: Path, jobs: int, runs: int, *, say=print) -> Path:
    """The root of a data dir with `jobs` jobs and `runs` runs (made now or reused)."""
    root = folder / f"scale-v{VERSION}-{jobs}-{runs}"
    mark = root / MARK
    if mark.exists():
        return root
    sys.path.insert(0, str(ROOT))
    from jobs import triggers
    from jobs.model import CronSpec, JobSpec
    from jobs.paths import resolve_data_dir
    from jobs.service import JobService

    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    zone = triggers.local_timezone_name()
    rng = random.Random(11)
    specs = []
    for n in range(jobs):
        # 1 % every minute, the rest daily (the "100,000 runs a day" mix at 10k jobs)
        cron = "* * * * *" if jobs > 1 and n % 100 == 0 else f"{rng.randrange(60)} {rng.randrange(24)} * * *"
        specs.append(JobSpec(name=f"Report {n:05d} {rng.choice(['EMEA', 'APAC', 'AMER'])}",
                             command=("/usr/bin/python3", f"/srv/reports/report_{n}.py"),
                             trigger=CronSpec(cron, zone), tags=(rng.choice(["finance", "ops", "etl"]),)))  # fmt: skip
    data_dir = resolve_data_dir(root)
    service = JobService(data_dir)
    try:
        saved = service.import_jobs(specs)
    finally:
        service.shutdown()
    say(f"  {len(saved):,} jobs imported in {time.perf_counter() - started:.1f} s")
    if runs:
        _insert_runs(data_dir.database, [(spec.id, spec.name) for spec in saved], runs, rng, say)
    _schedule_once(data_dir)
    mark.write_text(json.dumps({"jobs": jobs, "runs": runs, "seconds": round(time.perf_counter() - started, 1)}))
    return root


def _insert_runs(database: Path, jobs: list[tuple[str, str]], runs: int, rng: random.Random, say) -> None:
    """`runs` final rows spread over the jobs and over the last 80 days (inside retention)."""
    started = time.perf_counter()
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA synchronous=OFF")
    info = list(conn.execute("PRAGMA table_info(runs)"))  # (cid, name, type, notnull, default, pk)
    columns = [row[1] for row in info]
    # Columns added by later schema versions take their declared default (NOT NULL ones included)
    base = {row[1]: (None if row[4] is None else conn.execute(f"SELECT {row[4]}").fetchone()[0]) for row in info}
    now = time.time()
    span = 80 * 86400
    made = 0
    while made < runs:
        rows = []
        for index in range(made, min(runs, made + CHUNK)):
            job_id, name = jobs[index % len(jobs)]
            queued = now - span + span * index / runs
            status = STATUSES[index % len(STATUSES)]
            row = dict(base)
            row.update(id=index + 1, job_id=job_id, job_name=name, cause="scheduled", status=status,
                       scheduled_at=queued, queued_at=queued,
                       started_at=None if status == "missed" else queued + 0.01,
                       ended_at=queued + 5 + rng.random() * 60,
                       exit_code=None if status == "missed" else (0 if status == "succeeded" else 1),
                       output_bytes=0, truncated=0, command='["/usr/bin/python3"]', shell=0, cwd=None, env="{}")  # fmt: skip
            rows.append(tuple(row[name] for name in columns))
        marks = ",".join("?" * len(columns))
        with conn:
            conn.executemany(f"INSERT INTO runs ({','.join(columns)}) VALUES ({marks})", rows)
        made += len(rows)
        if made % 1_000_000 < CHUNK:
            say(f"  {made:,} runs ({time.perf_counter() - started:.0f} s)")
    conn.execute("ANALYZE")
    conn.close()


def _schedule_once(data_dir) -> None:
    """Start a scheduler once (reconciling adds every job), so the store holds next run times."""
    from PySide6.QtCore import QCoreApplication

    from jobs.service import JobService

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    service = JobService(data_dir)
    try:
        service.start()
        app.processEvents()
    finally:
        service.shutdown()
