"""Shared by the trigger tests: times in a zone, previews, and Hypothesis strategies for cron
expressions with the values they mean, checked by an independent matcher written here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from jobs.model import CronSpec
from jobs.triggers import next_fire_times

PARIS = "Europe/Paris"
UTC = timezone.utc
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)  # datetime.weekday()


def at(text: str, tz: str = PARIS) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


def cron_times(expression: str, count: int = 10, after: str = "2026-12-01 00:00", tz: str = PARIS) -> list[datetime]:
    return next_fire_times(CronSpec(expression, tz), count, after=at(after, tz))


def walls(times: list[datetime]) -> list[str]:
    """"03-29 03:00+0200": the wall time and the offset, which a bare datetime hides."""
    return [f"{t:%m-%d %H:%M%z}" for t in times]


@dataclass(frozen=True)
class Field:
    """One generated cron field: its text and the values it means (weekdays: 0 = Sunday)."""

    text: str
    values: frozenset[int]


FIELD_NAMES = ("minute", "hour", "day of month", "month", "day of week")
BOUNDS = {"minute": (0, 59), "hour": (0, 23), "day of month": (1, 31), "month": (1, 12), "day of week": (0, 6)}
MONTH_WORDS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAY_WORDS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
LONGEST = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}


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


def crons() -> st.SearchStrategy[list[Field]]:
    return st.tuples(*(fields(name) for name in FIELD_NAMES)).map(list)


def day_ok(cron: list[Field], day: datetime) -> bool:
    """Vixie cron's day rule: fields ORed only when neither starts with `*`."""
    _, _, dom, month, dow = cron
    if day.month not in month.values:
        return False
    on_day, on_weekday = day.day in dom.values, day.isoweekday() % 7 in dow.values
    if not dom.text.startswith("*") and not dow.text.startswith("*"):
        return on_day or on_weekday
    return on_day and on_weekday


def matches(cron: list[Field], wall: datetime) -> bool:
    """An independent matcher: standard cron on a wall-clock time."""
    minute, hour = cron[0], cron[1]
    if wall.second or wall.minute not in minute.values or wall.hour not in hour.values:
        return False
    return day_ok(cron, wall)


def never_happens(cron: list[Field]) -> bool:
    """The day of month is in no allowed month (the parser refuses it)."""
    dom, month = cron[2], cron[3]
    return dom.text != "*" and min(dom.values) > max(LONGEST[m] for m in month.values)
