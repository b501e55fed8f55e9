"""Trigger specs to and from plain dicts (database JSON, TOML) and from command-line options."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from jobs.model import CronSpec, DateSpec, IntervalSpec, TriggerSpec
from jobs.triggers import TriggerError, local_timezone_name, parse_cli_trigger, spec_from_dict, spec_to_dict
from tests.jobs.cron_cases import PARIS, UTC, at

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
        ({"expression": "* * * * *"}, "type: is missing: use cron, interval, date or after"),
        ({"type": "weekly"}, "type: 'weekly' is not known: use cron, interval, date or after"),
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




def test_cli_cron_names_every_bad_field() -> None:
    with pytest.raises(TriggerError) as raised:
        parse_cli_trigger("61 25 * * 8", None, None, PARIS, now=NOW)
    assert [field for field, _ in raised.value.problems] == ["minute", "hour", "day of week"]
