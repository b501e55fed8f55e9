"""A job's missed slots are written in one transaction (jobs.missed_rows): the same rows, ids and
events as one transaction a row wrote, records equal to what `get` reads, and a refused write
leaves none of the batch and does not break the scheduler pass."""

from __future__ import annotations

import dataclasses
import logging
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event, select

from jobs.db import run_table
from jobs.history import HistoryQuery, HistoryRepository
from jobs.misfire import MAX_MISSED_ROWS, plan_due_runs
from jobs.model import CronSpec, JobSpec, RunCause, RunStatus
from jobs.paths import resolve_data_dir
from jobs.service import JobService
from tests.conftest import py

NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
EVERY_MINUTE = CronSpec("* * * * *", "UTC")
# every column the batch could get wrong: a shell job with a folder, overrides and retries
JOB = JobSpec(name="minutely report", command=("sh", "-c", "echo 'a b'"), trigger=EVERY_MINUTE, id="j1",
              env=(("REGION", "eu"), ("TZ", "UTC")), retries=2, misfire_grace=60, cwd="/tmp")  # fmt: skip
WRITE_TIMES = ("queued_at", "ended_at")  # the moment of the write: per row before, per batch now


def missed_slots(minutes: int = 120) -> list[tuple[datetime, str]]:
    """Two hours closed: 49 rows of their own and a summary row, as `plan_due_runs` plans them."""
    times = [NOW - timedelta(minutes=m) for m in range(minutes, 0, -1)]
    plan = plan_due_runs(JOB, times, NOW + timedelta(seconds=90))
    assert len(plan.missed) == MAX_MISSED_ROWS and "missed 71 runs" in plan.missed[-1][1]
    return list(plan.missed)


def service_at(path: Path) -> tuple[JobService, list]:
    service = JobService(resolve_data_dir(path))
    announced: list = []
    service.events.run_recorded.connect(announced.append)  # a row at a time (the old way)
    service.events.runs_recorded.connect(announced.extend)  # a job's rows at once
    service.dispatcher  # noqa: B018  made as a start makes it
    return service, announced


def rows(service: JobService) -> list[dict]:
    with service.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(run_table).order_by(run_table.c.id))]


def without_write_times(items: list) -> list:
    if items and isinstance(items[0], dict):
        return [{k: v for k, v in item.items() if k not in WRITE_TIMES} for item in items]
    return [dataclasses.replace(item, queued_at=None, ended_at=None) for item in items]


def test_the_batch_writes_the_rows_ids_and_events_one_transaction_a_row_wrote(tmp_path, qapp):
    missed = missed_slots()
    old, old_events = service_at(tmp_path / "old")
    new, new_events = service_at(tmp_path / "new")
    try:
        for service in (old, new):  # some history first: ids go on from it
            service.history.create(JOB, RunCause.MANUAL, RunStatus.SKIPPED, error="earlier")
        for when, reason in missed:  # the way record_missed wrote them before: a row at a time
            old.dispatcher.record(JOB, RunCause.SCHEDULED, RunStatus.MISSED, when, reason)
        commits: list[int] = []
        event.listen(new.engine, "commit", lambda conn: commits.append(1))
        before = time.time()
        records = new.dispatcher.record_missed(JOB, missed)
        after = time.time()

        assert len(commits) == 1  # one transaction for the job's 50 rows
        assert [r.id for r in records] == list(range(2, 2 + MAX_MISSED_ROWS))
        assert without_write_times(rows(new)) == without_write_times(rows(old))  # every column, in order
        assert len(rows(new)) == 1 + MAX_MISSED_ROWS
        assert [(r.scheduled_at, r.error) for r in records] == missed  # slot order
        assert without_write_times(new_events) == without_write_times(old_events)  # the same records, same order
        assert new_events == records
        written = {(row["queued_at"], row["ended_at"]) for row in rows(new)[1:]}
        (queued, ended), = written  # one moment for the batch, taken during the call
        assert before <= queued == ended <= after
    finally:
        old.shutdown()
        new.shutdown()


def test_the_records_returned_are_what_get_reads_field_by_field(data_dir, engine):
    history = HistoryRepository(engine)
    mixed = [(JOB, RunCause.SCHEDULED, RunStatus.MISSED, NOW, "missed by 3m"),
             (dataclasses.replace(JOB, id="j2", shell=True, env=(), cwd=None), RunCause.CATCH_UP, RunStatus.SKIPPED,
              None, None)]  # fmt: skip
    records = history.create_many(mixed)
    assert len(records) == 2
    for record in records:
        stored = history.get(record.id)
        assert stored is not None
        for field in dataclasses.fields(record):
            assert getattr(record, field.name) == getattr(stored, field.name), field.name
        assert record == stored
    assert history.create_many([]) == []


def test_ids_of_a_batch_are_one_block_after_ids_handed_out_before_and_before_those_after(engine):
    history = HistoryRepository(engine)
    first = history.allocate_id()
    block = history.allocate_ids(3)
    assert list(block) == [first + 1, first + 2, first + 3]
    assert history.allocate_id() == first + 4
    assert [r.id for r in history.create_many([(JOB, RunCause.SCHEDULED, RunStatus.MISSED, NOW, "m")] * 2)] == [
        first + 5, first + 6]


def test_one_warning_a_job_sums_up_and_each_slot_is_a_debug_line(data_dir, qapp, caplog):
    missed = missed_slots()
    service = JobService(data_dir)
    try:
        with caplog.at_level(logging.DEBUG, logger="jobs"):
            service.dispatcher.record_missed(JOB, missed)
        ours = [r for r in caplog.records if r.name == "jobs.missed_rows"]
        warnings = [r.getMessage() for r in ours if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert f"job j1: {MAX_MISSED_ROWS} missed run(s) recorded" in warnings[0]
        assert missed[0][0].isoformat() in warnings[0] and missed[-1][0].isoformat() in warnings[0]
        assert missed[-1][1] in warnings[0]  # the summary row's reason: how many slots in all
        assert len([r for r in ours if r.levelno == logging.DEBUG]) == MAX_MISSED_ROWS
        assert not [r for r in caplog.records if r.levelno == logging.WARNING and r.name != "jobs.missed_rows"]
    finally:
        service.shutdown()


def test_a_refused_batch_writes_none_of_its_rows_is_logged_and_the_pass_still_starts_the_catch_up_run(
        data_dir, qapp, qtbot, caplog):  # fmt: skip
    service = JobService(data_dir)
    service.start()
    try:
        job = service.add_job(JobSpec(name="strict", command=py("pass"), trigger=EVERY_MINUTE, misfire_grace=600))
        history = service.history
        last = history.allocate_id()
        # A row written behind the id allocator's back takes the batch's third id: a real
        # UNIQUE constraint failure in the middle of the insert.
        HistoryRepository(service.engine).create(job, RunCause.MANUAL, RunStatus.SKIPPED, run_id=last + 3, error="in the way")
        now = datetime.now(timezone.utc)
        run_times = [now - timedelta(minutes=m) for m in (40, 30, 20, 15, 12, 1)]  # 5 beyond the grace, 1 to run
        with caplog.at_level(logging.ERROR, logger="jobs.missed_rows"):
            service._on_due(job.id, run_times)  # as the scheduler's pass hands due times over

        assert not history.query(HistoryQuery(job_id=job.id, statuses=(RunStatus.MISSED,)))  # no partial batch
        errors = [r for r in caplog.records if r.name == "jobs.missed_rows" and r.levelno == logging.ERROR]
        assert len(errors) == 1 and "5 missed run(s)" in errors[0].getMessage() and errors[0].exc_info
        qtbot.waitUntil(lambda: [r.status for r in history.query(HistoryQuery(job_id=job.id))
                                 if r.cause is RunCause.CATCH_UP] == [RunStatus.SUCCEEDED], timeout=10_000)  # fmt: skip
        assert history.get(last + 3).error == "in the way"  # the row in the way is untouched
    finally:
        service.shutdown()


def test_a_start_after_a_closure_writes_each_jobs_missed_rows_in_one_transaction(data_dir, qapp):
    from jobs.service_start import StagedStart
    from tests.jobs.test_staged_start import DAILY, closed_for_days

    strict = closed_for_days(data_dir, [JobSpec(name=f"strict {i}", command=py("pass"), trigger=DAILY, misfire_grace=1,
                                                coalesce=False) for i in range(4)], days=3)  # fmt: skip
    service = JobService(data_dir)
    try:
        staged = StagedStart(service)
        staged.prepare()
        while not staged.step(catch_up=False):
            pass
        commits: list[int] = []
        event.listen(service.engine, "commit", lambda conn: commits.append(1))
        announced: list = []
        batches: list = []
        service.events.runs_recorded.connect(batches.append)
        service.events.runs_recorded.connect(announced.extend)
        staged.catch_up()  # as the window does it, on a worker thread
        assert len(commits) == len(strict)  # was one a slot: 3 a job
        assert len(batches) == len(strict)  # one event a job, not one a row
        assert sorted(r.job_id for r in announced) == sorted(s.id for s in strict for _ in range(3))
        for spec in strict:  # an event a row, in slot order
            ours = [r for r in announced if r.job_id == spec.id]
            assert [r.scheduled_at for r in ours] == sorted(r.scheduled_at for r in ours)
            assert [r.id for r in ours] == list(range(ours[0].id, ours[0].id + 3))
        staged.finish()
        for spec in strict:
            runs = service.query_history(HistoryQuery(job_id=spec.id))
            assert len(runs) == 3 and all(r.status is RunStatus.MISSED for r in runs)
    finally:
        service.shutdown()
