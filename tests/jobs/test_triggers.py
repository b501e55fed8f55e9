"""Trigger specs against real APScheduler triggers: cron semantics, DST, words, dicts, CLI.

No mocks: every fire time here comes from the trigger objects the scheduler runs.
"""

from __future__ import annotations

import json
import pickle
import string
import time as clock
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jobs.model import CronSpec, DateSpec, IntervalSpec, TriggerSpec
from jobs.triggers import (
    GapSafeCronTrigger,
    TriggerError,
    WallClockIntervalTrigger,
    describe,
    dst_notes,
    fire_times_between,
    local_timezone_name,
    next_fire_times,
    parse_cli_trigger,
    spec_from_dict,
    spec_to_dict,
    to_aps_trigger,
    validate,
)

PARIS = "Europe/Paris"
UTC = timezone.utc


def at(text: str, tz: str = PARIS) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def cron_times(expression: str, count: int = 10, after: str = "2026-12-01 00:00", tz: str = PARIS) -> list[datetime]:
    return next_fire_times(CronSpec(expression, tz), count, after=at(after, tz))


@pytest.fixture
def other_zone() -> str:
    """A zone that is not this machine's, so describe() names it."""
    return "Asia/Tokyo" if local_timezone_name() == PARIS else PARIS


# --- weekdays and fields ----------------------------------------------------------------------

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)  # datetime.weekday()


@pytest.mark.parametrize(
    ("field", "weekdays"),
    [
        ("0", {SUN}),
        ("7", {SUN}),
        ("0,7", {SUN}),
        ("1-5", {MON, TUE, WED, THU, FRI}),
        ("5-7", {FRI, SAT, SUN}),
        ("6-7", {SAT, SUN}),
        ("0-6", set(range(7))),
        ("sat,sun", {SAT, SUN}),
        ("SAT-SUN", {SAT, SUN}),
        ("Mon-Fri", {MON, TUE, WED, THU, FRI}),
        ("sun-sat", set(range(7))),
        ("mon-fri/2", {MON, WED, FRI}),
        ("*/2", {SUN, TUE, THU, SAT}),
        ("1", {MON}),
        ("6", {SAT}),
    ],
)
def test_weekdays_are_standard_cron(field: str, weekdays: set[int]) -> None:
    times = cron_times(f"0 9 * * {field}", count=21)
    assert {t.weekday() for t in times} == weekdays
    assert all((t.hour, t.minute) == (9, 0) for t in times)


def test_sunday_zero_is_not_apschedulers_monday() -> None:
    # APScheduler's own from_crontab reads 0 as Monday (NOTES 13); ours must not
    first = cron_times("0 9 * * 0", count=1, after="2026-11-30 00:00")[0]  # a Monday
    assert first == at("2026-12-06 09:00")
    assert first.weekday() == SUN


@pytest.mark.parametrize(
    ("expression", "minutes", "hours"),
    [
        ("*/15 3 * * *", {0, 15, 30, 45}, {3}),
        ("1-30/5 3 * * *", {1, 6, 11, 16, 21, 26}, {3}),
        ("5/20 3 * * *", {5, 25, 45}, {3}),
        ("0,30 1-3 * * *", {0, 30}, {1, 2, 3}),
        ("0 */6 * * *", {0}, {0, 6, 12, 18}),
    ],
)
def test_steps_ranges_and_lists(expression: str, minutes: set[int], hours: set[int]) -> None:
    times = cron_times(expression, count=len(minutes) * len(hours))
    assert {t.minute for t in times} == minutes
    assert {t.hour for t in times} == hours


def test_month_names_are_case_insensitive() -> None:
    times = cron_times("0 0 1 JAN,jul *", count=4)
    assert [(t.year, t.month) for t in times] == [(2027, 1), (2027, 7), (2028, 1), (2028, 7)]


@pytest.mark.parametrize(
    ("macro", "expression"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@ANNUALLY", "0 0 1 1 *"),
    ],
)
def test_macros(macro: str, expression: str) -> None:
    assert cron_times(macro, count=3) == cron_times(expression, count=3)


def test_weekdays_reach_apscheduler_as_names() -> None:
    trigger = to_aps_trigger(CronSpec("30 7 * * 1-5", PARIS))
    assert isinstance(trigger, GapSafeCronTrigger) and isinstance(trigger, CronTrigger)
    assert "day_of_week='mon-fri'" in str(trigger)


def test_same_schedule_written_differently_gives_the_same_state() -> None:
    a = to_aps_trigger(CronSpec("0 9 * * 1-5", PARIS)).__getstate__()
    b = to_aps_trigger(CronSpec("0 9 * * MON-FRI", PARIS)).__getstate__()
    assert a == b


# --- errors -----------------------------------------------------------------------------------


FIVE = "(minute hour day-of-month month day-of-week)"


@pytest.mark.parametrize(
    ("expression", "field", "message"),
    [
        ("61 * * * *", "minute", "minute: 61 is out of range 0-59"),
        ("* 25 * * *", "hour", "hour: 25 is out of range 0-23"),
        ("0 0 0 * *", "day of month", "day of month: 0 is out of range 1-31"),
        ("0 0 32 * *", "day of month", "day of month: 32 is out of range 1-31"),
        ("0 0 * 13 *", "month", "month: 13 is out of range 1-12"),
        ("0 0 * * 8", "day of week", "day of week: 8 is out of range 0-7"),
        ("0 0 * * xyz", "day of week", "day of week: 'xyz' is not a weekday"),
        ("0 0 * foo *", "month", "month: 'foo' is not a month"),
        ("0 abc * * *", "hour", "hour: 'abc' is not a number"),
        ("1-70 * * * *", "minute", "minute: 70 is out of range 0-59"),
        ("*/0 * * * *", "minute", "minute: step 0 is out of range 1-59"),
        ("*/60 * * * *", "minute", "minute: step 60 is out of range 1-59"),
        ("0 0 * * */x", "day of week", "day of week: step 'x' is not a number"),
        ("1,,2 * * * *", "minute", "minute: '1,,2' has an empty item in its list"),
        ("0 0 31 2 *", "day of month", "day of month: 31 never happens in February"),
        ("0 0 31 2,4 *", "day of month", "day of month: 31 never happens in February or April"),
        ("* * * *", "expression", f"expression: expected 5 fields {FIVE}, got 4"),
        ("* * * * * *", "expression", f"expression: expected 5 fields {FIVE}, got 6"),
        ("", "expression", f"expression: expected 5 fields {FIVE}, got 0"),
    ],
)
def test_cron_errors_name_the_field_and_value(expression: str, field: str, message: str) -> None:
    with pytest.raises(TriggerError) as raised:
        validate(CronSpec(expression, "UTC"))
    assert raised.value.field == field
    assert str(raised.value) == message
    assert raised.value.message == message.split(": ", 1)[1]


@pytest.mark.parametrize(
    ("expression", "field", "words"),
    [
        ("30-10 * * * *", "minute", "30-10 is a backwards range"),
        ("1-2-3 * * * *", "minute", "'1-2-3' is not a valid minute"),
        ("0 0 * * fri-mon", "day of week", "fri-mon is a backwards range"),
        ("@reboot", "expression", "'@reboot' is not supported: use @hourly"),
    ],
)
def test_more_cron_errors(expression: str, field: str, words: str) -> None:
    with pytest.raises(TriggerError) as raised:
        validate(CronSpec(expression, "UTC"))
    assert raised.value.field == field
    assert words in str(raised.value)


def test_trigger_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="timezone: 'Mars/Base' is not a known time zone"):
        validate(CronSpec("0 0 * * *", "Mars/Base"))


@pytest.mark.parametrize("name", ["", "Mars/Base", "/etc/passwd", "Europe", "../x", "utc"])
def test_unknown_zones(name: str) -> None:
    with pytest.raises(TriggerError) as raised:
        validate(CronSpec("0 0 * * *", name))
    assert raised.value.field == "timezone"
    assert str(raised.value) == f"timezone: {name!r} is not a known time zone"


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


# --- day of month OR day of week --------------------------------------------------------------


def test_both_day_fields_restricted_means_either() -> None:
    times = cron_times("0 0 13 * 5", count=40, after="2026-01-01 00:00")
    assert all(t.day == 13 or t.weekday() == FRI for t in times)
    assert any(t.day == 13 and t.weekday() != FRI for t in times)
    assert any(t.weekday() == FRI and t.day != 13 for t in times)
    assert isinstance(to_aps_trigger(CronSpec("0 0 13 * 5", PARIS)), OrTrigger)


def test_only_one_day_field_restricted_means_that_one() -> None:
    assert all(t.day == 13 for t in cron_times("0 0 13 * *"))
    assert all(t.weekday() == FRI for t in cron_times("0 0 * * 5"))


def test_a_restricted_day_field_that_allows_every_day_fires_daily() -> None:
    times = cron_times("0 0 1 * 0-6", count=5)
    assert [t.day for t in times] == [2, 3, 4, 5, 6]


def test_either_day_trigger_survives_pickling_with_a_stable_state() -> None:
    spec = CronSpec("0 0 1,15 * 1-5", PARIS)
    trigger = to_aps_trigger(spec)
    assert trigger.__getstate__() == to_aps_trigger(spec).__getstate__()
    restored = pickle.loads(pickle.dumps(trigger))
    now = at("2026-12-01 12:00")
    assert restored.get_next_fire_time(None, now) == trigger.get_next_fire_time(None, now) == at("2026-12-02 00:00")


# --- fire times ---------------------------------------------------------------------------------


def test_next_fire_times_are_strictly_after() -> None:
    spec = CronSpec("0 9 * * *", PARIS)
    assert next_fire_times(spec, 2, after=at("2026-12-01 09:00")) == [at("2026-12-02 09:00"), at("2026-12-03 09:00")]
    assert next_fire_times(spec, 1, after=at("2026-12-01 08:59:59.5")) == [at("2026-12-01 09:00")]
    assert next_fire_times(spec, 0, after=at("2026-12-01 09:00")) == []


def test_next_fire_times_are_in_the_specs_zone() -> None:
    times = next_fire_times(CronSpec("0 9 * * *", PARIS), 1, after=datetime(2026, 12, 1, tzinfo=UTC))
    assert times[0].tzinfo == ZoneInfo(PARIS)


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


def test_previews_are_fast() -> None:
    expressions = ["*/15 9-17 * * mon-fri", "0 0 13 * 5", "0 0 29 2 *", "59 23 31 12 *", "0 12 1,15 * 1-5"]
    after = at("2026-12-01 00:00")
    for expression in expressions:
        spec = CronSpec(expression, PARIS)
        next_fire_times(spec, 10, after=after)  # parse cache warm, as in the editor
        best = min(_timed(lambda: next_fire_times(spec, 10, after=after)) for _ in range(5))
        assert best < 0.010, (expression, best)


def _timed(work: Callable[[], object]) -> float:
    began = clock.perf_counter()
    work()
    return clock.perf_counter() - began


def test_fire_times_between_counts_cheaply() -> None:
    every_minute = CronSpec("* * * * *", "UTC")
    start, end = at("2026-10-01 00:00", "UTC"), at("2026-10-31 00:00", "UTC")
    began = clock.perf_counter()
    times, more = fire_times_between(every_minute, start, end, 5)
    assert clock.perf_counter() - began < 0.05
    assert times == [start + timedelta(minutes=i) for i in range(1, 6)] and more


def test_fire_times_between_bounds() -> None:
    daily = CronSpec("0 9 * * *", PARIS)
    times, more = fire_times_between(daily, at("2026-12-01 09:00"), at("2026-12-03 09:00"), 10)
    assert times == [at("2026-12-02 09:00"), at("2026-12-03 09:00")] and not more
    times, more = fire_times_between(daily, at("2026-12-01 09:00"), at("2026-12-03 09:00"), 2)
    assert len(times) == 2 and not more
    times, more = fire_times_between(daily, at("2026-12-01 09:00"), at("2026-12-03 09:00"), 1)
    assert times == [at("2026-12-02 09:00")] and more


# --- DST (NOTES 14, 30) -----------------------------------------------------------------------


def _walls(times: list[datetime]) -> list[str]:
    return [f"{t:%m-%d %H:%M%z}" for t in times]


def test_cron_in_the_spring_gap_runs_an_hour_later() -> None:
    times = cron_times("30 2 * * *", count=3, after="2026-03-28 00:00")
    assert _walls(times) == ["03-28 02:30+0100", "03-29 03:30+0200", "03-30 02:30+0200"]


def test_cron_in_the_repeated_autumn_hour_runs_twice() -> None:
    times = cron_times("30 2 * * *", count=4, after="2026-10-24 00:00")
    assert _walls(times) == ["10-24 02:30+0200", "10-25 02:30+0200", "10-25 02:30+0100", "10-26 02:30+0100"]
    assert times[2].timestamp() - times[1].timestamp() == 3600


def test_a_gap_time_and_the_next_hour_fire_once_not_twice_at_one_instant() -> None:
    spec = CronSpec("0 2,3 * * *", PARIS)
    assert _walls(next_fire_times(spec, 2, after=at("2026-03-29 00:00"))) == ["03-29 03:00+0200", "03-30 02:00+0200"]
    # walked the way the scheduler collects missed runs: (previous, now)
    trigger, runs = to_aps_trigger(spec), []
    fire = trigger.get_next_fire_time(None, at("2026-03-29 00:00"))
    while fire <= at("2026-03-29 05:00"):
        runs.append(fire)
        fire = trigger.get_next_fire_time(fire, at("2026-03-29 05:00"))
    assert _walls(runs) == ["03-29 03:00+0200"]
    # APScheduler's own CronTrigger answers 02:00+01:00 and then 03:00+02:00: one instant, twice
    plain = CronTrigger(minute="0", hour="2,3", timezone=ZoneInfo(PARIS))
    first = plain.get_next_fire_time(None, at("2026-03-29 00:00"))
    assert first.timestamp() == plain.get_next_fire_time(first, first).timestamp()


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
    assert _walls(times) == ["03-28 02:30+0100", "03-30 02:30+0200", "03-31 02:30+0200"]


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


def test_dst_notes_for_a_cron_in_the_gap_and_the_repeat() -> None:
    notes = dst_notes(CronSpec("30 2 * * *", PARIS), after=at("2026-01-01 00:00"))
    assert notes == [
        "02:30 does not exist on Sun 29 Mar 2026 in Europe/Paris: that run happens at 03:30",
        "02:30 happens twice on Sun 25 Oct 2026 in Europe/Paris: the job runs twice, 1h apart",
    ]


def test_dst_notes_for_a_day_interval() -> None:
    spec = IntervalSpec(1, "days", PARIS, start=at("2026-01-01 02:30"))
    assert dst_notes(spec, after=at("2026-01-01 00:00")) == [
        "02:30 does not exist on Sun 29 Mar 2026 in Europe/Paris: that run is skipped",
        "02:30 happens twice on Sun 25 Oct 2026 in Europe/Paris: the job runs only the first time",
    ]


def test_dst_notes_group_many_times_and_say_what_happens_to_each() -> None:
    notes = dst_notes(CronSpec("*/15 2 * * *", PARIS), after=at("2026-01-01 00:00"))
    assert notes == [
        "02:00 does not exist on Sun 29 Mar 2026 in Europe/Paris: that run happens at 03:00",
        "02:15, 02:30 and 02:45 do not exist on Sun 29 Mar 2026 in Europe/Paris: those runs are skipped",
        "02:00, 02:15, 02:30 and 02:45 happen twice on Sun 25 Oct 2026 in Europe/Paris: "
        "the job runs twice at each, 1h apart",
    ]
    every_minute = dst_notes(CronSpec("* * * * *", PARIS), after=at("2026-01-01 00:00"))
    assert every_minute[0] == (
        "60 run times from 02:00 to 02:59 do not exist on Sun 29 Mar 2026 in Europe/Paris: those runs are skipped"
    )


def test_dst_notes_agree_with_the_fire_times() -> None:
    # the notes above say 03:30 and "twice"; the previews say the same
    gap = cron_times("30 2 * * *", count=1, after="2026-03-29 00:00")[0]
    assert f"{gap:%H:%M}" == "03:30"
    repeat = cron_times("30 2 * * *", count=2, after="2026-10-25 00:00")
    assert [t.day for t in repeat] == [25, 25]


@pytest.mark.parametrize(
    "spec",
    [
        CronSpec("0 12 * * *", PARIS),
        CronSpec("30 2 * * *", "UTC"),
        CronSpec("30 2 * * *", "Asia/Tokyo"),
        CronSpec("30 2 * * 1", PARIS),  # 29 Mar and 25 Oct 2026 are Sundays
        IntervalSpec(15, "minutes", PARIS, start=at("2026-01-01 02:30")),
        DateSpec(at("2026-03-29 03:30"), PARIS),
    ],
)
def test_no_dst_notes(spec: TriggerSpec) -> None:
    assert dst_notes(spec, after=at("2026-01-01 00:00")) == []


def test_dst_notes_other_zones() -> None:
    after = at("2026-01-01 00:00")
    assert dst_notes(CronSpec("30 1 * * *", "America/New_York"), after=after) == [
        "01:30 happens twice on Sun 1 Nov 2026 in America/New_York: the job runs twice, 1h apart"
    ]
    # Lord Howe moves its clocks by 30 minutes
    assert dst_notes(CronSpec("15 2 * * *", "Australia/Lord_Howe"), after=after) == [
        "02:15 does not exist on Sun 4 Oct 2026 in Australia/Lord_Howe: that run happens at 02:45"
    ]


def test_dst_notes_only_up_to_the_given_times() -> None:
    spec = CronSpec("30 2 * * *", PARIS)
    times = next_fire_times(spec, 10, after=at("2026-03-25 00:00"))
    assert len(dst_notes(spec, times, after=at("2026-03-25 00:00"))) == 1
    assert dst_notes(spec, [], after=at("2026-03-25 00:00")) == []


def test_dst_notes_are_cheap() -> None:
    for expression in ("* * * * *", "30 2 * * *", "0 0 13 * 5"):
        began = clock.perf_counter()
        dst_notes(CronSpec(expression, PARIS))
        assert clock.perf_counter() - began < 0.05, expression


# --- words --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("30 7 * * 1-5", "At 07:30, Monday through Friday"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("0 9 * * 0,7", "At 09:00, only on Sunday"),
        ("0 9 * * sat,sun", "At 09:00, Saturday through Sunday"),
        ("0 0 13 * 5", "At 00:00, on day 13 of the month, or on Friday"),
        ("0 0 1 * 1-5", "At 00:00, on day 1 of the month, or on Monday through Friday"),
        ("0 0 1 * 0-6", "At 00:00"),
        ("@weekly", "At 00:00, only on Sunday"),
        ("0 18 * * 5", "At 18:00, only on Friday"),
    ],
)
def test_describe_cron(expression: str, words: str) -> None:
    assert describe(CronSpec(expression, local_timezone_name())) == words


def test_describe_names_a_zone_that_is_not_local(other_zone: str) -> None:
    assert describe(CronSpec("30 7 * * 1-5", other_zone)) == f"At 07:30, Monday through Friday ({other_zone})"


def test_describe_intervals_and_dates() -> None:
    local = local_timezone_name()
    tz = ZoneInfo(local)
    now = datetime(2026, 11, 24, 12, 0, tzinfo=tz)
    past, future = datetime(2026, 11, 23, 9, 0, tzinfo=tz), datetime(2026, 12, 1, 9, 0, tzinfo=tz)
    cases = [
        (IntervalSpec(15, "minutes", local, start=past), "Every 15 minutes"),
        (IntervalSpec(1, "hours", local, start=past), "Every hour"),
        (IntervalSpec(1, "days", local, start=past), "Every day at 09:00"),
        (IntervalSpec(2, "weeks", local, start=past), "Every 2 weeks on Monday at 09:00"),
        (IntervalSpec(1, "days", local), "Every day"),
        (IntervalSpec(3, "days", local, start=future), "Every 3 days at 09:00 from Tue 1 Dec 2026"),
        (
            IntervalSpec(2, "hours", local, start=future, end=future + timedelta(days=30), jitter=30),
            "Every 2 hours from Tue 1 Dec 2026 at 09:00 until Thu 31 Dec 2026 at 09:00 (jitter up to 30s)",
        ),
        (DateSpec(datetime(2026, 11, 24, 9, 0, 30, tzinfo=tz), local), "Once, on Tue 24 Nov 2026 at 09:00:30"),
    ]
    for spec, words in cases:
        assert describe(spec, now=now) == words


def test_describe_a_date_in_another_zone(other_zone: str) -> None:
    spec = DateSpec(datetime(2026, 11, 24, 8, 0, tzinfo=UTC), other_zone)
    local_time = spec.run_at.astimezone(ZoneInfo(other_zone))
    assert describe(spec) == f"Once, on Tue 24 Nov 2026 at {local_time:%H:%M} ({other_zone})"


def test_describe_refuses_an_invalid_spec() -> None:
    with pytest.raises(TriggerError):
        describe(CronSpec("61 * * * *", PARIS))


# --- dicts --------------------------------------------------------------------------------------

ROUND_TRIP_SPECS = [
    CronSpec("30 7 * * 1-5", PARIS),
    IntervalSpec(15, "minutes", PARIS),
    IntervalSpec(
        2, "weeks", PARIS, start=at("2026-10-25 02:30:00.123456").replace(fold=1), end=at("2027-01-01 00:00"), jitter=30
    ),
    IntervalSpec(1, "days", "America/New_York", start=at("2026-11-01 01:30", "America/New_York").replace(fold=1)),
    DateSpec(at("2026-12-24 18:00"), PARIS),
]


@pytest.mark.parametrize("spec", ROUND_TRIP_SPECS)
def test_spec_dict_round_trip_is_exact(spec: TriggerSpec) -> None:
    data = spec_to_dict(spec)
    assert json.loads(json.dumps(data)) == data
    back = spec_from_dict(data)
    assert back == spec
    assert repr(back) == repr(spec)
    for key in ("start", "end", "run_at"):
        if getattr(back, key, None) is not None:
            assert getattr(back, key).timestamp() == getattr(spec, key).timestamp()


def test_spec_dict_shape() -> None:
    spec = IntervalSpec(1, "days", PARIS, start=at("2026-12-01 09:00"))
    assert spec_to_dict(spec) == {
        "type": "interval", "amount": 1, "unit": "days", "timezone": PARIS, "start": "2026-12-01T09:00:00+01:00",
    }  # fmt: skip


def test_spec_from_dict_takes_toml_datetimes_and_other_offsets() -> None:
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    spec = spec_from_dict({"type": "date", "run_at": moment, "timezone": PARIS})
    assert spec == DateSpec(at("2026-12-01 09:00"), PARIS)
    assert spec.run_at.tzinfo == ZoneInfo(PARIS)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"expression": "* * * * *"}, "type: is missing: use cron, interval or date"),
        ({"type": "weekly"}, "type: 'weekly' is not known: use cron, interval or date"),
        ({"type": "cron", "timezone": PARIS}, "expression: is missing"),
        ({"type": "cron", "expression": 5, "timezone": PARIS}, "expression: expected text, got 5"),
        ({"type": "cron", "expression": "* * * * *", "timezone": PARIS, "x": 1}, "x: unknown key for a cron trigger"),
        ({"type": "interval", "amount": "5", "unit": "days", "timezone": PARIS}, "amount: expected a whole number"),
        ({"type": "interval", "amount": True, "unit": "days", "timezone": PARIS}, "amount: expected a whole number"),
        ({"type": "date", "run_at": "2026-12-01T09:00", "timezone": PARIS}, "run_at: 2026-12-01 09:00 has no time zone"),
        ({"type": "date", "run_at": "tomorrow", "timezone": PARIS}, "run_at: 'tomorrow' is not an ISO 8601 date"),
        ({"type": "date", "run_at": 3, "timezone": PARIS}, "run_at: expected a date and time, got 3"),
        ({"type": "date", "run_at": "2026-12-01T09:00+01:00", "timezone": "Mars"}, "timezone: 'Mars' is not a known"),
        ([1, 2], "expected a table with a type key, got list"),
    ],
)
def test_spec_from_dict_errors(data: object, message: str) -> None:
    with pytest.raises(TriggerError) as raised:
        spec_from_dict(data)  # type: ignore[arg-type]
    assert str(raised.value).startswith(message)


# --- command line -------------------------------------------------------------------------------

NOW = at("2026-11-24 09:15:42.5")


@pytest.mark.parametrize(
    ("every", "amount", "unit"),
    [
        ("90m", 90, "minutes"),
        ("2h", 2, "hours"),
        ("1d", 1, "days"),
        ("90s", 90, "seconds"),
        ("1h30m", 90, "minutes"),
        ("1.5h", 90, "minutes"),
        ("1.1h", 66, "minutes"),
        ("7d", 1, "weeks"),
        ("1w", 1, "weeks"),
        ("3600", 1, "hours"),
    ],
)
def test_cli_every(every: str, amount: int, unit: str) -> None:
    spec = parse_cli_trigger(None, every, None, PARIS, now=NOW)
    assert spec == IntervalSpec(amount, unit, PARIS, start=at("2026-11-24 09:15:42"))


def test_cli_at_and_cron() -> None:
    expected = DateSpec(at("2026-12-01 09:00"), PARIS)
    for text in ("2026-12-01 09:00", "2026-12-01T09:00", "2026-12-01T08:00Z", "2026-12-01 08:00+00:00"):
        spec = parse_cli_trigger(None, None, text, PARIS, now=NOW)
        assert spec == expected and spec.run_at.tzinfo == ZoneInfo(PARIS)  # type: ignore[union-attr]
    assert parse_cli_trigger("  30 7  * * 1-5 ", None, None, PARIS, now=NOW) == CronSpec("30 7 * * 1-5", PARIS)
    assert parse_cli_trigger("@daily", None, None, None, now=NOW) == CronSpec("@daily", local_timezone_name())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((None, None, None, PARIS), "give exactly one of --cron, --every or --at"),
        (("* * * * *", "5m", None, PARIS), "give exactly one of --cron, --every or --at (got --cron and --every)"),
        ((None, "5x", None, PARIS), "every: '5x' is not a duration: use a number with s, m, h, d or w, like 90s"),
        ((None, "0.5s", None, PARIS), "every: '0.5s' is not a whole number of seconds (at least 1s)"),
        ((None, "0s", None, PARIS), "every: '0s' is not a whole number of seconds"),
        ((None, None, "2026-11-01 09:00", PARIS), "run_at: 2026-11-01 09:00 is in the past"),
        ((None, None, "next week", PARIS), "at: 'next week' is not a date and time"),
        ((None, None, "2027-03-28 02:30", PARIS), "at: 2027-03-28 02:30 does not exist in Europe/Paris"),
        (("61 * * * *", None, None, PARIS), "minute: 61 is out of range 0-59"),
        (("* * * * *", None, None, "Mars/Base"), "timezone: 'Mars/Base' is not a known time zone"),
    ],
)
def test_cli_errors(args: tuple[str | None, ...], message: str) -> None:
    with pytest.raises(TriggerError) as raised:
        parse_cli_trigger(*args, now=NOW)
    assert str(raised.value).startswith(message)


def test_cli_at_in_a_repeated_hour_takes_the_first() -> None:
    spec = parse_cli_trigger(None, None, "2026-10-25 02:30", PARIS, now=at("2026-10-01 00:00"))
    assert spec.run_at.utcoffset() == timedelta(hours=2)  # type: ignore[union-attr]


def test_local_timezone_name_is_loadable() -> None:
    ZoneInfo(local_timezone_name())


# --- properties -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """One generated cron field: its text and the values it means (weekdays: 0 = Sunday)."""

    text: str
    values: frozenset[int]


FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")
BOUNDS = {"minute": (0, 59), "hour": (0, 23), "day of month": (1, 31), "month": (1, 12), "day of week": (0, 6)}
MONTH_WORDS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAY_WORDS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _word(name: str, value: int, draw: st.DrawFn) -> str:
    """A value as cron may write it: a number, or a name in any case."""
    if name == "month" and draw(st.booleans()):
        return _any_case(MONTH_WORDS[value - 1], draw)
    if name == "day of week" and draw(st.booleans()):
        return _any_case(DAY_WORDS[value], draw)
    return str(value)


def _any_case(word: str, draw: st.DrawFn) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in word)


@st.composite
def items(draw: st.DrawFn, name: str) -> Field:
    low, high = BOUNDS[name]
    kind = draw(st.sampled_from(["value", "range", "star-step", "range-step"]))
    if kind == "star-step":
        step = draw(st.integers(1, high - low))
        return Field(f"*/{step}", frozenset(range(low, high + 1, step)))
    first = draw(st.integers(low, high))
    if kind == "value":
        if name == "day of week" and first == 0 and draw(st.booleans()):
            return Field("7", frozenset({0}))
        return Field(_word(name, first, draw), frozenset({first}))
    # a weekday range may end at 7, Sunday, written "sun" only when that cannot mean 0
    last = draw(st.integers(first, 7 if name == "day of week" else high))
    step = draw(st.integers(1, high - low)) if kind == "range-step" else 1
    values = {value % 7 if name == "day of week" else value for value in range(first, last + 1, step)}
    if name == "day of week" and last == 7:
        last_text = _any_case("sun", draw) if first > 0 and draw(st.booleans()) else "7"
    else:
        last_text = _word(name, last, draw)
    text = f"{_word(name, first, draw)}-{last_text}" + (f"/{step}" if kind == "range-step" else "")
    return Field(text, frozenset(values))


@st.composite
def fields(draw: st.DrawFn, name: str) -> Field:
    if draw(st.integers(0, 3)) == 0:
        low, high = BOUNDS[name]
        return Field("*", frozenset(range(low, high + 1)))
    parts = draw(st.lists(items(name), min_size=1, max_size=3))
    return Field(",".join(p.text for p in parts), frozenset().union(*(p.values for p in parts)))


def matches(cron: list[Field], wall: datetime) -> bool:
    """An independent matcher: standard cron, day fields ORed when both are restricted."""
    minute, hour, dom, month, dow = cron
    if wall.second or wall.minute not in minute.values or wall.hour not in hour.values:
        return False
    if wall.month not in month.values:
        return False
    on_day, on_weekday = wall.day in dom.values, wall.isoweekday() % 7 in dow.values
    if dom.text != "*" and dow.text != "*":
        return on_day or on_weekday
    return on_day and on_weekday


LONGEST = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}
NO_DST_ZONES = ["UTC", "Asia/Tokyo", "Asia/Kolkata", "America/Phoenix"]


@settings(max_examples=250, deadline=None)
@given(
    cron=st.tuples(*(fields(name) for name in FIELD_NAMES)).map(list),
    tz=st.sampled_from(NO_DST_ZONES),
    after=st.datetimes(datetime(2025, 1, 1), datetime(2032, 1, 1)),
)
def test_any_valid_cron_fires_only_when_it_matches(cron: list[Field], tz: str, after: datetime) -> None:
    expression = " ".join(f.text for f in cron)
    dom, month = cron[2], cron[3]
    if dom.text != "*" and min(dom.values) > max(LONGEST[m] for m in month.values):
        with pytest.raises(TriggerError, match="^day of month: "):
            validate(CronSpec(expression, tz))
        return
    spec = CronSpec(expression, tz)
    validate(spec)
    assert not describe(spec).startswith("Cron ")  # cron-descriptor understood it
    zone = ZoneInfo(tz)
    start = after.replace(tzinfo=zone)
    times = next_fire_times(spec, 10, after=start)
    assert len(times) == 10
    assert all(matches(cron, t.replace(tzinfo=None)) for t in times), (expression, times)
    assert all(a < b for a, b in zip([start, *times], times))
    # the first one is the first match: scan minute by minute (up to two days)
    wall = (start + timedelta(minutes=1)).replace(tzinfo=None, second=0, microsecond=0)
    for _ in range(2 * 1440):
        if matches(cron, wall):
            assert times[0] == wall.replace(tzinfo=zone), expression
            break
        wall += timedelta(minutes=1)
    else:
        assert times[0] >= wall.replace(tzinfo=zone)  # no match among the minutes scanned


@st.composite
def invalid_items(draw: st.DrawFn, name: str) -> str:
    low, high = BOUNDS[name]
    written_high = 7 if name == "day of week" else high
    names = set(MONTH_WORDS if name == "month" else DAY_WORDS if name == "day of week" else [])
    too_big = st.integers(written_high + 1, 10**30)  # thousands of digits would still be an error
    out_of_range = draw(too_big | st.integers(0, low - 1) if low else too_big)
    word = draw(st.text(string.ascii_letters, min_size=1, max_size=6).filter(lambda w: w.lower() not in names))
    cron_chars = string.ascii_letters + string.digits + "*/-"
    junk = draw(  # one word with a character cron never uses
        st.text(min_size=1, max_size=8).filter(
            lambda s: s.split() == [s] and "," not in s and any(c not in cron_chars for c in s)
        )
    )
    return draw(
        st.sampled_from(
            [
                str(out_of_range),
                f"{low}-{out_of_range}",
                f"*/{out_of_range if out_of_range > high else 0}",
                f"*/{draw(st.integers(high - low + 1, 999))}",
                word,
                f"{word}-{low}",
                junk,
                f"{high}-{low}" if high > low else "",
                f"{low},",
                f",{low}",
                f"{low}-",
                f"{low}/",
                f"{low}-{low}-{low}",
                "**",
            ]
        )
    )


@settings(max_examples=300, deadline=None)
@given(data=st.data(), position=st.integers(0, 4))
def test_an_invalid_field_always_names_itself(data: st.DataObject, position: int) -> None:
    name = FIELD_NAMES[position]
    bad = data.draw(invalid_items(name))
    if data.draw(st.booleans()):
        low = BOUNDS[name][0]
        bad = f"{low},{bad}" if data.draw(st.booleans()) else f"{bad},{low}"
    parts = ["*"] * 5
    parts[position] = bad
    with pytest.raises(TriggerError) as raised:
        validate(CronSpec(" ".join(parts), "UTC"))
    assert raised.value.field == name
    assert str(raised.value).startswith(f"{name}: ")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_is_a_trigger_error_or_valid(expression: str) -> None:
    try:
        validate(CronSpec(expression, "UTC"))
    except TriggerError as exc:
        assert exc.field in FIELD_NAMES + ("expression",)


def _missing(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether this wall-clock time falls in a gap (it comes back changed through UTC)."""
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall


DST_CHANGES = [  # (zone, local day of a change in 2026)
    ("Europe/Paris", "2026-03-29"),
    ("Europe/Paris", "2026-10-25"),
    ("America/New_York", "2026-03-08"),
    ("America/New_York", "2026-11-01"),
    ("Australia/Lord_Howe", "2026-04-05"),
    ("Australia/Lord_Howe", "2026-10-04"),
]


@settings(max_examples=150, deadline=None)
@given(
    cron=st.tuples(*(fields(name) for name in FIELD_NAMES)).map(list),
    change=st.sampled_from(DST_CHANGES),
    hours_before=st.integers(0, 30),
)
def test_any_cron_across_a_dst_change(cron: list[Field], change: tuple[str, str], hours_before: int) -> None:
    dom, month = cron[2], cron[3]
    assume(dom.text == "*" or min(dom.values) <= max(LONGEST[m] for m in month.values))
    tz, day = change
    zone = ZoneInfo(tz)
    start = at(f"{day} 00:00", tz) - timedelta(hours=hours_before)
    times = next_fire_times(CronSpec(" ".join(f.text for f in cron), tz), 10, after=start)
    stamps = [t.timestamp() for t in [start, *times]]
    assert stamps == sorted(set(stamps))  # strictly later each time, as real instants
    for moment in times:
        wall = moment.replace(tzinfo=None)
        # a time in a gap runs at the same instant, shown 30 or 60 minutes later
        shifted = [wall - timedelta(minutes=m) for m in (30, 60)]
        assert matches(cron, wall) or any(_missing(w, zone) and matches(cron, w) for w in shifted), moment
