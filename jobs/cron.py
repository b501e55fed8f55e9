"""Standard 5-field crontab expressions parsed into value sets, with every problem named at once.

Semantics are those of Vixie cron and cronie, which most users' crontabs run on:
- 0 and 7 are Sunday, names are case-insensitive, `@daily`-style macros.
- The day rule: a day fires when it matches day-of-month AND day-of-week, except when both
  fields are restricted, then either one is enough. "Restricted" is decided by the field's
  first character, not by its values: a field starting with `*` (`*`, `*/2`) counts as
  unrestricted (cronie's entry.c sets DOM_STAR/DOW_STAR on `ch == '*'`), so `0 9 */2 * 1`
  fires on odd days that are Mondays while `0 9 1-31/2 * 1` fires on odd days or Mondays.
- A job whose minute and hour fields both start with something other than `*` is a
  "fixed-time" job; the others are "wildcard" jobs. cronie treats them differently across
  DST changes (see jobs.cron_trigger).

`parse_cron` reports every bad field in one `TriggerError` (`61 25 * * 8` names minute, hour
and day of week), so the editor and the command line can show them all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Callable, Mapping, Sequence

Problem = tuple[str | None, str]  # (field or None, message)


class TriggerError(ValueError):
    """A trigger spec is invalid.

    `field` and `message` describe the first problem ("minute", "61 is out of range 0-59");
    `problems` lists every problem found, first one included, as (field, message) pairs.
    `str()` is "field: message", problems joined with "; ".
    """

    def __init__(self, field: str | None, message: str, *, more: Sequence[Problem] = ()) -> None:
        self.problems: tuple[Problem, ...] = ((field, message), *more)
        super().__init__("; ".join(problem_text(*problem) for problem in self.problems))
        self.field = field
        self.message = message

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> TriggerError:
        """One error for several problems (at least one)."""
        (field, message), *more = problems
        return cls(field, message, more=more)


def problem_text(field: str | None, message: str) -> str:
    return f"{field}: {message}" if field else message


MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def join_words(words: Sequence[str], last: str = "and") -> str:
    """"a, b and c"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


@dataclass(frozen=True)
class FieldRule:
    name: str
    low: int
    high: int  # highest value that may be written (7 for Sunday)
    names: Mapping[str, int]
    kind: str  # what a word that is not a name fails to be
    star_high: int  # highest value `*` covers


MINUTE = FieldRule("minute", 0, 59, {}, "a number", 59)
HOUR = FieldRule("hour", 0, 23, {}, "a number", 23)
DAY_OF_MONTH = FieldRule("day of month", 1, 31, {}, "a number", 31)
MONTH = FieldRule("month", 1, 12, {name[:3].lower(): i for i, name in enumerate(MONTH_NAMES, 1)}, "a month", 12)
SUNDAY_FIRST = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
DAY_OF_WEEK = FieldRule("day of week", 0, 7, {name: i for i, name in enumerate(SUNDAY_FIRST)}, "a weekday", 6)
RULES = (MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK)

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
LONGEST_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class CronExpression:
    """A parsed expression: the fields as written (lower case), the values they allow, and the
    two flags cron takes from the fields' first characters (see the module doc)."""

    fields: tuple[str, ...]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    either_day: bool  # both day fields restricted (neither starts with `*`): a day matching either fires
    fixed_time: bool  # neither minute nor hour starts with `*`: cron's "fixed-time" job

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        on_day, on_weekday = day.day in self.days, day.isoweekday() % 7 in self.weekdays
        return (on_day or on_weekday) if self.either_day else (on_day and on_weekday)

    def matches(self, wall: datetime) -> bool:
        """Whether cron would fire at this wall-clock time (ignoring DST changes)."""
        if wall.second or wall.microsecond or wall.minute not in self.minutes or wall.hour not in self.hours:
            return False
        return self.day_matches(wall.date())


@lru_cache(maxsize=4096)
def parse_cron(expression: str) -> CronExpression:
    """The parsed expression; raises TriggerError naming every bad field."""
    text = expression.strip().lower()
    if text.startswith("@") and len(text.split()) == 1:  # a macro is one word; "@ * * * *" has a bad minute
        if text not in _MACROS:
            known = join_words(list(_MACROS), "or")
            raise TriggerError("expression", f"{expression.strip()!r} is not supported: use {known}")
        text = _MACROS[text]
    fields = tuple(text.split())
    if len(fields) != 5:
        raise TriggerError(
            "expression",
            f"expected 5 fields (minute hour day-of-month month day-of-week), got {len(fields)}",
        )
    values: list[frozenset[int]] = []
    problems: list[Problem] = []
    for position, (field, rule) in enumerate(zip(fields, RULES)):
        try:
            parsed = _FIELDS.get((field, position))
            if parsed is None:
                parsed = _FIELDS[(field, position)] = _shared(_parse_field(field, rule))
            values.append(parsed)
        except TriggerError as exc:
            problems.extend(exc.problems)
            values.append(frozenset())
    if problems:
        raise TriggerError.of(problems)
    either_day = not fields[2].startswith("*") and not fields[4].startswith("*")
    fixed_time = not fields[0].startswith("*") and not fields[1].startswith("*")
    minutes, hours, days, months, weekdays = values
    cron = CronExpression(fields, minutes, hours, days, months, weekdays, either_day, fixed_time)
    _check_days_exist(cron)
    return cron


_SETS: dict[frozenset[int], frozenset[int]] = {}
# Each valid field's values by (text, position): 10,000 jobs' ~1,400 distinct expressions hold a
# few dozen distinct fields ("*", "0".."59"); parsing each field once halves parse_cron's cost.
_FIELDS: dict[tuple[str, int], frozenset[int]] = {}


def _shared(values: frozenset[int]) -> frozenset[int]:
    """One object per distinct set of values: 10,000 jobs' expressions (each parsed once,
    `parse_cron`'s cache) made ~11,500 sets, ~4 MiB, of a few hundred distinct ones."""
    return _SETS.setdefault(values, values)


def _parse_field(text: str, rule: FieldRule) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        if not item:
            raise TriggerError(rule.name, f"{text!r} has an empty item in its list")
        values.update(_parse_item(item, rule))
    if rule is DAY_OF_WEEK:
        values = {value % 7 for value in values}  # 7 is Sunday too
    return frozenset(values)


def _parse_item(item: str, rule: FieldRule) -> range:
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
        if rule is DAY_OF_WEEK and last == 0 < first and not last_text.isdigit():
            last = 7  # "sat-sun": a Sunday closing a range is 7, as in the numeric 6-7
    else:  # "5/15" runs from 5 to the end of the field, as cron-descriptor words it
        last = max(first, rule.star_high) if step_text else first
    if last < first:
        raise TriggerError(
            rule.name, f"{first_text}-{last_text} is a backwards range: write it as two, like 22-23,0-2"
        )
    return range(first, last + 1, step)


def _value(token: str, rule: FieldRule) -> int:
    if token.isdigit():
        # int() of thousands of digits raises; no valid value has more than 2 significant ones
        value = int(token) if len(token.lstrip("0")) <= 2 else rule.high + 1
        if not rule.low <= value <= rule.high:
            raise TriggerError(rule.name, f"{token} is out of range {rule.low}-{rule.high}")
        return value
    if token in rule.names:
        return rule.names[token]
    raise TriggerError(rule.name, f"{token!r} is not {rule.kind}")


def _step(token: str, rule: FieldRule) -> int:
    largest = rule.star_high - rule.low
    if not token.isdigit():
        raise TriggerError(rule.name, f"step {token!r} is not a number")
    if len(token.lstrip("0")) > 2 or not 1 <= int(token) <= largest:
        raise TriggerError(rule.name, f"step {token} is out of range 1-{largest}")
    return int(token)


def _check_days_exist(cron: CronExpression) -> None:
    # A search for "31 2" would run to the year 9999, freezing the caller
    if cron.fields[2] != "*" and min(cron.days) > max(LONGEST_MONTH[m - 1] for m in cron.months):
        months = [MONTH_NAMES[m - 1] for m in sorted(cron.months)]
        raise TriggerError("day of month", f"{cron.fields[2]} never happens in {join_words(months, 'or')}")


# --- values as text (words, canonical forms) ----------------------------------------------------


def value_runs(values: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted values as (first, last) runs of consecutive numbers."""
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and runs[-1][1] == value - 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def runs_text(runs: list[tuple[int, int]], word: Callable[[int], object] = str) -> str:
    """"1-5,7" from [(1, 5), (7, 7)]."""
    return ",".join(f"{word(a)}" if a == b else f"{word(a)}-{word(b)}" for a, b in runs)


def values_text(values: frozenset[int], rule: FieldRule) -> str:
    """The values as a plain field: "*" when all, else runs and lists ("1-5,7")."""
    if len(values) == rule.star_high - rule.low + 1:
        return "*"
    return runs_text(value_runs(sorted(values)))


def monday_first(weekdays: frozenset[int]) -> list[int]:
    """Weekdays numbered from Monday (0) to Sunday (6), sorted: APScheduler's and cron-descriptor's order."""
    return sorted((day - 1) % 7 for day in weekdays)
