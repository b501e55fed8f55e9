"""Schedules in words: cron (with the Vixie/cronie day rule), intervals, one-off times, zones."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from cron_descriptor import ExpressionDescriptor

from jobs.model import CronSpec, DateSpec, IntervalSpec
from jobs.trigger_words import _OPTIONS, _Descriptor, _words, cron_words
from jobs.triggers import TriggerError, describe, local_timezone_name
from tests.jobs.cron_cases import PARIS, UTC


@pytest.fixture
def other_zone() -> str:
    """A zone that is not this machine's, so describe() names it."""
    return "Asia/Tokyo" if local_timezone_name() == PARIS else PARIS


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
        # a day field starting with `*` ANDs the two (cronie): say so, not cron-descriptor's "or"
        ("0 9 */2 * 1", "At 09:00, every 2 days, but only on Monday"),
        ("0 9 */2 * 1-5", "At 09:00, every 2 days, but only on Monday through Friday"),
        ("0 9 1,15 * */3", "At 09:00, on day 1 and 15 of the month, but only on Wednesday and Saturday through Sunday"),
        ("0 9 1-31/2 * 1", "At 09:00, every 2 days, between day 1 and 31 of the month, or on Monday"),
        ("0 9 */1 * 1", "At 09:00, only on Monday"),
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



@pytest.mark.parametrize(
    "expression",
    ["30 7 * * 1-5", "*/15 * * * *", "0 0 13 * 5", "5,35 */2 1-7 1,6 *", "0 9 L * *", "0 12 ? * 2#1", "0 9 1-5 * 7"],
)
def test_the_shared_catalogue_gives_the_stock_words(expression: str) -> None:
    # _Descriptor reuses one loaded gettext catalogue; its words must be the stock class's
    assert _Descriptor(expression, _OPTIONS).get_description() == ExpressionDescriptor(
        expression, _OPTIONS
    ).get_description()


def test_words_are_cached_per_expression() -> None:
    cron_words.cache_clear()
    for _ in range(3):
        describe(CronSpec("17 4 * * 2", "UTC"))
    assert cron_words.cache_info().misses == 1 and cron_words.cache_info().hits == 2


# Day fields of every form the words treat apart: any day, lists, ranges, steps, names, the
# ANDed and ORed day rules, Sunday as 0 and 7
DAY_FIELDS = ["* * *", "* * 1-5", "* * 0,7", "* * sat,sun", "13 * 5", "1 * 1-5", "1 * 0-6", "*/2 * 1", "*/2 * 1-5",
              "1,15 * */3", "1-31/2 * 1", "*/1 * 1", "1-5 * 7", "* 1,6 *", "1 jan-mar *",
              "1-7 */2 mon", "15 * *", "* 12 0", "*/5 * *"]  # fmt: skip


@pytest.mark.parametrize("days", DAY_FIELDS)
def test_words_at_a_fixed_time_are_those_of_the_whole_expression(days: str) -> None:
    # cron_words makes "At HH:MM" + the day fields' words once; cron-descriptor's own words
    # for the whole expression (jobs.trigger_words._words) must be the same at every minute
    for hour in range(24):
        for minute in range(60):
            expression = f"{minute} {hour} {days}"
            assert cron_words(expression) == _words(expression), expression
    assert cron_words(f"07 09 {days}") == _words(f"07 09 {days}")  # leading zeros
