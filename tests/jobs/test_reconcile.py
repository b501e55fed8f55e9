"""Start-up reconciling does work only for jobs that need it (issue 10: 2.5 s of a 10,000-job
start was loading and decoding every job), and still catches every change made while no
scheduler ran: edited, paused, resumed, added, removed, unreadable, past due."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from sqlalchemy import update

from jobs.db import job_table
from jobs.history import HistoryQuery
from jobs.model import CronSpec, JobSpec, RunCause
from jobs.reconcile import fingerprint, stored_jobs
from jobs.repository import JobRepository
from jobs.service import APS_TABLE, JobService
from tests.conftest import py

YEARLY = CronSpec("0 0 1 1 *", "UTC")


def job(name: str, trigger: CronSpec = YEARLY, **kw) -> JobSpec:
    return JobSpec(name=name, command=py("pass"), trigger=trigger, **kw)


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    seen: list[str] = []
    original = JobRepository._decode

    def counting(row, broken=None):
        seen.append(row.id)
        return original(row, broken)

    monkeypatch.setattr(JobRepository, "_decode", staticmethod(counting))
    return seen


def scheduled_once(data_dir, specs: list[JobSpec]) -> list[JobSpec]:
    service = JobService(data_dir)
    service.start()
    try:
        return service.import_jobs(specs)
    finally:
        service.shutdown()


def test_jobs_in_step_with_their_rows_are_neither_decoded_nor_loaded(data_dir, qapp, decodes, monkeypatch):
    saved = scheduled_once(data_dir, [job(f"job {n}") for n in range(30)])
    before = {spec.id: when for spec, when in zip(saved, _next_runs(data_dir, saved))}
    loaded: list[str] = []
    original = SQLAlchemyJobStore._reconstitute_job

    def counting(store, state):
        job = original(store, state)
        loaded.append(job.id)
        return job

    monkeypatch.setattr(SQLAlchemyJobStore, "_reconstitute_job", counting)
    decodes.clear()
    service = JobService(data_dir)
    service.start()
    try:
        assert decodes == [] and loaded == []
        assert service.next_run_times() == before
    finally:
        service.shutdown()


def _next_runs(data_dir, specs: list[JobSpec]) -> list[datetime]:
    service = JobService(data_dir)
    try:
        runs = service.next_run_times(specs)
    finally:
        service.shutdown()
    return [runs[spec.id] for spec in specs]


def test_changes_made_with_no_scheduler_running_are_all_caught(data_dir, qapp, qtbot, decodes):
    hourly = CronSpec("0 * * * *", "UTC")
    kept, edited, paused, resumed, removed, broken, due = scheduled_once(data_dir, [
        job("kept"), job("edited"), job("paused"), job("resumed", paused=True), job("removed"),
        job("broken", trigger=hourly), job("due", trigger=hourly),
    ])  # fmt: skip
    closing = JobService(data_dir)
    closing.start()
    closing.scheduler.pause()  # as if it had been closed for two hours
    closing.scheduler.modify_job(due.id, next_run_time=datetime.now(timezone.utc) - timedelta(hours=2))
    closing.shutdown()
    offline = JobService(data_dir)  # the command line acting on the store, as with no instance
    try:
        offline.update_job(replace(edited, trigger=CronSpec("0 6 * * *", "UTC")))
        offline.set_paused(paused.id, True)
        offline.set_paused(resumed.id, False)
        offline.remove_job(removed.id)
        added = offline.add_job(job("added"))
        with offline.engine.begin() as conn:  # stored by an older version in a form we no longer read
            conn.execute(update(job_table).where(job_table.c.id == broken.id).values(spec='{"name": 1}'))
    finally:
        offline.shutdown()
    decodes.clear()
    service = JobService(data_dir)
    service.start()
    try:
        assert sorted(decodes) == sorted([edited.id, paused.id, resumed.id, added.id, broken.id, due.id])
        rows = {j.id: j for j in service.scheduler.get_jobs()}
        assert set(rows) == {kept.id, edited.id, paused.id, resumed.id, added.id, due.id}
        assert rows[edited.id].name == fingerprint(replace(edited, trigger=CronSpec("0 6 * * *", "UTC")))
        assert rows[paused.id].next_run_time is None and rows[resumed.id].next_run_time is not None
        assert rows[due.id].next_run_time > datetime.now(timezone.utc)
        caught_up = HistoryQuery(job_id=due.id, limit=10)  # the missed slots: one catch-up run
        qtbot.waitUntil(lambda: any(r.cause is RunCause.CATCH_UP for r in service.query_history(caught_up)), timeout=5000)
    finally:
        service.shutdown()


def test_peeking_at_rows_agrees_with_loading_them(data_dir, qapp):
    saved = scheduled_once(data_dir, [job("cron"), job("paused", paused=True)])
    service = JobService(data_dir)
    service.start()
    try:
        peeked = stored_jobs(service.engine, APS_TABLE)
        for real in service.scheduler.get_jobs():
            seen = peeked[real.id]
            assert seen is not None and seen.name == real.name
            assert seen.trigger_class == f"{type(real.trigger).__module__}.{type(real.trigger).__qualname__}"
            assert seen.next_run_time == real.next_run_time
        assert {spec.id for spec in saved} == set(peeked)
    finally:
        service.shutdown()


def test_next_run_times_of_a_few_jobs_match_those_of_all(data_dir, qapp):
    hourly = CronSpec("0 * * * *", "UTC")
    saved = scheduled_once(data_dir, [job(f"job {n}", trigger=hourly) for n in range(5)] + [job("p", paused=True)])
    offline = JobService(data_dir)
    try:
        unscheduled = offline.add_job(job("added offline"))  # no row yet: computed from its trigger
        everything = offline.next_run_times()
        few = [saved[1], saved[3], saved[5], unscheduled]
        assert offline.next_run_times(few) == {s.id: everything[s.id] for s in few if s.id in everything}
        assert set(offline.next_run_times(few)) == {saved[1].id, saved[3].id, unscheduled.id}
    finally:
        offline.shutdown()
