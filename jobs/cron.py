"""Standard 5-field crontab expressions parsed into value sets, with precise errors.

Split from jobs.triggers, which turns the sets into APScheduler triggers, words and previews.
Standard semantics: 0 and 7 are Sunday, names are case-insensitive, `@daily`-style macros.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Callable, Mapping


class TriggerError(ValueError):
    """A trigger spec is invalid. `field` names the place ("minute", "timezone", "run_at")."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _join(words: list[str], last: str = "and") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


@dataclass(frozen=True)
class _FieldRule:
    name: str
    low: int
    high: int  # highest value that may be written (7 for Sunday)
    names: Mapping[str, int]
    kind: str  # what a word that is not a name fails to be
    star_high: int  # highest value `*` covers


_MINUTE = _FieldRule("minute", 0, 59, {}, "a number", 59)
_HOUR = _FieldRule("hour", 0, 23, {}, "a number", 23)
_DOM = _FieldRule("day of month", 1, 31, {}, "a number", 31)
_MONTH = _FieldRule(
    "month", 1, 12, {name[:3].lower(): i for i, name in enumerate(_MONTH_NAMES, 1)}, "a month", 12
)
_SUNDAY_FIRST = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DOW = _FieldRule("day of week", 0, 7, {name: i for i, name in enumerate(_SUNDAY_FIRST)}, "a weekday", 6)
_RULES = (_MINUTE, _HOUR, _DOM, _MONTH, _DOW)

_ITEM = re.compile(r"(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/([a-z0-9]+))?", re.ASCII)
_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class _Cron:
    """A parsed expression: the fields as written (lower case) and the values they allow."""

    fields: tuple[str, ...]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    @property
    def either_day(self) -> bool:
        """Both day fields restricted: standard cron fires on a day matching either."""
        return self.fields[2] != "*" and self.fields[4] != "*"

    def matches(self, wall: datetime) -> bool:
        """Whether cron would fire at this wall-clock time."""
        if wall.second or wall.microsecond or wall.minute not in self.minutes:
            return False
        if wall.hour not in self.hours or wall.month not in self.months:
            return False
        on_day, on_weekday = wall.day in self.days, wall.isoweekday() % 7 in self.weekdays
        return (on_day or on_weekday) if self.either_day else (on_day and on_weekday)


@lru_cache(maxsize=512)
def _parse_cron(expression: str) -> _Cron:
    text = expression.strip().lower()
    if text.startswith("@"):
        if text not in _MACROS:
            known = _join(list(_MACROS), "or")
            raise TriggerError("expression", f"{expression.strip()!r} is not supported: use {known}")
        text = _MACROS[text]
    fields = tuple(text.split())
    if len(fields) != 5:
        raise TriggerError(
            "expression",
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}",
        )
    cron = _Cron(fields, *(_parse_field(field, rule) for field, rule in zip(fields, _RULES)))
    _check_days_exist(cron)
    return cron


def _parse_field(text: str, rule: _FieldRule) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise TriggerError(rule.name, f"{text!r} has an empty item in its list")
        values.update(_parse_item(item, rule))
    if rule is _DOW:
        values = {value % 7 for value in values}  # 7 is Sunday too
    return frozenset(values)


def _parse_item(item: str, rule: _FieldRule) -> range:
    match = _ITEM.fullmatch(item)
    if match is None:
        raise TriggerError(
            rule.name,
            f"{item!r} is not a valid {rule.name}: write a value, a range like 1-5, "
            "a step like */15 or 1-30/5, or a list like 1,15",
        )
    star, first_text, last_text, step_text = match.groups()
    step = _step(step_text, rule) if step_text else 1
    if star:
        return range(rule.low, rule.star_high + 1, step)
    first = _value(first_text, rule)
    if last_text:
        last = _value(last_text, rule)
        if rule is _DOW and last == 0 < first and not last_text.isdigit():
            last = 7  # "sat-sun": a Sunday closing a range is 7, as in the numeric 6-7
    else:  # "5/15" runs from 5 to the end of the field, as cron-descriptor words it
        last = max(first, rule.star_high) if step_text else first
    if last < first:
        raise TriggerError(
            rule.name, f"{first_text}-{last_text} is a backwards range: write it as two, like 22-23,0-2"
        )
    return range(first, last + 1, step)


def _value(token: str, rule: _FieldRule) -> int:
    if token.isdigit():
        # int() of thousands of digits raises; no valid value has more than 2 significant ones
        value = int(token) if len(token.lstrip("0")) <= 2 else rule.high + 1
        if not rule.low <= value <= rule.high:
            raise TriggerError(rule.name, f"{token} is out of range {rule.low}-{rule.high}")
        return value
    if token in rule.names:
        return rule.names[token]
    raise TriggerError(rule.name, f"{token!r} is not {rule.kind}")


def _step(token: str, rule: _FieldRule) -> int:
    largest = rule.star_high - rule.low
    if not token.isdigit():
        raise TriggerError(rule.name, f"step {token!r} is not a number")
    if len(token.lstrip("0")) > 2 or not 1 <= int(token) <= largest:
        raise TriggerError(rule.name, f"step {token} is out of range 1-{largest}")
    return int(token)


def _check_days_exist(cron: _Cron) -> None:
    # APScheduler would search up to the year 9999 for "31 2", freezing the caller
    if cron.fields[2] != "*" and min(cron.days) > max(_LONGEST_MONTH[m - 1] for m in cron.months):
        months = [_MONTH_NAMES[m - 1] for m in sorted(cron.months)]
        raise TriggerError("day of month", f"{cron.fields[2]} never happens in {_join(months, 'or')}")


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """Sorted values as (first, last) runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and runs[-1][1] == value - 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _run_text(runs: list[tuple[int, int]], word: Callable[[int], object] = str) -> str:
    return ",".join(f"{word(a)}" if a == b else f"{word(a)}-{word(b)}" for a, b in runs)


def _aps_values(values: frozenset[int], rule: _FieldRule) -> str:
    if len(values) == rule.star_high - rule.low + 1:
        return "*"
    return _run_text(_runs(sorted(values)))


def _monday_first(weekdays: frozenset[int]) -> list[int]:
    """Weekdays as APScheduler numbers them: 0 = Monday ... 6 = Sunday."""
    return sorted((day - 1) % 7 for day in weekdays)


def _aps_weekdays(weekdays: frozenset[int]) -> str:
    if len(weekdays) == 7:
        return "*"
    # Names, never numbers: APScheduler's 0 is Monday (NOTES 13)
    return _run_text(_runs(_monday_first(weekdays)), lambda day: _SUNDAY_FIRST[(day + 1) % 7])
