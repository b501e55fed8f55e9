"""History retention at scale: the first formulation against jobs.retention (issue 10).

    .venv/bin/python -m tests.bench.bench_retention --data /tmp/retention-bench/scale-v1-10000-2000000

Times, on a copy of the scale data's database (tests/bench/scale_data.py; never the lead's
/tmp/jobdesk-bench): the old prune (a window over all runs and a GROUP BY, one read), the new
one with no watermark (first prune, or a setting changed), and the new one after a minute of
new runs (watermark). "longest step" is the longest time between two stop checks: about the
longest transaction, which is what keeps the WAL from being reset.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jobs.retention import PruneReport

ROOT = Path(__file__).resolve().parents[2]

OLD_AGE = "SELECT id, log_path FROM runs WHERE queued_at < ? AND id NOT IN (SELECT max(id) FROM runs GROUP BY job_id)"
OLD_COUNT = ("SELECT id, log_path FROM (SELECT id, log_path, row_number() OVER (PARTITION BY job_id ORDER BY id DESC)"
             " AS rank FROM runs) WHERE rank > ?")


def _wal_mb(database: Path) -> float:
    wal = database.with_name(database.name + "-wal")
    return wal.stat().st_size / 1e6 if wal.exists() else 0.0


def old_prune(database: Path, days: int | None, keep: int | None) -> tuple[int, float, float]:
    """The first formulation (jobs/history.py before this branch); (rows removed, seconds reading, WAL MB)."""
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA cache_size=-256")  # as every engine connection (jobs.db)
    began = time.perf_counter()
    doomed = []
    conn.execute("BEGIN")  # SQLAlchemy's connect() held one read across both statements, too
    if days is not None:
        doomed += conn.execute(OLD_AGE, (time.time() - days * 86400,)).fetchall()
    if keep is not None:
        doomed += conn.execute(OLD_COUNT, (keep,)).fetchall()
    conn.commit()
    reading = time.perf_counter() - began
    ids = sorted({row[0] for row in doomed})
    with conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            conn.execute(f"DELETE FROM runs WHERE id IN ({','.join('?' * len(chunk))})", chunk)
    wal = _wal_mb(database)  # before the last close checkpoints and removes it
    conn.close()
    return len(ids), reading, wal


def new_prune(database: Path, days: int | None, keep: int | None) -> tuple[PruneReport, float, float]:
    from jobs.db import create_sqlite_engine
    from jobs.retention import prune_runs

    engine = create_sqlite_engine(database)
    steps: list[float] = []
    last = [time.perf_counter()]

    def note_step() -> bool:
        now = time.perf_counter()
        steps.append(now - last[0])
        last[0] = now
        return False

    try:
        report = prune_runs(engine, max_age_days=days, max_runs_per_job=keep, stop=note_step)
        wal = _wal_mb(database)
    finally:
        engine.dispose()
    return report, max(steps, default=0.0), wal


def a_minute_of_runs(database: Path) -> int:
    """The runs one minute brings at 10,000 jobs: every per-minute job (1 %) and a few daily ones."""
    conn = sqlite3.connect(database)
    jobs = [row[0] for row in conn.execute("SELECT id FROM job_definitions ORDER BY id")]
    chosen = jobs[::100] + jobs[1:700:100]
    now = time.time()
    with conn:
        conn.executemany(
            "INSERT INTO runs (job_id, job_name, cause, status, queued_at, output_bytes, truncated, command, shell, env)"
            " VALUES (?, 'Report', 'scheduled', 'succeeded', ?, 0, 0, '[]', 0, '{}')", [(j, now) for j in chosen])
    conn.close()
    return len(chosen)


def forget_watermark(database: Path) -> None:
    from jobs.retention import WATERMARK_KEY

    conn = sqlite3.connect(database)
    with conn:
        conn.execute("DELETE FROM jobdesk_meta WHERE key = ?", (WATERMARK_KEY,))
    conn.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a scale data dir (scale_data.prepare)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/retention-bench/work"), help="copies go here")
    parser.add_argument("--days", type=int, default=90, help="retention_days (0: off)")
    parser.add_argument("--runs", type=int, default=1000, help="retention_runs (0: off)")
    parser.add_argument("--in-place", action="store_true", help="no copies: only when nothing gets deleted")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    days, keep = args.days or None, args.runs or None
    source = args.data / "jobdesk.sqlite3"
    sqlite3.connect(source).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    def copy(name: str) -> Path:
        if args.in_place:
            return source
        args.work.mkdir(parents=True, exist_ok=True)
        target = args.work / f"{name}.sqlite3"
        shutil.copyfile(source, target)
        return target

    target = copy("old")
    began = time.perf_counter()
    removed, reading, wal = old_prune(target, days, keep)
    print(f"old prune:                {time.perf_counter() - began:7.2f} s  ({removed:,} removed; one read of {reading:.2f} s; "
          f"WAL {wal:.0f} MB)")
    target = copy("new")
    forget_watermark(target)
    began = time.perf_counter()
    report, longest, wal = new_prune(target, days, keep)
    print(f"new prune, no watermark:  {time.perf_counter() - began:7.2f} s  ({report.removed:,} removed, "
          f"{report.jobs_examined:,} jobs checked; longest step {longest * 1000:.0f} ms; WAL {wal:.0f} MB)")
    added = a_minute_of_runs(target)
    began = time.perf_counter()
    report, longest, wal = new_prune(target, days, keep)
    print(f"new prune, +{added} runs:    {time.perf_counter() - began:7.2f} s  ({report.removed:,} removed, "
          f"{report.jobs_examined:,} jobs checked; longest step {longest * 1000:.0f} ms; WAL {wal:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
