"""The core end to end inside one process: real SQLite, real subprocesses, a real Qt loop."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from jobs.codec import JobValidationError
from jobs.history import HistoryQuery
from jobs.model import CronSpec, DateSpec, IntervalSpec, JobSpec, Overlap, RunCause, RunStatus
from jobs.service import JobService
from tests.conftest import py

YEARLY = CronSpec("0 0 1 1 *", "UTC")  # never due during a test


def job(name="job", command=py("print('hello')"), trigger=YEARLY, **kw) -> JobSpec:
    return JobSpec(name=name, command=command, trigger=trigger, **kw)


def test_a_job_survives_a_restart_with_its_next_run_time(data_dir, qapp):
    first = JobService(data_dir)
    first.start()
    saved = first.add_job(job(trigger=CronSpec("30 7 * * 1-5", "Europe/Paris")))
    next_run = first.next_run_times()[saved.id]
    first.shutdown()

    second = JobService(data_dir)
    second.start()
    try:
        assert second.jobs.get(saved.id) == saved
        assert second.next_run_times()[saved.id] == next_run
        paris = next_run.astimezone(ZoneInfo("Europe/Paris"))
        assert paris.strftime("%H:%M") == "07:30" and paris.weekday() < 5
    finally:
        second.shutdown()


def test_run_now_is_manual_keeps_the_schedule_and_logs_output(service):
    saved = service.add_job(job())
    before = service.next_run_times()[saved.id]
    record = service.wait_for_run(service.run_now(saved.id), timeout=20)
    assert record.status is RunStatus.SUCCEEDED and record.exit_code == 0
    assert record.cause is RunCause.MANUAL
    assert record.log_path.read_text().strip() == "hello"
    assert record.command == saved.command
    assert service.next_run_times()[saved.id] == before


def test_an_interval_job_runs_on_schedule(service, qtbot):
    saved = service.add_job(job(trigger=IntervalSpec(1, "seconds", "UTC"), command=py("pass")))
    done = lambda: service.history.count(HistoryQuery(job_id=saved.id, statuses=(RunStatus.SUCCEEDED,))) >= 2
    qtbot.waitUntil(done, timeout=6000)
    runs = service.query_history(HistoryQuery(job_id=saved.id))
    assert {r.cause for r in runs} == {RunCause.SCHEDULED}
    assert all(r.scheduled_at is not None for r in runs)


def test_a_one_off_job_runs_once_then_has_no_next_run(service, qtbot):
    at = (datetime.now(timezone.utc) + timedelta(seconds=1)).replace(microsecond=0) + timedelta(seconds=1)
    saved = service.add_job(job(trigger=DateSpec(at, "UTC"), command=py("pass")))
    assert service.next_run_times()[saved.id] == at
    qtbot.waitUntil(lambda: service.history.count(HistoryQuery(job_id=saved.id)) == 1, timeout=6000)
    qtbot.waitUntil(lambda: saved.id not in service.next_run_times(), timeout=2000)
    assert service.jobs.get(saved.id) == saved  # the definition stays


def test_a_failing_command_is_a_failed_run_with_its_message(service):
    saved = service.add_job(job(command=("no-such-program-jobdesk",)))
    record = service.wait_for_run(service.run_now(saved.id), timeout=20)
    assert record.status is RunStatus.FAILED
    assert "not found" in record.error
    assert record.started_at is None and record.exit_code is None  # no process ever existed
    assert "not found" in record.log_path.read_text()  # the log viewer shows why


def test_invalid_definitions_are_refused_and_nothing_is_stored(service):
    with pytest.raises(JobValidationError, match="trigger.minute: 61 is out of range 0-59"):
        service.add_job(job(trigger=CronSpec("61 * * * *", "UTC")))
    with pytest.raises(JobValidationError, match="command"):
        service.add_job(job(command=()))
    assert service.jobs.all() == []


def test_pause_and_resume(service):
    saved = service.add_job(job(trigger=IntervalSpec(1, "hours", "UTC")))
    service.set_paused(saved.id, True)
    assert saved.id not in service.next_run_times()
    assert [spec.id for _, spec in service.upcoming()] == []
    service.set_paused(saved.id, False)
    assert saved.id in service.next_run_times()
    assert service.upcoming(limit=5)[0][1].id == saved.id


def test_upcoming_merges_all_jobs_in_time_order(service):
    a = service.add_job(job(name="a", trigger=IntervalSpec(10, "minutes", "UTC")))
    b = service.add_job(job(name="b", trigger=IntervalSpec(25, "minutes", "UTC")))
    upcoming = service.upcoming(limit=10)
    times = [when for when, _ in upcoming]
    assert times == sorted(times) and len(upcoming) == 10
    assert {spec.id for _, spec in upcoming} == {a.id, b.id}


def test_overlap_skip_records_a_skipped_row(service):
    saved = service.add_job(job(command=py("import time; time.sleep(2)"), overlap=Overlap.SKIP))
    first = service.run_now(saved.id)
    assert service.run_now(saved.id) is None
    skipped = service.query_history(HistoryQuery(job_id=saved.id, statuses=(RunStatus.SKIPPED,)))
    assert len(skipped) == 1 and f"run #{first} was still going" in skipped[0].error
    service.cancel_run(first)
    assert service.wait_for_run(first, timeout=20).status is RunStatus.KILLED


def test_overlap_queue_keeps_one_waiting_run(service):
    saved = service.add_job(job(command=py("import time; time.sleep(0.5)"), overlap=Overlap.QUEUE))
    first, second = service.run_now(saved.id), service.run_now(saved.id)
    assert second is not None and service.run_now(saved.id) is None  # a second waiting run is skipped
    assert service.history.get(second).status is RunStatus.QUEUED
    one, two = service.wait_for_run(first, 20), service.wait_for_run(second, 20)
    assert one.status is two.status is RunStatus.SUCCEEDED
    assert two.started_at >= one.ended_at


def test_global_limit_queues_runs_instead_of_missing_them(service):
    service.set_setting("max_concurrent", 2)
    specs = [service.add_job(job(name=f"j{i}", command=py("import time; time.sleep(0.4)"))) for i in range(5)]
    runs = [service.run_now(spec.id) for spec in specs]
    rows = [service.history.get(r) for r in runs]  # a run that started at once is written just after
    assert [row.status for row in rows if row is not None].count(RunStatus.QUEUED) >= 3
    records = [service.wait_for_run(r, 30) for r in runs]
    assert all(r.status is RunStatus.SUCCEEDED for r in records)
    # never more than two at once
    spans = sorted((r.started_at, r.ended_at) for r in records)
    for i, (start, _end) in enumerate(spans):
        overlapping = sum(1 for s, e in spans if s <= start < e)
        assert overlapping <= 2, spans


def _shift_next_runs(service: JobService, hours: float) -> None:
    """Pretend Jobdesk was closed for `hours`: move every stored next run time back."""
    service.scheduler.pause()  # nothing may fire while we rewrite the past
    for stored in service.scheduler.get_jobs():
        service.scheduler.modify_job(stored.id, next_run_time=stored.next_run_time - timedelta(hours=hours))


def test_runs_missed_while_closed_follow_each_jobs_policy(data_dir, qapp, qtbot):
    first = JobService(data_dir)
    first.start()
    # Daily, 12 hours away: a slot falling due during the test would make the newest run "scheduled"
    daily = CronSpec(f"0 {(datetime.now(timezone.utc).hour + 12) % 24} * * *", "UTC")
    collapse = first.add_job(job(name="collapse", trigger=daily, command=py("pass")))
    strict = first.add_job(job(name="strict", trigger=daily, command=py("pass"), misfire_grace=1, coalesce=False))
    _shift_next_runs(first, 4 * 24)
    first.shutdown()

    second = JobService(data_dir)
    second.start()
    try:
        qtbot.waitUntil(lambda: second.history.count(HistoryQuery(job_id=collapse.id)) == 4, timeout=5000)
        runs = second.query_history(HistoryQuery(job_id=collapse.id))
        catch_up = [r for r in runs if r.status is not RunStatus.MISSED]
        assert len(catch_up) == 1 and catch_up[0].cause is RunCause.CATCH_UP
        assert second.wait_for_run(catch_up[0].id, 20).status is RunStatus.SUCCEEDED
        missed = [r for r in runs if r.status is RunStatus.MISSED]
        assert len(missed) == 3 and all("collapsed" in r.error for r in missed)
        strict_runs = second.query_history(HistoryQuery(job_id=strict.id))
        assert len(strict_runs) == 4 and all(r.status is RunStatus.MISSED for r in strict_runs)
        assert all("grace 1s" in r.error for r in strict_runs)
        now = datetime.now(timezone.utc)
        assert all(when > now for when in second.next_run_times().values())
    finally:
        second.shutdown()


def test_a_frequent_job_closed_for_a_month_is_summed_up_not_enumerated(data_dir, qapp):
    first = JobService(data_dir)
    first.start()
    minutely = first.add_job(job(trigger=CronSpec("* * * * *", "UTC"), command=py("pass"), misfire_grace=60))
    _shift_next_runs(first, 30 * 24)
    first.shutdown()

    second = JobService(data_dir)
    second.start()
    try:
        missed = second.query_history(HistoryQuery(job_id=minutely.id, limit=1000))
        assert 1 <= len(missed) <= 51
        assert any("or more runs" in (r.error or "") for r in missed)
        assert second.next_run_times()[minutely.id] > datetime.now(timezone.utc)
    finally:
        second.shutdown()


def test_scheduler_rows_are_rebuilt_from_our_definitions(data_dir, qapp):
    first = JobService(data_dir)
    first.start()
    saved = first.add_job(job(trigger=IntervalSpec(2, "hours", "UTC")))
    with first.engine.begin() as conn:  # APScheduler lost its rows (e.g. unpicklable after an upgrade)
        conn.execute(text("DELETE FROM apscheduler_jobs"))
        conn.execute(text("INSERT INTO apscheduler_jobs VALUES ('orphan', 1.0, x'00')"))
    first.shutdown()

    second = JobService(data_dir)
    second.start()
    try:
        assert saved.id in second.next_run_times()
        assert [job.id for job in second.scheduler.get_jobs()] == [saved.id]
    finally:
        second.shutdown()


def test_damage_found_by_the_background_check_is_announced_and_stops_new_runs(data_dir, qapp, qtbot, monkeypatch):
    from jobs import dbcheck
    from tests.jobs.test_db import corrupt_index, filled_store

    filled_store(data_dir, runs=20000)
    corrupt_index(data_dir.database, "ix_runs_queued_at")
    monkeypatch.setattr(dbcheck, "DEFAULT_BUDGET", 0.0)  # the open checks only the small tables
    service = JobService(data_dir)
    saved = service.add_job(job())
    try:
        with qtbot.waitSignal(service.events.database_damaged, timeout=20000) as damaged:
            service.start()
        assert f"{data_dir.database} is damaged" in damaged.args[0]
        with pytest.raises(RuntimeError, match="is damaged"):
            service.run_now(saved.id)
    finally:
        service.shutdown()


def test_brief_last_runs_hold_exactly_the_fields_a_job_list_shows(service):
    """The window's Jobs table reads each job's newest run `brief` (jobs.history.BRIEF_COLUMNS):
    every field it reads equals the full record's, the others keep their defaults."""
    import dataclasses

    from jobs.history import BRIEF_COLUMNS
    from jobs.model import RunRecord

    fails = service.add_job(JobSpec(name="fails", command=py("import sys; print('bad input', file=sys.stderr); sys.exit(3)"),
                                    trigger=CronSpec("0 3 * * *", "UTC")))  # fmt: skip
    works = service.add_job(JobSpec(name="works", command=py("print('ok')"), trigger=CronSpec("0 4 * * *", "UTC")))
    never = service.add_job(JobSpec(name="never ran", command=py("pass"), trigger=CronSpec("0 5 * * *", "UTC")))
    for saved in (fails, works):
        service.wait_for_run(service.run_now(saved.id), timeout=20)
    ids = [fails.id, works.id, never.id]
    full, brief = service.last_runs(ids), service.last_runs(ids, brief=True)
    assert full.keys() == brief.keys() == {fails.id, works.id}
    assert full[fails.id].stderr_tail and full[fails.id].exit_code == 3 and full[fails.id].command  # (something to lose)
    defaults = RunRecord(id=0, job_id="", job_name="", cause=RunCause.MANUAL, status=RunStatus.QUEUED)
    for job_id in full:
        for item in dataclasses.fields(RunRecord):
            kept = getattr(full[job_id], item.name) if item.name in BRIEF_COLUMNS else getattr(defaults, item.name)
            assert getattr(brief[job_id], item.name) == kept, item.name
