"""Cron across DST changes: fire times follow the zone's wall clock, gaps and repeats as cronie.

cronie's cron.c main loop: when clocks go forward, fixed-time jobs (minute and hour fields not
starting with `*`) of the missing minutes run at once, wildcard jobs only for the current
minute; when clocks go back, only wildcard jobs run during the repeated time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jobs.cron import parse_cron
from jobs.cron_trigger import WallClockCronTrigger, offset_changes
from jobs.model import CronSpec
from jobs.triggers import next_fire_times, to_aps_trigger
from tests.jobs.cron_cases import PARIS, UTC, Field, at, cron_times, crons, matches, never_happens, walls

BERLIN = "Europe/Berlin"


def from_utc(expression: str, after: str, count: int, tz: str = BERLIN) -> list[str]:
    return walls(next_fire_times(CronSpec(expression, tz), count, after=at(after, "UTC")))


# --- issue 9 item 4: the day after the spring change ------------------------------------------


def test_a_daily_job_after_midnight_runs_the_day_after_the_change() -> None:
    # APScheduler 3.11.3's CronTrigger adds 24 h to step a day and gave 29 Mar, then 31 Mar
    assert from_utc("30 0 * * *", "2026-03-28 12:00", 3) == ["03-29 00:30+0100", "03-30 00:30+0200", "03-31 00:30+0200"]
    plain = CronTrigger(minute=30, hour=0, timezone=ZoneInfo(BERLIN))
    first = plain.get_next_fire_time(None, at("2026-03-28 12:00", "UTC"))
    assert f"{plain.get_next_fire_time(first, first):%m-%d}" == "03-31"  # the upstream defect this avoids


@pytest.mark.parametrize(
    ("expression", "first"),
    [
        ("16 */5 * * 1", ["03-30 00:16+0200", "03-30 05:16+0200"]),
        ("28,41,54 */10 * 3,8,11 1-5", ["03-30 00:28+0200", "03-30 00:41+0200", "03-30 00:54+0200"]),
    ],
)
def test_runs_just_after_midnight_survive_the_change(expression: str, first: list[str]) -> None:
    assert from_utc(expression, "2026-03-28 12:00", len(first)) == first


# --- clocks go forward --------------------------------------------------------------------------


def test_a_fixed_time_in_the_gap_runs_once_when_clocks_go_forward() -> None:
    times = cron_times("30 2 * * *", count=3, after="2026-03-28 00:00")
    assert walls(times) == ["03-28 02:30+0100", "03-29 03:00+0200", "03-30 02:30+0200"]
    assert times[1] == at("2026-03-29 01:00", "UTC")  # the instant of the change


def test_several_fixed_times_in_the_gap_run_once_together() -> None:
    assert walls(cron_times("0,30 2 * * *", count=3, after="2026-03-29 00:00")) == [
        "03-29 03:00+0200", "03-30 02:00+0200", "03-30 02:30+0200",
    ]  # fmt: skip
    # a gap time and a real time at the same instant: one run, not two (nor 02:00 skipped)
    spec = CronSpec("0 2,3 * * *", PARIS)
    assert walls(next_fire_times(spec, 2, after=at("2026-03-29 00:00"))) == ["03-29 03:00+0200", "03-30 02:00+0200"]


def test_wildcard_jobs_skip_the_missing_minutes() -> None:
    assert walls(cron_times("*/15 2 * * *", count=2, after="2026-03-29 00:00")) == [
        "03-30 02:00+0200", "03-30 02:15+0200",
    ]  # fmt: skip
    every_30 = cron_times("*/30 * * * *", count=4, after="2026-03-29 01:00")
    assert walls(every_30) == ["03-29 01:30+0100", "03-29 03:00+0200", "03-29 03:30+0200", "03-29 04:00+0200"]


def test_the_scheduler_walking_missed_runs_sees_the_same_times() -> None:
    trigger, runs = to_aps_trigger(CronSpec("0 2,3 * * *", PARIS)), []
    end = at("2026-03-29 05:00")
    fire = trigger.get_next_fire_time(None, at("2026-03-29 00:00"))
    while fire <= end:
        runs.append(fire)
        fire = trigger.get_next_fire_time(fire, end)  # (previous, now), as Job._get_run_times asks
    assert walls(runs) == ["03-29 03:00+0200"]


def test_a_half_hour_change_and_a_change_at_midnight() -> None:
    # Lord Howe moves its clocks 30 minutes at 02:00; Santiago moves them at midnight
    assert from_utc("15 2 * * *", "2026-10-03 00:00", 2, "Australia/Lord_Howe") == [
        "10-04 02:30+1100", "10-05 02:15+1100",
    ]  # fmt: skip
    santiago = from_utc("30 0 * * *", "2026-09-04 12:00", 3, "America/Santiago")
    assert santiago == ["09-05 00:30-0400", "09-06 01:00-0300", "09-07 00:30-0300"]


# --- clocks go back -----------------------------------------------------------------------------


def test_a_fixed_time_in_the_repeated_hour_runs_once() -> None:
    # issue 9 item 13: cronie runs `30 2 * * *` once on the fall-back day
    times = cron_times("30 2 * * *", count=3, after="2026-10-24 00:00")
    assert walls(times) == ["10-24 02:30+0200", "10-25 02:30+0200", "10-26 02:30+0100"]
    assert walls(cron_times("0 1-3 * * *", count=4, after="2026-10-25 00:00")) == [
        "10-25 01:00+0200", "10-25 02:00+0200", "10-25 03:00+0100", "10-26 01:00+0100",
    ]  # fmt: skip


def test_wildcard_jobs_run_at_every_real_time_that_matches() -> None:
    times = cron_times("*/30 * * * *", count=5, after="2026-10-25 01:45")
    assert walls(times) == [
        "10-25 02:00+0200", "10-25 02:30+0200", "10-25 02:00+0100", "10-25 02:30+0100", "10-25 03:00+0100",
    ]  # fmt: skip
    hourly = cron_times("0 * * * *", count=3, after="2026-10-25 01:30")
    assert [t.timestamp() - hourly[0].timestamp() for t in hourly] == [0, 3600, 7200]


def test_the_second_pass_is_skipped_also_when_asked_from_inside_it() -> None:
    inside = at("2026-10-25 02:10").replace(fold=1)  # 02:10 CET, after the change
    assert walls(next_fire_times(CronSpec("30 2 * * *", PARIS), 1, after=inside)) == ["10-26 02:30+0100"]
    assert walls(next_fire_times(CronSpec("30 * * * *", PARIS), 1, after=inside)) == ["10-25 02:30+0100"]


# --- zones ----------------------------------------------------------------------------------------


def test_offset_changes_of_a_year() -> None:
    changes = offset_changes(ZoneInfo(PARIS), 2026)
    assert [(c.at, c.before, c.after) for c in changes] == [
        (at("2026-03-29 01:00", "UTC"), timedelta(hours=1), timedelta(hours=2)),
        (at("2026-10-25 01:00", "UTC"), timedelta(hours=2), timedelta(hours=1)),
    ]
    assert offset_changes(ZoneInfo("UTC"), 2026) == () == offset_changes(ZoneInfo("Asia/Tokyo"), 2026)


def test_a_rare_date_is_found_years_ahead() -> None:
    assert walls(cron_times("0 0 29 2 *", count=2, after="2026-12-01 00:00")) == ["02-29 00:00+0100"] * 2
    leap = cron_times("0 0 29 2 *", count=2, after="2026-12-01 00:00")
    assert [t.year for t in leap] == [2028, 2032]
    # day 1 or 30 (*/29) of February that is a Monday: a star-led day field ANDs
    rare = cron_times("0 0 */29 2 1", count=3, after="2026-01-01 00:00")
    assert [t.year for t in rare] == [2027, 2038, 2044] and all(t.day == 1 and t.weekday() == 0 for t in rare)


def test_the_trigger_never_answers_a_time_not_after_the_previous_one() -> None:
    trigger = WallClockCronTrigger(parse_cron("* * * * *"), ZoneInfo(PARIS))
    previous = at("2026-10-25 02:59").replace(fold=0)
    following = trigger.get_next_fire_time(previous, previous)
    assert following.timestamp() - previous.timestamp() == 60  # 02:00 CET, not 03:00


# --- any expression across a change ---------------------------------------------------------------


DST_CHANGES = [  # (zone, local day of a change in 2026)
    ("Europe/Paris", "2026-03-29"),
    ("Europe/Paris", "2026-10-25"),
    ("America/New_York", "2026-03-08"),
    ("America/New_York", "2026-11-01"),
    ("Australia/Lord_Howe", "2026-04-05"),
    ("Australia/Lord_Howe", "2026-10-04"),
    ("America/Santiago", "2026-09-06"),
    ("America/Santiago", "2026-04-04"),
]


def _missing(wall: datetime, zone: ZoneInfo) -> bool:
    """Whether this wall-clock time falls in a gap (it comes back changed through UTC)."""
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall


@settings(max_examples=150, deadline=None)
@given(cron=crons(), change=st.sampled_from(DST_CHANGES), hours_before=st.integers(0, 30))
def test_any_cron_across_a_dst_change(cron: list[Field], change: tuple[str, str], hours_before: int) -> None:
    assume(not never_happens(cron))
    tz, day = change
    zone = ZoneInfo(tz)
    start = at(f"{day} 00:00", tz) - timedelta(hours=hours_before)
    expression = " ".join(f.text for f in cron)
    times = next_fire_times(CronSpec(expression, tz), 10, after=start)
    stamps = [t.timestamp() for t in [start, *times]]
    assert stamps == sorted(set(stamps))  # strictly later each time, as real instants
    fixed = not cron[0].text.startswith("*") and not cron[1].text.startswith("*")
    for moment in times:
        wall = moment.replace(tzinfo=None)
        if matches(cron, wall):
            # a fixed-time job never runs at the second of two equal wall times
            assert not (fixed and moment.fold == 1 and moment.utcoffset() != (moment.replace(fold=0)).utcoffset())
            continue
        # otherwise a fixed-time job whose missing wall times run at the change: the minutes
        # just before this wall time (by up to the shift) do not exist and one of them matches
        earlier = [wall - timedelta(minutes=m) for m in range(1, 121)]
        assert fixed and any(_missing(w, zone) and matches(cron, w) for w in earlier), moment
