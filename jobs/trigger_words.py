"""Trigger specs in words: "At 07:30, Monday through Friday", "Every 2 weeks on Monday at 09:00".

Cron words come from cron-descriptor, which is slow (its constructor re-reads and parses its
gettext catalogue: ~0.4 ms a call, 9.6 s of a 10,000-job `list` in issue 10). Here the
catalogue is loaded once and the words are cached per expression, so a list of many jobs pays
for each distinct expression once per process.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from cron_descriptor import DescriptionTypeEnum, ExpressionDescriptor, Options
from cron_descriptor.ExpressionParser import ExpressionParser
from cron_descriptor.GetText import GetText

from jobs.cron import DAY_OF_MONTH, RULES, CronExpression, monday_first, parse_cron, runs_text, value_runs, values_text
from jobs.durations import format_duration
from jobs.interval_rules import keeps_wall_clock
from jobs.after_trigger import after_words
from jobs.model import AfterSpec, CronSpec, IntervalSpec, TriggerSpec
from jobs.trigger_build import check
from jobs.wall_time import WEEKDAY_NAMES, clock, day_words, local_timezone_name, long_when

_OPTIONS = Options(locale_code="en_US", use_24hour_time_format=True)


def describe(spec: TriggerSpec, *, now: datetime | None = None, names: Mapping[str, str] | None = None) -> str:
    """Words for `spec`, with its zone when that is not the local one.

    An interval's start is mentioned only while it is after `now` (default now): before
    that it is just when the job was saved. `names` (job id -> name) names the jobs an
    after-trigger waits for.
    """
    in_zone = check(spec)
    if isinstance(spec, AfterSpec):
        return after_words(spec, names)
    if isinstance(spec, CronSpec):
        text = cron_words(spec.expression)
    elif isinstance(spec, IntervalSpec):
        text = _describe_interval(spec, in_zone, now or datetime.now(timezone.utc))
    else:
        text = f"Once, on {long_when(spec.run_at.astimezone(in_zone))}"
    return text if spec.timezone == local_timezone_name() else f"{text} ({spec.timezone})"


@lru_cache(maxsize=16384)
def cron_words(expression: str) -> str:
    """A valid expression in words (no zone); cached per expression.

    A job at a fixed minute of a fixed hour ("30 7 * * 1-5") is said "At 07:30" followed by
    words that depend on the day fields alone, so those are made once per set of day fields:
    10,000 daily jobs at ~1,400 distinct times cost cron-descriptor ~60 us each (issue 10).
    tests/jobs/test_trigger_words.py compares both ways for every minute of the day."""
    minute, hour, *days = parse_cron(expression).fields
    if minute.isascii() and minute.isdigit() and hour.isascii() and hour.isdigit():
        at_midnight = _words(" ".join(("0", "0", *days)))
        if at_midnight.startswith(_MIDNIGHT):
            return f"At {int(hour):02d}:{int(minute):02d}{at_midnight[len(_MIDNIGHT):]}"
    return _words(expression)


_MIDNIGHT = "At 00:00"


@lru_cache(maxsize=1024)
def _words(expression: str) -> str:
    cron = parse_cron(expression)
    minute, hour, day, month, _ = cron.fields
    values = (cron.minutes, cron.hours, cron.days, cron.months)
    canonical = [values_text(allowed, rule) for allowed, rule in zip(values, RULES)]
    # As written reads best ("Every 15 minutes"); cron-descriptor fails on a few forms (0,*/2)
    for fields in ([minute, hour, day, month], canonical):
        try:
            return _descriptor_words(cron, *fields)
        except Exception:  # cron-descriptor's own parser; the words are a nicety, never an error
            continue
    return f"Cron {' '.join(cron.fields)}"


class _Descriptor(ExpressionDescriptor):  # type: ignore[misc]
    """`ExpressionDescriptor` sharing one loaded catalogue (the stock constructor loads it on
    every call). tests/jobs/test_trigger_words.py checks its words against the stock class."""

    _catalogue: GetText | None = None

    def __init__(self, expression: str, options: Options) -> None:  # noqa: super() not called on purpose
        if _Descriptor._catalogue is None:
            _Descriptor._catalogue = GetText(options.locale_code, options.locale_location)
        self._expression = expression
        self._options = options
        self.get_text = _Descriptor._catalogue
        self._expression_parts = ExpressionParser(expression, options).parse()


def _descriptor_words(cron: CronExpression, minute: str, hour: str, day: str, month: str) -> str:
    # Weekdays rewritten from the values: cron-descriptor says "Sunday and Sunday" for 0,7
    weekday = "*"
    if len(cron.weekdays) < 7:
        weekday = runs_text(value_runs(monday_first(cron.weekdays)), lambda day: day + 1)  # 7 = Sunday
    every_day = values_text(cron.days, DAY_OF_MONTH) == "*"
    if cron.either_day and (every_day or weekday == "*"):
        day = weekday = "*"  # either side allows every day
    elif not cron.either_day and every_day:
        day = "*"  # "*/1" or "1-31" ANDed: only the weekdays matter
    descriptor = _Descriptor(" ".join((minute, hour, day, month, weekday)), _OPTIONS)
    text: str = descriptor.get_description()
    if day != "*" and weekday != "*":
        weekday_words = descriptor.get_description(DescriptionTypeEnum.DAYOFWEEK)
        text = _say_or(text, weekday_words) if cron.either_day else _say_and(text, weekday_words)
    return text


def _weekdays_only(weekday_words: str) -> str:
    days = weekday_words.removeprefix(", ").removeprefix("or ").removeprefix("only ")
    return days if days.startswith("on ") else f"on {days}"


def _say_or(text: str, weekday_words: str) -> str:
    """cron-descriptor says "or" only for some weekday forms; say it for all of them."""
    if weekday_words.startswith(", or "):
        return text
    return text.replace(weekday_words, f", or {_weekdays_only(weekday_words)}", 1)


def _say_and(text: str, weekday_words: str) -> str:
    """A day field starting with `*` makes cron AND the two fields; cron-descriptor says "or"."""
    return text.replace(weekday_words, f", but only {_weekdays_only(weekday_words)}", 1)


def _describe_interval(spec: IntervalSpec, in_zone: ZoneInfo, now: datetime) -> str:
    unit = spec.unit[:-1]
    words = [f"Every {unit}" if spec.amount == 1 else f"Every {spec.amount} {spec.unit}"]
    start = spec.start.astimezone(in_zone) if spec.start else None
    if start is not None and keeps_wall_clock(spec):
        if spec.unit == "weeks":
            words.append(f"on {WEEKDAY_NAMES[start.weekday()]}")
        words.append(f"at {clock(start)}")
    if start is not None and start > now:
        words.append(f"from {day_words(start)}" if keeps_wall_clock(spec) else f"from {long_when(start)}")
    if spec.end is not None:
        words.append(f"until {long_when(spec.end.astimezone(in_zone))}")
    if spec.jitter:
        words.append(f"(jitter up to {format_duration(spec.jitter)})")
    return " ".join(words)
