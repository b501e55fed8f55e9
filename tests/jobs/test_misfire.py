"""The missed-run policy: grace, collapsing into one catch-up run, summary rows."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from jobs.misfire import MAX_MISSED_ROWS, plan_due_runs
from jobs.model import CronSpec, JobSpec, RunCause

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)


def job(**kw) -> JobSpec:
    return JobSpec(name="j", command=("true",), trigger=CronSpec("0 * * * *", "UTC"), id="j", **kw)


def hours_ago(*hours: int) -> list[datetime]:
    return [NOW - timedelta(hours=h) for h in sorted(hours, reverse=True)]


def test_on_time_run_is_scheduled():
    plan = plan_due_runs(job(), [NOW - timedelta(milliseconds=3)], NOW)
    assert plan.runs == ((NOW - timedelta(milliseconds=3), RunCause.SCHEDULED),)
    assert plan.missed == ()


def test_several_missed_collapse_into_one_catch_up_run_by_default():
    times = hours_ago(3, 2, 1)
    plan = plan_due_runs(job(), times, NOW)
    assert plan.runs == ((times[-1], RunCause.CATCH_UP),)
    assert [when for when, _ in plan.missed] == times[:2]
    assert all("collapsed into one catch-up run" in why for _, why in plan.missed)


def test_without_coalescing_every_slot_runs():
    times = hours_ago(3, 2, 1)
    plan = plan_due_runs(job(coalesce=False), times, NOW)
    assert [when for when, _ in plan.runs] == times and plan.missed == ()


def test_slots_beyond_the_grace_time_are_missed_with_the_reason():
    times = hours_ago(3, 2) + [NOW - timedelta(minutes=5)]
    plan = plan_due_runs(job(misfire_grace=1800), times, NOW)
    assert plan.runs == ((times[-1], RunCause.CATCH_UP),)
    assert [when for when, _ in plan.missed] == times[:2]
    assert plan.missed[0][1] == "missed by 3h (grace 30m)"


def test_nothing_runs_when_every_slot_is_too_late():
    plan = plan_due_runs(job(misfire_grace=60), hours_ago(2, 1), NOW)
    assert plan.runs == () and len(plan.missed) == 2


def test_a_long_downtime_is_summed_up_in_one_row():
    times = [NOW - timedelta(minutes=m) for m in range(500, 0, -1)]
    plan = plan_due_runs(job(), times, NOW, more=True)
    assert len(plan.missed) == MAX_MISSED_ROWS
    assert "or more runs" in plan.missed[-1][1]
    assert len(plan.runs) == 1
