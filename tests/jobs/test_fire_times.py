"""Previews of fire times: strictly after, in the spec's zone, bounded, and every cron fire a match.

Speed is measured in tests/bench/bench_upcoming.py, not asserted here.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.model import CronSpec
from jobs.triggers import TriggerError, describe, fire_times_between, next_fire_times, validate
from tests.jobs.cron_cases import PARIS, UTC, Field, at, crons, matches, never_happens


def test_next_fire_times_are_strictly_after() -> None:
    spec = CronSpec("0 9 * * *", PARIS)
    assert next_fire_times(spec, 2, after=at("2026-12-01 09:00")) == [at("2026-12-02 09:00"), at("2026-12-03 09:00")]
    assert next_fire_times(spec, 1, after=at("2026-12-01 08:59:59.5")) == [at("2026-12-01 09:00")]
    assert next_fire_times(spec, 0, after=at("2026-12-01 09:00")) == []


def test_next_fire_times_are_in_the_specs_zone() -> None:
    times = next_fire_times(CronSpec("0 9 * * *", PARIS), 1, after=datetime(2026, 12, 1, tzinfo=UTC))
    assert times[0].tzinfo == ZoneInfo(PARIS)


def test_fire_times_between_stops_at_the_limit() -> None:
    every_minute = CronSpec("* * * * *", "UTC")
    start, end = at("2026-10-01 00:00", "UTC"), at("2026-10-31 00:00", "UTC")
    times, more = fire_times_between(every_minute, start, end, 5)
    assert times == [start + timedelta(minutes=i) for i in range(1, 6)] and more


def test_fire_times_between_bounds() -> None:
    daily = CronSpec("0 9 * * *", PARIS)
    times, more = fire_times_between(daily, at("2026-12-01 09:00"), at("2026-12-03 09:00"), 10)
    assert times == [at("2026-12-02 09:00"), at("2026-12-03 09:00")] and not more
    times, more = fire_times_between(daily, at("2026-12-01 09:00"), at("2026-12-03 09:00"), 2)
    assert len(times) == 2 and not more
    times, more = fire_times_between(daily, at("2026-12-01 09:00"), at("2026-12-03 09:00"), 1)
    assert times == [at("2026-12-02 09:00")] and more



NO_DST_ZONES = ["UTC", "Asia/Tokyo", "Asia/Kolkata", "America/Phoenix"]


@settings(max_examples=250, deadline=None)
@given(cron=crons(), tz=st.sampled_from(NO_DST_ZONES), after=st.datetimes(datetime(2025, 1, 1), datetime(2032, 1, 1)))
def test_any_valid_cron_fires_only_when_it_matches(cron: list[Field], tz: str, after: datetime) -> None:
    expression = " ".join(f.text for f in cron)
    if never_happens(cron):
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

