"""History rows: paging, filters, leftovers after a crash, retention that keeps each job's last run."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from jobs.db import open_database, run_table
from jobs.history import HistoryQuery, HistoryRepository
from jobs.model import CronSpec, JobSpec, RunCause, RunOutcome, RunStatus
from jobs.paths import ensure_private_dir


def spec(job_id: str, name: str) -> JobSpec:
    return JobSpec(id=job_id, name=name, command=("true",), trigger=CronSpec("* * * * *", "UTC"))


@pytest.fixture
def history(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    yield HistoryRepository(engine)
    engine.dispose()


def test_rows_page_newest_first_by_id(history):
    job = spec("a", "Alpha")
    ids = [history.create(job, RunCause.SCHEDULED, RunStatus.QUEUED) for _ in range(250)]
    first = history.query(HistoryQuery(limit=100))
    second = history.query(HistoryQuery(limit=100, before_id=first[-1].id))
    assert [r.id for r in first] == ids[::-1][:100]
    assert [r.id for r in second] == ids[::-1][100:200]
    assert history.count() == 250


def test_filters_by_job_status_and_name_text(history):
    a, b = spec("a", "Nightly 100% report"), spec("b", "Backup")
    history.create(a, RunCause.SCHEDULED, RunStatus.MISSED, error="missed")
    history.create(b, RunCause.MANUAL, RunStatus.SKIPPED, error="skipped")
    run_id = history.create(a, RunCause.MANUAL, RunStatus.QUEUED)
    history.finish(run_id, RunOutcome(RunStatus.FAILED, 3, None, datetime.now(timezone.utc)))
    assert [r.job_id for r in history.query(HistoryQuery(job_id="b"))] == ["b"]
    assert [r.id for r in history.query(HistoryQuery(statuses=(RunStatus.FAILED,)))] == [run_id]
    assert {r.job_id for r in history.query(HistoryQuery(text="100%"))} == {"a"}
    assert history.query(HistoryQuery(text="_")) == []  # LIKE wildcards are literal


def test_a_row_keeps_what_was_run(history):
    job = JobSpec(id="a", name="Env", command=("python3", "x.py"), trigger=CronSpec("* * * * *", "UTC"),
                  cwd="/srv", env=(("MODE", "fast"),))
    record = history.get(history.create(job, RunCause.MANUAL, RunStatus.QUEUED))
    assert record.command == ("python3", "x.py")
    assert record.cwd == "/srv" and dict(record.env) == {"MODE": "fast"}
    assert record.cause is RunCause.MANUAL and record.ended_at is None


def test_leftover_running_and_queued_rows_become_interrupted(history):
    job = spec("a", "A")
    running = history.create(job, RunCause.SCHEDULED, RunStatus.QUEUED)
    history.mark_started(running, datetime.now(timezone.utc), Path("/tmp/x.log"))
    queued = history.create(job, RunCause.SCHEDULED, RunStatus.QUEUED)
    assert history.interrupt_leftovers() == 2
    assert history.get(running).status is RunStatus.INTERRUPTED
    assert "during the run" in history.get(running).error
    assert "before the run could start" in history.get(queued).error
    assert history.interrupt_leftovers() == 0


def test_last_runs_uses_the_newest_row_per_job(history):
    a, b = spec("a", "A"), spec("b", "B")
    history.create(a, RunCause.SCHEDULED, RunStatus.MISSED, error="m")
    newest_a = history.create(a, RunCause.MANUAL, RunStatus.SKIPPED, error="s")
    only_b = history.create(b, RunCause.MANUAL, RunStatus.SKIPPED, error="s")
    last = history.last_runs(["a", "b", "c"])
    assert last["a"].id == newest_a and last["b"].id == only_b and "c" not in last


def test_retention_by_age_and_count_keeps_each_jobs_newest_run(history, tmp_path):
    a, b = spec("a", "A"), spec("b", "B")
    log = tmp_path / "old.log"
    log.write_text("old output")
    old_ids = [history.create(a, RunCause.SCHEDULED, RunStatus.MISSED, error="m") for _ in range(3)]
    lonely_old_b = history.create(b, RunCause.SCHEDULED, RunStatus.MISSED, error="m")
    with history._engine.begin() as conn:
        conn.execute(update(run_table).where(run_table.c.id.in_(old_ids + [lonely_old_b]))
                     .values(queued_at=time.time() - 100 * 86400))
        conn.execute(update(run_table).where(run_table.c.id == old_ids[0]).values(log_path=str(log)))
    recent = [history.create(a, RunCause.SCHEDULED, RunStatus.MISSED, error="m") for _ in range(5)]
    removed = history.prune(max_age_days=30, max_runs_per_job=3)
    remaining = {r.id for r in history.query(HistoryQuery(limit=1000))}
    assert remaining == set(recent[-3:]) | {lonely_old_b}  # b's only run survives its age
    assert removed == 5
    assert not log.exists()


def test_newest_rows_of_many_jobs_come_in_chunks_and_match_a_query_per_job(history):
    """1,203 jobs (more than one statement's worth of ids), asked twice over, some with no runs."""
    jobs = [spec(f"j{n:04d}", f"Job {n}") for n in range(1203)]
    rows = []
    for n, job in enumerate(jobs):
        for status in (RunStatus.MISSED, RunStatus.SKIPPED)[: n % 3]:  # every third job never ran
            rows.append((job, RunCause.SCHEDULED, status, None, "x"))
    history.create_many(rows)
    running = history.create(jobs[5], RunCause.MANUAL, RunStatus.QUEUED)
    history.mark_started(running, datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc), Path("/tmp/r.log"))
    asked = [job.id for job in jobs] * 2 + ["gone"]
    expected = {}
    for job in jobs:
        newest = history.query(HistoryQuery(job_id=job.id, limit=1))
        if newest:
            expected[job.id] = newest[0]
    assert history.last_runs(asked) == expected
    outcomes = history.last_outcomes(asked)
    assert set(outcomes) == set(expected) and len(expected) == 802
    for job_id, record in expected.items():
        assert outcomes[job_id].status is record.status
        assert outcomes[job_id].at == (record.started_at or record.queued_at)
    assert outcomes["j0005"].status is RunStatus.RUNNING and outcomes["j0005"].at.year == 2026
