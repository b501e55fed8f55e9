"""Interval and one-off triggers: validation, elapsed time below a day, the wall clock for days and
weeks (NOTES 14), and a first answer that is never in the past."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.interval import IntervalTrigger
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.model import DateSpec, IntervalSpec, TriggerSpec
from jobs.triggers import TriggerError, WallClockIntervalTrigger, next_fire_times, to_aps_trigger, validate
from tests.jobs.cron_cases import MON, PARIS, UTC, at, walls


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (IntervalSpec(0, "minutes", PARIS), "amount: 0 must be at least 1"),
        (IntervalSpec(-3, "hours", PARIS), "amount: -3 must be at least 1"),
        (IntervalSpec(6000, "weeks", PARIS), "amount: 6000 weeks is longer than 100 years"),
        (IntervalSpec(1, "fortnights", PARIS), "unit: 'fortnights' is not one of weeks, days, hours, minutes or seconds"),
        (IntervalSpec(1, "days", PARIS, jitter=-1), "jitter: -1 must not be negative"),
        (
            IntervalSpec(1, "days", PARIS, start=at("2026-12-02 09:00"), end=at("2026-12-01 09:00")),
            "end: 2026-12-01 09:00 is not after the start, 2026-12-02 09:00",
        ),
        (
            IntervalSpec(1, "days", PARIS, start=datetime(2026, 12, 1, 9)),
            "start: 2026-12-01 09:00 has no time zone or UTC offset",
        ),
        (DateSpec(datetime(2027, 1, 1, 9), PARIS), "run_at: 2027-01-01 09:00 has no time zone or UTC offset"),
    ],
)
def test_interval_and_date_errors(spec: TriggerSpec, message: str) -> None:
    with pytest.raises(TriggerError) as raised:
        validate(spec)
    assert str(raised.value) == message


def test_a_one_off_in_the_past_is_refused_relative_to_now() -> None:
    spec = DateSpec(at("2026-01-01 09:00"), PARIS)
    with pytest.raises(TriggerError) as raised:
        validate(spec, now=at("2026-06-01 00:00"))
    assert str(raised.value) == "run_at: 2026-01-01 09:00 is in the past"
    validate(spec, now=at("2026-01-01 08:59"))
    to_aps_trigger(spec)  # a stored one-off that already ran still builds

def test_next_fire_times_stop_when_the_trigger_ends() -> None:
    start, end = at("2026-12-01 09:00"), at("2026-12-01 10:00")
    spec = IntervalSpec(20, "minutes", PARIS, start=start, end=end)
    assert len(next_fire_times(spec, 10, after=at("2026-11-30 00:00"))) == 4
    one_off = DateSpec(at("2026-12-24 18:00"), PARIS)
    assert next_fire_times(one_off, 10, after=at("2026-12-01 00:00")) == [at("2026-12-24 18:00")]
    assert next_fire_times(one_off, 10, after=at("2026-12-24 18:00")) == []


def test_interval_units_below_a_day_keep_elapsed_time() -> None:
    spec = IntervalSpec(90, "minutes", PARIS, start=at("2026-12-01 09:00"))
    times = next_fire_times(spec, 3, after=at("2026-12-01 09:10"))
    assert times == [at("2026-12-01 10:30"), at("2026-12-01 12:00"), at("2026-12-01 13:30")]
    assert isinstance(to_aps_trigger(spec), IntervalTrigger)


def test_jitter_is_in_the_scheduled_trigger_but_not_in_previews() -> None:
    spec = IntervalSpec(1, "days", PARIS, start=at("2026-12-01 09:00"), jitter=600)
    assert to_aps_trigger(spec).jitter == 600
    assert all(t.minute == 0 for t in next_fire_times(spec, 20, after=at("2026-12-01 00:00")))
    hourly = IntervalSpec(1, "hours", PARIS, start=at("2026-12-01 09:00"), jitter=30)
    assert to_aps_trigger(hourly).jitter == 30
    assert all(t.minute == 0 for t in next_fire_times(hourly, 20, after=at("2026-12-01 00:00")))


def test_day_interval_keeps_the_wall_clock_across_dst() -> None:
    spec = IntervalSpec(1, "days", PARIS, start=at("2026-03-20 09:00"))
    assert isinstance(to_aps_trigger(spec), CalendarIntervalTrigger)
    for after in ("2026-03-27 00:00", "2026-10-23 00:00"):
        times = next_fire_times(spec, 4, after=at(after))
        assert [(t.hour, t.minute) for t in times] == [(9, 0)] * 4
        assert len({t.utcoffset() for t in times}) == 2  # the offset changed, the wall time did not




def test_hour_interval_drifts_across_dst_as_elapsed_time() -> None:
    spec = IntervalSpec(24, "hours", PARIS, start=at("2026-03-20 09:00"))
    times = next_fire_times(spec, 4, after=at("2026-03-27 00:00"))
    assert [t.hour for t in times] == [9, 9, 10, 10]


def test_day_interval_skips_a_day_whose_time_does_not_exist() -> None:
    spec = IntervalSpec(1, "days", PARIS, start=at("2026-03-01 02:30"))
    times = next_fire_times(spec, 3, after=at("2026-03-28 00:00"))
    assert walls(times) == ["03-28 02:30+0100", "03-30 02:30+0200", "03-31 02:30+0200"]


def test_week_interval_from_a_start_long_ago() -> None:
    spec = IntervalSpec(2, "weeks", PARIS, start=at("2020-01-06 09:00"))  # a Monday
    times = next_fire_times(spec, 3, after=at("2026-12-01 00:00"))
    assert all(t.weekday() == MON and t.hour == 9 for t in times)
    assert all((t.date() - date(2020, 1, 6)).days % 14 == 0 for t in times)
    assert [b - a for a, b in zip(times, times[1:])] == [timedelta(weeks=2)] * 2


def test_a_day_interval_added_to_a_scheduler_is_not_due_at_once() -> None:
    # CalendarIntervalTrigger answers start_date's run however old; ours answers the next one
    spec = IntervalSpec(1, "days", PARIS, start=at("2026-10-01 09:00"))
    trigger = to_aps_trigger(spec)
    assert isinstance(trigger, WallClockIntervalTrigger)
    assert trigger.get_next_fire_time(None, at("2026-12-01 10:00")) == at("2026-12-02 09:00")
    assert trigger.get_next_fire_time(None, at("2026-12-01 09:00")) == at("2026-12-01 09:00")
    assert trigger.get_next_fire_time(None, at("2026-09-01 00:00")) == at("2026-10-01 09:00")
    assert trigger.get_next_fire_time(at("2026-10-01 09:00"), at("2026-12-01 00:00")) == at("2026-10-02 09:00")


def test_a_scheduler_given_an_old_day_interval_plans_the_next_run_not_a_month_of_misses() -> None:
    spec = IntervalSpec(1, "days", "UTC", start=datetime.now(UTC).replace(microsecond=0) - timedelta(days=30))
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        job = scheduler.add_job(print, to_aps_trigger(spec))
        assert datetime.now(UTC) <= job.next_run_time <= datetime.now(UTC) + timedelta(days=1)
    finally:
        scheduler.shutdown(wait=False)


@settings(max_examples=60, deadline=None)
@given(
    amount=st.integers(1, 20),
    unit=st.sampled_from(["days", "weeks"]),
    start=st.datetimes(datetime(2024, 1, 1), datetime(2027, 1, 1)),
    days_later=st.integers(0, 800),
)
def test_day_interval_preview_matches_a_walk_from_the_start(
    amount: int, unit: str, start: datetime, days_later: int
) -> None:
    first = start.replace(microsecond=0, tzinfo=UTC).astimezone(ZoneInfo(PARIS))
    spec = IntervalSpec(amount, unit, PARIS, start=first)
    after = first + timedelta(days=days_later, hours=5)
    # APScheduler's own trigger, walked from its start date as the scheduler would
    plain = CalendarIntervalTrigger(
        **{unit: amount}, hour=first.hour, minute=first.minute, second=first.second,
        start_date=first.date(), timezone=ZoneInfo(PARIS),
    )  # fmt: skip
    walked: list[datetime] = []
    fire = plain.get_next_fire_time(None, after)
    while len(walked) < 3:
        if fire > after:
            walked.append(fire)
        fire = plain.get_next_fire_time(fire, fire)
    assert next_fire_times(spec, 3, after=after) == walked


