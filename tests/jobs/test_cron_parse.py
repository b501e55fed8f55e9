"""Cron expressions: standard fields and weekdays, the Vixie/cronie day rule, every problem named.

Fire times come from the trigger objects the scheduler runs (no mocks).
"""

from __future__ import annotations

import pickle
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.cron import TriggerError, parse_cron
from jobs.model import CronSpec
from jobs.triggers import WallClockCronTrigger, to_aps_trigger, validate
from tests.jobs.cron_cases import (
    BOUNDS, DAY_WORDS, FIELD_NAMES, FRI, MON, MONTH_WORDS, PARIS, SAT, SUN, THU, TUE, WED, at, cron_times,
)  # fmt: skip

# --- weekdays and fields ----------------------------------------------------------------------

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


def test_cron_jobs_get_the_wall_clock_trigger_with_a_stable_state() -> None:
    trigger = to_aps_trigger(CronSpec("30 7 * * 1-5", PARIS))
    assert isinstance(trigger, WallClockCronTrigger)
    assert str(trigger) == "cron[30 7 * * 1-5, Europe/Paris]"
    a = trigger.__getstate__()
    b = to_aps_trigger(CronSpec("30 7 * * MON-FRI", PARIS)).__getstate__()
    assert a == b  # the same schedule written differently


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

# --- every problem at once --------------------------------------------------------------------


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(TriggerError) as raised:
        validate(CronSpec("61 25 * * 8", "UTC"))
    error = raised.value
    assert error.problems == (
        ("minute", "61 is out of range 0-59"),
        ("hour", "25 is out of range 0-23"),
        ("day of week", "8 is out of range 0-7"),
    )
    # the first problem stays where callers of one problem look for it
    assert (error.field, error.message) == ("minute", "61 is out of range 0-59")
    assert str(error) == (
        "minute: 61 is out of range 0-59; hour: 25 is out of range 0-23; day of week: 8 is out of range 0-7"
    )


def test_a_bad_zone_is_named_with_the_bad_fields() -> None:
    with pytest.raises(TriggerError) as raised:
        validate(CronSpec("0 0 32 13 *", "Mars/Base"))
    assert [field for field, _ in raised.value.problems] == ["day of month", "month", "timezone"]


def test_one_problem_keeps_its_old_shape() -> None:
    error = TriggerError("hour", "25 is out of range 0-23")
    assert error.problems == (("hour", "25 is out of range 0-23"),)
    assert str(error) == "hour: 25 is out of range 0-23"
    assert str(TriggerError(None, "give exactly one of --cron, --every or --at")).startswith("give")
    assert TriggerError.of([("minute", "x"), (None, "y")]).problems == (("minute", "x"), (None, "y"))


# --- day of month and day of week: the Vixie/cronie rule ----------------------------------------


def test_both_day_fields_restricted_means_either() -> None:
    times = cron_times("0 0 13 * 5", count=40, after="2026-01-01 00:00")
    assert all(t.day == 13 or t.weekday() == FRI for t in times)
    assert any(t.day == 13 and t.weekday() != FRI for t in times)
    assert any(t.weekday() == FRI and t.day != 13 for t in times)


def test_a_day_field_starting_with_a_star_means_both() -> None:
    # cronie's entry.c: DOM_STAR is set when the field's first character is '*', and then
    # find_jobs() ANDs the day fields: odd days that are Mondays, not odd days or Mondays
    times = cron_times("0 9 */2 * 1", count=6, after="2026-01-01 00:00")
    assert all(t.day % 2 == 1 and t.weekday() == MON for t in times)
    assert [t.day for t in times[:3]] == [5, 19, 9]  # 5 Jan, 19 Jan, 9 Feb 2026
    # the same days written without the star: either rule again
    either = cron_times("0 9 1-31/2 * 1", count=20, after="2026-01-01 00:00")
    assert any(t.day % 2 == 0 for t in either) and any(t.weekday() != MON for t in either)
    weekdays = cron_times("0 9 1,15 * */2", count=10, after="2026-01-01 00:00")  # Sun, Tue, Thu, Sat
    assert all(t.day in (1, 15) and t.weekday() in (SUN, TUE, THU, SAT) for t in weekdays)


def test_only_one_day_field_restricted_means_that_one() -> None:
    assert all(t.day == 13 for t in cron_times("0 0 13 * *"))
    assert all(t.weekday() == FRI for t in cron_times("0 0 * * 5"))


def test_a_restricted_day_field_that_allows_every_day_fires_daily() -> None:
    times = cron_times("0 0 1 * 0-6", count=5)
    assert [t.day for t in times] == [2, 3, 4, 5, 6]


def test_the_flags_of_a_parsed_expression() -> None:
    assert parse_cron("0 0 13 * 5").either_day and not parse_cron("0 0 */2 * 5").either_day
    assert not parse_cron("0 0 13 * */1").either_day
    assert parse_cron("30 2 * * *").fixed_time and parse_cron("0-59 0-23 * * *").fixed_time
    assert not parse_cron("*/15 2 * * *").fixed_time and not parse_cron("0 * * * *").fixed_time


def test_a_cron_trigger_survives_pickling_with_a_stable_state() -> None:
    for expression in ("0 0 1,15 * 1-5", "0 9 */2 * 1", "*/10 1-3 * * *"):
        spec = CronSpec(expression, PARIS)
        trigger = to_aps_trigger(spec)
        assert trigger.__getstate__() == to_aps_trigger(spec).__getstate__()
        restored = pickle.loads(pickle.dumps(trigger))
        assert type(restored) is WallClockCronTrigger
        now = at("2026-12-01 12:00")
        for _ in range(20):
            now = trigger.get_next_fire_time(None, now)
            assert restored.get_next_fire_time(None, now) == now


# --- any input --------------------------------------------------------------------------------


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




@settings(max_examples=200, deadline=None)
@given(data=st.data(), positions=st.sets(st.integers(0, 4), min_size=2))
def test_several_invalid_fields_are_all_named_in_order(data: st.DataObject, positions: set[int]) -> None:
    parts = ["*"] * 5
    for position in positions:
        parts[position] = data.draw(invalid_items(FIELD_NAMES[position]))
    with pytest.raises(TriggerError) as raised:
        validate(CronSpec(" ".join(parts), "UTC"))
    assert [field for field, _ in raised.value.problems] == [FIELD_NAMES[p] for p in sorted(positions)]
    assert str(raised.value).count("; ") == len(positions) - 1 + sum(
        message.count("; ") for _, message in raised.value.problems
    )


def test_expressions_share_equal_field_sets():
    """10,000 jobs' expressions keep one set object per distinct field (~4 MiB less)."""
    from jobs.cron import parse_cron as parse

    first, second = parse("7 3 * * 1-5"), parse("9 3 * * mon-fri")
    assert first is not second
    assert first.hours is second.hours and first.weekdays is second.weekdays and first.months is second.months


def test_a_field_read_once_is_read_by_its_position():
    """parse_cron keeps each field's values by text and position: "7" is Sunday only as a weekday."""
    cron = parse_cron("7 7 7 7 7")
    assert (cron.minutes, cron.hours, cron.days, cron.months, cron.weekdays) == ({7}, {7}, {7}, {7}, {0})
    for _ in range(2):  # a bad field is said every time, not kept
        with pytest.raises(TriggerError, match="out of range"):
            parse_cron("7 77 * * *")


def test_an_at_sign_in_a_five_field_expression_is_a_bad_field_not_an_unknown_macro():
    """Found by the property test above: "@ * * * *" was refused as an unsupported macro."""
    with pytest.raises(TriggerError) as raised:
        validate(CronSpec("@ * * * *", "UTC"))
    assert raised.value.field == "minute"
    with pytest.raises(TriggerError) as raised:
        validate(CronSpec("@fortnightly", "UTC"))
    assert raised.value.field == "expression" and "is not supported" in str(raised.value)
