"""History retention in short, index-only steps (jobs.retention): the same rows go as with the
first formulation (kept below as the oracle), only jobs with new runs are checked after a
completed prune, a stopped prune leaves a consistent table, and a service closing while
retention runs still empties the WAL."""

from __future__ import annotations

import json
import random
import re
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text

from jobs import retention
from jobs.db import open_database
from jobs.paths import ensure_private_dir
from jobs.retention import WATERMARK_KEY, StopSignal, prune_runs
from jobs.runlog import ranges_path
from jobs.settings import save_setting

DAY = 86400.0
NOW = 1_800_000_000.0

# The first formulation (a window over all runs, a GROUP BY for each job's newest): the oracle.
OLD_AGE_RULE = ("SELECT id FROM runs WHERE queued_at < :cutoff"
                " AND id NOT IN (SELECT max(id) FROM runs GROUP BY job_id)")
OLD_COUNT_RULE = ("SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY job_id ORDER BY id DESC) AS rank"
                  " FROM runs) WHERE rank > :keep")


def oracle_doomed(engine, *, max_age_days, max_runs_per_job, now=NOW) -> set[int]:
    doomed: set[int] = set()
    with engine.connect() as conn:
        if max_age_days is not None:
            doomed |= set(conn.execute(text(OLD_AGE_RULE), {"cutoff": now - max_age_days * DAY}).scalars())
        if max_runs_per_job is not None:
            doomed |= set(conn.execute(text(OLD_COUNT_RULE), {"keep": max_runs_per_job}).scalars())
    return doomed


def add_runs(engine, rows, logs: Path | None = None) -> None:
    """rows: (job_id, queued_at or None); every third row gets a log and a ranges file."""
    with engine.begin() as conn:
        for job_id, queued_at in rows:
            run_id = conn.execute(text(
                "INSERT INTO runs (job_id, job_name, cause, status, queued_at, output_bytes, truncated, command, shell, env)"
                " VALUES (:job, 'Job', 'scheduled', 'succeeded', :at, 0, 0, '[]', 0, '{}')"),
                {"job": job_id, "at": queued_at}).lastrowid  # fmt: skip
            if logs is not None and run_id % 3 == 0:
                log = logs / f"{run_id}.log"
                log.write_text("output")
                ranges_path(log).write_text("0 6")
                conn.execute(text("UPDATE runs SET log_path = :p WHERE id = :id"), {"p": str(log), "id": run_id})


def random_history(rng: random.Random, jobs: int, most: int) -> list[tuple[str, float | None]]:
    """Runs of several jobs interleaved, ages not in id order, some jobs with only old runs."""
    rows = []
    for n in range(jobs):
        only_old = n % 4 == 0
        for _ in range(rng.randrange(1, most)):
            age = rng.uniform(31, 200) if only_old else rng.uniform(0, 60)
            rows.append((f"job-{n:02d}", None if rng.random() < 0.03 else NOW - age * DAY))
    rng.shuffle(rows)
    return rows


def remaining(engine) -> set[int]:
    with engine.connect() as conn:
        return set(conn.execute(text("SELECT id FROM runs")).scalars())


def logs_match(engine, logs: Path, gone: set[int]) -> None:
    """Logs (and ranges files) of deleted rows are gone, those of kept rows still there."""
    with engine.connect() as conn:
        kept_logs = {Path(p) for p in conn.execute(text("SELECT log_path FROM runs WHERE log_path IS NOT NULL")).scalars()}
    for run_id in gone:
        assert not (logs / f"{run_id}.log").exists() and not ranges_path(logs / f"{run_id}.log").exists()
    for log in kept_logs:
        assert log.exists() and ranges_path(log).exists()


def watermark(engine) -> str | None:
    with engine.connect() as conn:
        return conn.execute(text("SELECT value FROM jobdesk_meta WHERE key = :k"), {"k": WATERMARK_KEY}).scalar()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("days", "keep"), [(30, 5), (30, None), (None, 3), (45, 1)])
def test_the_same_rows_go_as_with_the_first_formulation(engine, tmp_path, seed, days, keep):
    rng = random.Random(seed)
    add_runs(engine, random_history(rng, jobs=12, most=25), logs=tmp_path)
    before = remaining(engine)
    expected = before - oracle_doomed(engine, max_age_days=days, max_runs_per_job=keep)
    report = prune_runs(engine, max_age_days=days, max_runs_per_job=keep, batch=7, now=NOW)
    assert remaining(engine) == expected
    assert report.finished and report.removed == len(before - expected)
    logs_match(engine, tmp_path, before - expected)


def test_no_statement_scans_the_runs_table(engine):
    add_runs(engine, random_history(random.Random(1), jobs=40, most=60))
    params = {"after": "job", "watermark": 5, "job": "job-01", "keep": 3, "boundary": 9, "limit": 10,
              "cutoff": NOW, "from_at": 0.0, "from_id": 0, "jobs": '["job-01"]'}  # fmt: skip
    for analyzed in (False, True):
        with engine.connect() as conn:
            if analyzed:  # with statistics (the scale data has them) and without
                conn.execute(text("ANALYZE"))
            for statement in retention.STATEMENTS:
                plan = [row[-1] for row in conn.execute(text("EXPLAIN QUERY PLAN " + statement), params)]
                assert plan and not [step for step in plan if re.match("SCAN (runs|newer)", step)], (statement, plan)
                assert "USE TEMP B-TREE FOR ORDER BY" not in plan, (statement, plan)


def test_after_a_completed_prune_only_jobs_with_new_runs_are_checked(engine, data_dir):
    add_runs(engine, random_history(random.Random(7), jobs=10, most=30))
    top = max(remaining(engine))
    first = prune_runs(engine, max_age_days=30, max_runs_per_job=5, now=NOW)
    assert first.finished and first.jobs_examined == 10 and watermark(engine) == str(top)
    add_runs(engine, [("job-03", NOW - 1) for _ in range(8)] + [("job-new", NOW)])
    doomed = oracle_doomed(engine, max_age_days=30, max_runs_per_job=5)
    assert doomed  # job-03 is over its limit now
    expected = remaining(engine) - doomed
    named: list[str] = []  # the job ids SQLite was asked about, from the statements it ran

    def trace(dbapi_conn, _record) -> None:
        def note(sql: str) -> None:
            named.extend(re.findall(r"job_id [=>] '([^']*)'", sql))
            for listed in re.findall(r"json_each\('(\[[^']*\])'\)", sql):
                named.extend(json.loads(listed))

        dbapi_conn.set_trace_callback(note)

    event.listen(engine, "connect", trace)
    engine.dispose()  # connections from now on are traced
    second = prune_runs(engine, max_age_days=30, max_runs_per_job=5, now=NOW)
    assert second.jobs_examined == 2 and set(named) == {"job-03", "job-new"}  # nobody else looked at
    assert second.removed == len(doomed) and remaining(engine) == expected
    assert prune_runs(engine, max_age_days=30, max_runs_per_job=5, now=NOW).jobs_examined == 0

    save_setting(engine, "retention_runs", 4)  # a new limit: every job is checked again
    assert watermark(engine) is None
    expected = remaining(engine) - oracle_doomed(engine, max_age_days=30, max_runs_per_job=4)
    third = prune_runs(engine, max_age_days=30, max_runs_per_job=4, now=NOW)
    assert third.jobs_examined == 11 and remaining(engine) == expected
    save_setting(engine, "retention_days", 10)
    assert watermark(engine) is None


def test_a_stopped_prune_leaves_whole_batches_and_no_watermark(engine, tmp_path):
    add_runs(engine, random_history(random.Random(3), jobs=12, most=40), logs=tmp_path)
    before = remaining(engine)
    doomed = oracle_doomed(engine, max_age_days=30, max_runs_per_job=2)
    asked = []

    def stop_after_a_few() -> bool:
        asked.append(1)
        return len(asked) > 4

    report = prune_runs(engine, max_age_days=30, max_runs_per_job=2, stop=stop_after_a_few, batch=10, now=NOW)
    gone = before - remaining(engine)
    assert not report.finished and 0 < report.jobs_examined <= 12
    assert 0 < len(gone) == report.removed and gone < doomed  # some rows, only doomed ones
    assert watermark(engine) is None
    logs_match(engine, tmp_path, gone)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    rest = prune_runs(engine, max_age_days=30, max_runs_per_job=2, stop=threading.Event(), now=NOW)
    assert rest.finished and remaining(engine) == before - doomed and watermark(engine) is not None
    logs_match(engine, tmp_path, doomed)


def test_a_job_with_many_doomed_rows_stops_between_its_batches(engine, tmp_path):
    add_runs(engine, [("big", NOW - n) for n in range(100)], logs=tmp_path)
    before = remaining(engine)
    report = prune_runs(engine, max_age_days=None, max_runs_per_job=1, batch=10,
                        stop=lambda: len(before - remaining(engine)) >= 25)  # fmt: skip
    gone = before - remaining(engine)
    assert not report.finished and report.removed == len(gone) == 30  # three whole batches, newest doomed first
    assert gone == set(sorted(before)[-31:-1])
    logs_match(engine, tmp_path, gone)


def test_a_stop_signal_interrupts_a_batch_and_it_is_rolled_back(engine, tmp_path):
    """StopSignal.set interrupts the statement in progress (sqlite3_interrupt): here set from the
    prune's own trace callback in the middle of its second batch of deletes, so no timing."""
    add_runs(engine, [("big", NOW - n) for n in range(60)], logs=tmp_path)
    before = remaining(engine)
    signal = StopSignal()
    deletes = []

    def trace(dbapi_conn, _record) -> None:
        def note(sql: str) -> None:
            if sql.startswith("DELETE FROM runs"):
                deletes.append(sql)
                if len(deletes) == 15:  # the 5th row of the second batch of 10
                    signal.set()

        dbapi_conn.set_trace_callback(note)

    event.listen(engine, "connect", trace)
    engine.dispose()
    report = prune_runs(engine, max_age_days=None, max_runs_per_job=1, batch=10, stop=signal)
    gone = before - remaining(engine)
    assert not report.finished and report.removed == len(gone) == 10  # the first batch; the second rolled back
    assert gone == set(sorted(before)[-11:-1])
    logs_match(engine, tmp_path, gone)
    assert watermark(engine) is None


def _wal_size(data_dir) -> int:
    wal = data_dir.database.with_name(data_dir.database.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_service_closing_while_retention_runs_empties_the_wal(data_dir, qapp):
    from jobs.service import JobService

    ensure_private_dir(data_dir.root)
    open_database(data_dir.database).dispose()
    conn = sqlite3.connect(data_dir.database)  # 400,000 runs of 4 jobs, most over the limit of 1
    conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 400000) "
                 "INSERT INTO runs (job_id, job_name, cause, status, queued_at, output_bytes, truncated, command, shell, env) "
                 "SELECT 'j' || (i % 4), 'Job', 'scheduled', 'missed', :now - i, 0, 0, '[]', 0, '{}' FROM n",
                 {"now": time.time()})  # fmt: skip
    conn.commit()
    conn.close()
    setup = JobService(data_dir, check_file=False)
    setup.set_setting("retention_runs", 1)
    setup.shutdown()
    service = JobService(data_dir, check_file=False)
    service.start()  # retention starts on its own thread
    deadline = time.monotonic() + 20
    while not service.retention.running and time.monotonic() < deadline:  # wait until it runs
        time.sleep(0.005)
    time.sleep(0.3)  # some batches in
    assert service.retention.running, "retention ended before the close: make more runs"
    began = time.monotonic()
    service.shutdown()
    assert time.monotonic() - began < 2.0
    assert _wal_size(data_dir) == 0
    time.sleep(0.5)  # a retention left running would write on (the process ends with a WAL again)
    assert _wal_size(data_dir) == 0
    conn = sqlite3.connect(data_dir.database)
    try:
        left = conn.execute("SELECT count(*) FROM runs").fetchone()[0]
        assert 4 < left < 400_000  # stopped midway: the rest goes next start
        time.sleep(0.2)
        assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == left
        assert conn.execute("SELECT count(*) FROM jobdesk_meta WHERE key = ?", (WATERMARK_KEY,)).fetchone() == (0,)
    finally:
        conn.close()
