"""Trigger specs (jobs.model) to APScheduler triggers, words, previews and DST warnings.

Cron expressions are standard crontab: 5 fields, 0 and 7 are Sunday, and when both day
fields are restricted a day matching either one fires. APScheduler 3.x counts weekdays from
Monday and ANDs the day fields (NOTES 13), so expressions are parsed here into value sets and
handed to `CronTrigger` as explicit values and weekday names (an `OrTrigger` for the day OR).
Day and week intervals use a `CalendarIntervalTrigger` subclass, which keeps the wall-clock
time across DST changes (NOTES 14). Previews ask the same trigger objects the scheduler uses,
so what the editor shows is what runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from collections.abc import Callable, Iterator, Mapping
from itertools import islice, takewhile
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from cron_descriptor import DescriptionTypeEnum, ExpressionDescriptor, Options

from jobs.cron import (  # noqa: F401  (TriggerError is part of this module's API)
    TriggerError,
    _MONTH_NAMES,
    _join,
    _Cron,
    _DOM,
    _HOUR,
    _MINUTE,
    _MONTH,
    _RULES,
    _aps_values,
    _aps_weekdays,
    _monday_first,
    _parse_cron,
    _run_text,
    _runs,
)
from jobs.durations import format_duration, parse_duration
from jobs.model import INTERVAL_UNITS, CronSpec, DateSpec, IntervalSpec, TriggerSpec

__all__ = [
    "GapSafeCronTrigger",
    "TriggerError",
    "WallClockIntervalTrigger",
    "describe",
    "dst_notes",
    "fire_times_between",
    "local_timezone_name",
    "next_fire_times",
    "parse_cli_trigger",
    "spec_from_dict",
    "spec_to_dict",
    "to_aps_trigger",
    "validate",
]


# --- time zones and wording of times --------------------------------------------------------

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
def local_timezone_name() -> str:
    """IANA name of this machine's zone, "UTC" when it cannot be told."""
    try:
        name = tzlocal.get_localzone_name()
        ZoneInfo(name)
    except Exception:  # tzlocal raises assorted errors on odd systems; UTC is a safe answer
        return "UTC"
    return name


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise TriggerError("timezone", f"{name!r} is not a known time zone") from None


def _clock(moment: datetime | time) -> str:
    """"09:00", with seconds only when there are some."""
    return f"{moment:%H:%M:%S}" if moment.second else f"{moment:%H:%M}"


def _day(day: date) -> str:
    """"Tue 24 Nov 2026", in English whatever the C locale says."""
    return f"{_WEEKDAY_NAMES[day.weekday()][:3]} {day.day} {_MONTH_NAMES[day.month - 1][:3]} {day.year}"


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d} {_clock(moment)}"


def _long_when(moment: datetime) -> str:
    return f"{_day(moment)} at {_clock(moment)}"


def _require_aware(moment: datetime, field: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TriggerError(field, f"{_when(moment)} has no time zone or UTC offset")


def _localize(naive: datetime, zone: ZoneInfo, field: str) -> datetime:
    """`naive` as a wall-clock time in `zone`; the first of two when it repeats."""
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != naive:
        raise TriggerError(field, f"{_when(naive)} does not exist in {zone.key} (clocks go forward)")
    return aware


class GapSafeCronTrigger(CronTrigger):  # type: ignore[misc]
    """`CronTrigger` whose answers are real, strictly later instants.

    On a spring-forward day 3.11.3 answers a wall time in the gap (02:30+01:00, really 03:30)
    and, for hours 2-3, then 03:00 — the same instant as its "02:00" — so the job ran twice
    at once. Here a time in the gap comes back as the wall time it is (03:30+02:00) and an
    answer not after the previous fire time is skipped.
    """

    __slots__ = ()

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if previous_fire_time is not None:
            while fire is not None and fire.timestamp() <= previous_fire_time.timestamp():
                fire = super().get_next_fire_time(fire, fire)
        return fire.astimezone(timezone.utc).astimezone(self.timezone) if fire is not None else None


def _cron_trigger(cron: _Cron, zone: ZoneInfo) -> BaseTrigger:
    common: dict[str, Any] = {
        "minute": _aps_values(cron.minutes, _MINUTE),
        "hour": _aps_values(cron.hours, _HOUR),
        "month": _aps_values(cron.months, _MONTH),
        "timezone": zone,
    }
    days, weekdays = _aps_values(cron.days, _DOM), _aps_weekdays(cron.weekdays)
    if cron.either_day:
        if days != "*" and weekdays != "*":
            # APScheduler ANDs day and day_of_week; standard cron fires on either
            return OrTrigger(
                [
                    GapSafeCronTrigger(day=days, day_of_week="*", **common),
                    GapSafeCronTrigger(day="*", day_of_week=weekdays, **common),
                ]
            )
        days = weekdays = "*"  # one side allows every day, so every day fires
    return GapSafeCronTrigger(day=days, day_of_week=weekdays, **common)


# --- intervals ------------------------------------------------------------------------------

_UNIT_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}
_LONGEST_INTERVAL = 100 * 366 * 86_400  # beyond that, date arithmetic near 9999 overflows


def _check_interval(spec: IntervalSpec) -> None:
    if spec.unit not in INTERVAL_UNITS:
        raise TriggerError("unit", f"{spec.unit!r} is not one of {_join(list(INTERVAL_UNITS), 'or')}")
    if isinstance(spec.amount, bool) or not isinstance(spec.amount, int):
        raise TriggerError("amount", f"{spec.amount!r} is not a whole number")
    if spec.amount < 1:
        raise TriggerError("amount", f"{spec.amount} must be at least 1")
    if spec.amount * _UNIT_SECONDS[spec.unit] > _LONGEST_INTERVAL:
        raise TriggerError("amount", f"{spec.amount} {spec.unit} is longer than 100 years")
    for field in ("start", "end"):
        moment = getattr(spec, field)
        if moment is not None:
            _require_aware(moment, field)
    if spec.start is not None and spec.end is not None and spec.end <= spec.start:
        zone = _zone(spec.timezone)
        start, end = _when(spec.start.astimezone(zone)), _when(spec.end.astimezone(zone))
        raise TriggerError("end", f"{end} is not after the start, {start}")
    if spec.jitter is not None and (isinstance(spec.jitter, bool) or not isinstance(spec.jitter, int)):
        raise TriggerError("jitter", f"{spec.jitter!r} is not a whole number of seconds")
    if spec.jitter is not None and spec.jitter < 0:
        raise TriggerError("jitter", f"{spec.jitter} must not be negative")


def _start(spec: IntervalSpec, zone: ZoneInfo) -> datetime:
    if spec.start is not None:
        return spec.start.astimezone(zone)
    return datetime.now(zone).replace(microsecond=0)


def _keeps_wall_clock(spec: TriggerSpec) -> bool:
    return isinstance(spec, IntervalSpec) and spec.unit in ("weeks", "days")


@dataclass(frozen=True)
class _WallClock:
    """A day/week interval as a calendar: every `period` days from `first` at `at`."""

    first: date
    at: time
    period: int
    last: date | None

    @classmethod
    def of(cls, spec: IntervalSpec, zone: ZoneInfo) -> _WallClock:
        start = _start(spec, zone)
        at = start.time().replace(microsecond=0)
        period = spec.amount * (7 if spec.unit == "weeks" else 1)
        if spec.end is None:
            return cls(start.date(), at, period, None)
        end = spec.end.astimezone(zone)
        # CalendarIntervalTrigger ends on a date: the last one whose run is not after `end`
        last = end.date() if end.time() >= at else end.date() - timedelta(days=1)
        return cls(start.date(), at, period, max(last, start.date()))

    def runs_on(self, day: date) -> bool:
        offset = (day - self.first).days
        return offset >= 0 and offset % self.period == 0 and (self.last is None or day <= self.last)

    def matches(self, wall: datetime) -> bool:
        return wall.time() == self.at and self.runs_on(wall.date())


class WallClockIntervalTrigger(CalendarIntervalTrigger):  # type: ignore[misc]
    """`CalendarIntervalTrigger` for day and week intervals whose first answer is not in the past.

    Without a previous fire time, 3.11.3 answers `start_date`'s run however long ago that was
    (its docstring promises the first one at or after `now`): adding a daily job started a
    month ago made 30 runs due at once. Here the walk starts one period before `now`'s date.
    """

    __slots__ = ()

    def get_next_fire_time(self, previous_fire_time: Any, now: datetime) -> datetime | None:
        if previous_fire_time is not None:  # the scheduler walking missed runs: unchanged
            return super().get_next_fire_time(previous_fire_time, now)  # type: ignore[no-any-return]
        fire: datetime | None = super().get_next_fire_time(self._date_before(now), now)
        while fire is not None and fire < now:
            fire = super().get_next_fire_time(fire, now)
        return fire

    def _date_before(self, now: datetime) -> date | None:
        """A run date about one period before `now`; None (= start_date) when there is none."""
        period = self.days + 7 * self.weeks
        periods = (now.astimezone(self.timezone).date() - self.start_date).days // period - 1
        return self.start_date + timedelta(days=periods * period) if periods >= 0 else None


def _interval_trigger(spec: IntervalSpec, zone: ZoneInfo, *, jitter: bool) -> BaseTrigger:
    seconds = spec.jitter if jitter else None
    if _keeps_wall_clock(spec):
        calendar = _WallClock.of(spec, zone)
        return WallClockIntervalTrigger(
            **{spec.unit: spec.amount},
            hour=calendar.at.hour,
            minute=calendar.at.minute,
            second=calendar.at.second,
            start_date=calendar.first,
            end_date=calendar.last,
            timezone=zone,
            jitter=seconds,
        )
    return IntervalTrigger(
        **{spec.unit: spec.amount},
        start_date=_start(spec, zone),
        end_date=spec.end.astimezone(zone) if spec.end else None,
        timezone=zone,
        jitter=seconds,
    )


# --- validation and building ----------------------------------------------------------------


def _check(spec: TriggerSpec) -> ZoneInfo:
    """Everything but "is it in the past"; returns the spec's zone."""
    if not isinstance(spec, (CronSpec, IntervalSpec, DateSpec)):
        raise TriggerError(None, f"expected a CronSpec, IntervalSpec or DateSpec, got {type(spec).__name__}")
    zone = _zone(spec.timezone)
    if isinstance(spec, CronSpec):
        _parse_cron(spec.expression)
    elif isinstance(spec, IntervalSpec):
        _check_interval(spec)
    else:
        _require_aware(spec.run_at, "run_at")
    return zone


def validate(spec: TriggerSpec, *, now: datetime | None = None) -> None:
    """Raise TriggerError for the first problem; a one-off time not after `now` is one."""
    zone = _check(spec)
    if isinstance(spec, DateSpec) and spec.run_at <= (now or datetime.now(timezone.utc)):
        raise TriggerError("run_at", f"{_when(spec.run_at.astimezone(zone))} is in the past")


def _build(spec: TriggerSpec, zone: ZoneInfo, *, jitter: bool) -> BaseTrigger:
    if isinstance(spec, CronSpec):
        return _cron_trigger(_parse_cron(spec.expression), zone)
    if isinstance(spec, IntervalSpec):
        return _interval_trigger(spec, zone, jitter=jitter)
    return DateTrigger(run_date=spec.run_at.astimezone(zone), timezone=zone)


def to_aps_trigger(spec: TriggerSpec) -> BaseTrigger:
    """The APScheduler trigger for `spec`; equal specs give equal `__getstate__()`.

    A one-off time in the past is accepted here (a stored job may be reconciled after it).
    """
    return _build(spec, _check(spec), jitter=True)


# --- fire times -----------------------------------------------------------------------------

_TICK = timedelta(microseconds=1)


def _fire_times(trigger: BaseTrigger, after: datetime) -> Iterator[datetime]:
    """Fire times strictly after `after`, asked the way the scheduler asks (previous, now)."""
    after = after.astimezone(timezone.utc)
    fire = trigger.get_next_fire_time(None, after + _TICK)
    while fire is not None:
        if fire > after:  # a DateTrigger answers its date even when that has passed
            yield fire
        fire = trigger.get_next_fire_time(fire, fire)


def _preview(spec: TriggerSpec, after: datetime | None) -> Iterator[datetime]:
    zone = _check(spec)
    return _fire_times(_build(spec, zone, jitter=False), after or datetime.now(timezone.utc))


def next_fire_times(spec: TriggerSpec, count: int = 10, *, after: datetime | None = None) -> list[datetime]:
    """The next `count` fire times strictly after `after` (default now), in the spec's zone.

    Jitter is left out. Two times of a repeated hour compare equal in Python while being an
    hour apart: compare `.timestamp()` values, not the datetimes.
    """
    return list(islice(_preview(spec, after), max(count, 0)))


def fire_times_between(
    spec: TriggerSpec, start: datetime, end: datetime, limit: int
) -> tuple[list[datetime], bool]:
    """Fire times in (start, end], at most `limit`, and whether there were more (NOTES 16)."""
    times = list(islice(takewhile(lambda moment: moment <= end, _preview(spec, start)), max(limit, 0) + 1))
    return times[:limit], len(times) > limit


# --- words ----------------------------------------------------------------------------------

_DESCRIBE_OPTIONS = Options(locale_code="en_US", use_24hour_time_format=True)


def describe(spec: TriggerSpec, *, now: datetime | None = None) -> str:
    """Words for `spec`, with its zone when that is not the local one.

    An interval's start is mentioned only while it is after `now` (default now): before
    that it is just when the job was saved.
    """
    zone = _check(spec)
    if isinstance(spec, CronSpec):
        text = _describe_cron(_parse_cron(spec.expression))
    elif isinstance(spec, IntervalSpec):
        text = _describe_interval(spec, zone, now or datetime.now(timezone.utc))
    else:
        text = f"Once, on {_long_when(spec.run_at.astimezone(zone))}"
    return text if spec.timezone == local_timezone_name() else f"{text} ({spec.timezone})"


def _describe_cron(cron: _Cron) -> str:
    minute, hour, day, month, _ = cron.fields
    values = (cron.minutes, cron.hours, cron.days, cron.months)
    canonical = [_aps_values(allowed, rule) for allowed, rule in zip(values, _RULES)]
    # As written reads best ("Every 15 minutes"); cron-descriptor fails on a few forms (0,*/2)
    for fields in ([minute, hour, day, month], canonical):
        try:
            return _descriptor_words(cron, *fields)
        except Exception:  # cron-descriptor's own parser; the words are a nicety, never an error
            continue
    return f"Cron {' '.join(cron.fields)}"


def _descriptor_words(cron: _Cron, minute: str, hour: str, day: str, month: str) -> str:
    # Weekdays rewritten from the values: cron-descriptor says "Sunday and Sunday" for 0,7
    weekday = "*"
    if len(cron.weekdays) < 7:
        weekday = _run_text(_runs(_monday_first(cron.weekdays)), lambda day: day + 1)  # 7 = Sunday
    if cron.either_day and "*" in (_aps_values(cron.days, _DOM), weekday):
        day = weekday = "*"  # either side allows every day
    descriptor = ExpressionDescriptor(" ".join((minute, hour, day, month, weekday)), _DESCRIBE_OPTIONS)
    text: str = descriptor.get_description()
    if day != "*" and weekday != "*":
        text = _say_or(text, descriptor.get_description(DescriptionTypeEnum.DAYOFWEEK))
    return text


def _say_or(text: str, weekday_words: str) -> str:
    """cron-descriptor says "or" only for some weekday forms; say it for all of them."""
    if weekday_words.startswith(", or "):
        return text
    days = weekday_words.removeprefix(", ").removeprefix("only ")
    return text.replace(weekday_words, f", or {days if days.startswith('on ') else 'on ' + days}", 1)


def _describe_interval(spec: IntervalSpec, zone: ZoneInfo, now: datetime) -> str:
    unit = spec.unit[:-1]
    words = [f"Every {unit}" if spec.amount == 1 else f"Every {spec.amount} {spec.unit}"]
    start = spec.start.astimezone(zone) if spec.start else None
    if start is not None and _keeps_wall_clock(spec):
        if spec.unit == "weeks":
            words.append(f"on {_WEEKDAY_NAMES[start.weekday()]}")
        words.append(f"at {_clock(start)}")
    if start is not None and start > now:
        words.append(f"from {_day(start)}" if _keeps_wall_clock(spec) else f"from {_long_when(start)}")
    if spec.end is not None:
        words.append(f"until {_long_when(spec.end.astimezone(zone))}")
    if spec.jitter:
        words.append(f"(jitter up to {format_duration(spec.jitter)})")
    return " ".join(words)


# --- DST ------------------------------------------------------------------------------------

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class _OffsetChange:
    at: datetime  # UTC instant of the change
    before: timedelta
    after: timedelta


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    return moment.astimezone(zone).utcoffset() or timedelta(0)


def _offset_changes(zone: ZoneInfo, start: datetime, end: datetime) -> list[_OffsetChange]:
    """UTC-offset changes in [start, end), probing once a day (no zone changes twice a day)."""
    changes = []
    probe, offset = start, _offset(zone, start)
    while probe < end:
        following = min(probe + _DAY, end)
        new_offset = _offset(zone, following)
        if new_offset != offset:
            changes.append(_OffsetChange(_change_instant(zone, probe, following), offset, new_offset))
        probe, offset = following, new_offset
    return changes


def _change_instant(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """Bisect whole seconds for the first one with the new offset."""
    before = _offset(zone, low)
    low_s, high_s = int(low.timestamp()), int(high.timestamp()) + 1
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if _offset(zone, datetime.fromtimestamp(middle, timezone.utc)) == before:
            low_s = middle
        else:
            high_s = middle
    return datetime.fromtimestamp(high_s, timezone.utc)


def dst_notes(
    spec: TriggerSpec, times: list[datetime] | None = None, *, after: datetime | None = None
) -> list[str]:
    """Warnings for wall-clock schedules (cron, day/week intervals) whose time does not exist
    or happens twice at a UTC-offset change after `after` (default now).

    Looks ~366 days ahead, or up to the last of `times` (the preview already shown) when given.
    What each note says the job does was read from the trigger itself.
    """
    zone = _check(spec)
    if not (isinstance(spec, CronSpec) or _keeps_wall_clock(spec)) or times == []:
        return []
    start = (after or datetime.now(timezone.utc)).astimezone(timezone.utc)
    end = max(times).astimezone(timezone.utc) if times else start + 366 * _DAY
    notes = []
    for change in _offset_changes(zone, start, end):
        notes.extend(_change_notes(spec, zone, change))
    return notes


def _change_notes(spec: TriggerSpec, zone: ZoneInfo, change: _OffsetChange) -> list[str]:
    shift = change.after - change.before
    wall = change.at.replace(tzinfo=None)
    if shift > timedelta(0):  # clocks go forward: [old wall time, + shift) does not exist
        first, last = wall + change.before, wall + change.before + shift
    else:  # clocks go back: [new wall time, + |shift|) happens twice
        first, last = wall + change.after, wall + change.before
    matches = _wall_matcher(spec, zone)
    scheduled = [moment for moment in _candidate_walls(spec, zone, first, last) if matches(moment)]
    if not scheduled:
        return []
    trigger = _build(spec, zone, jitter=False)
    span = abs(shift)
    fires = list(takewhile(lambda t: t < change.at + span, _fire_times(trigger, change.at - span - _TICK)))
    where = f"on {_day(scheduled[0])} in {zone.key}"
    if shift > timedelta(0):
        return _gap_notes(scheduled, fires, change, matches, where)
    return _fold_notes(scheduled, fires, span, where)


def _wall_matcher(spec: TriggerSpec, zone: ZoneInfo) -> Callable[[datetime], bool]:
    if isinstance(spec, CronSpec):
        return _parse_cron(spec.expression).matches
    assert isinstance(spec, IntervalSpec)
    return _WallClock.of(spec, zone).matches


def _candidate_walls(spec: TriggerSpec, zone: ZoneInfo, first: datetime, last: datetime) -> list[datetime]:
    """Wall times in [first, last) that the schedule could use: minutes, or the calendar's time."""
    if isinstance(spec, IntervalSpec):
        at = _WallClock.of(spec, zone).at
        days = {first.date(), last.date()}
        return sorted(m for m in (datetime.combine(d, at) for d in days) if first <= m < last)
    start = first.replace(second=0, microsecond=0)
    start += timedelta(minutes=1) if start < first else timedelta(0)
    return [start + timedelta(minutes=i) for i in range(int((last - start) / timedelta(minutes=1)))]


def _gap_notes(
    scheduled: list[datetime],
    fires: list[datetime],
    change: _OffsetChange,
    matches: Callable[[datetime], bool],
    where: str,
) -> list[str]:
    shift = change.after - change.before
    instants = {fire.timestamp() for fire in fires}
    # A missing wall time w would be the instant w - old offset, shown as w + shift; that run
    # "moved" only if it fired there and w + shift is not a run of its own anyway
    moved = [
        w for w in scheduled
        if (w - change.before).replace(tzinfo=timezone.utc).timestamp() in instants and not matches(w + shift)
    ]  # fmt: skip
    notes = [f"{_clock(w)} does not exist {where}: that run happens at {_clock(w + shift)}" for w in moved]
    skipped = [w for w in scheduled if w not in moved]
    if skipped:
        verb, result = ("does", "that run is") if len(skipped) == 1 else ("do", "those runs are")
        notes.append(f"{_times(skipped)} {verb} not exist {where}: {result} skipped")
    return notes


def _fold_notes(scheduled: list[datetime], fires: list[datetime], span: timedelta, where: str) -> list[str]:
    walls = [fire.replace(tzinfo=None) for fire in fires]
    twice = [w for w in scheduled if walls.count(w) >= 2]
    once = [w for w in scheduled if w not in twice]
    apart = format_duration(span.total_seconds())
    notes = []
    if twice:
        runs = "runs twice at each" if len(twice) > 1 else "runs twice"
        notes.append(f"{_times(twice)} {_happen(twice)} twice {where}: the job {runs}, {apart} apart")
    if once:
        notes.append(f"{_times(once)} {_happen(once)} twice {where}: the job runs only the first time")
    return notes


def _happen(walls: list[datetime]) -> str:
    return "happens" if len(walls) == 1 else "happen"


def _times(walls: list[datetime]) -> str:
    if len(walls) <= 4:
        return _join([_clock(w) for w in walls])
    return f"{len(walls)} run times from {_clock(walls[0])} to {_clock(walls[-1])}"


# --- plain dicts (database JSON, TOML export) -----------------------------------------------

_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {  # type -> (required, optional)
    "cron": (frozenset({"expression", "timezone"}), frozenset()),
    "interval": (frozenset({"amount", "unit", "timezone"}), frozenset({"start", "end", "jitter"})),
    "date": (frozenset({"run_at", "timezone"}), frozenset()),
}


def spec_to_dict(spec: TriggerSpec) -> dict[str, Any]:
    """A JSON/TOML-able dict; times as ISO 8601 with offset; unset fields left out."""
    if isinstance(spec, CronSpec):
        return {"type": "cron", "expression": spec.expression, "timezone": spec.timezone}
    if isinstance(spec, DateSpec):
        return {"type": "date", "run_at": spec.run_at.isoformat(), "timezone": spec.timezone}
    if not isinstance(spec, IntervalSpec):
        raise TriggerError(None, f"expected a CronSpec, IntervalSpec or DateSpec, got {type(spec).__name__}")
    out: dict[str, Any] = {"type": "interval", "amount": spec.amount, "unit": spec.unit}
    out["timezone"] = spec.timezone
    for key in ("start", "end"):
        moment = getattr(spec, key)
        if moment is not None:
            out[key] = moment.isoformat()
    if spec.jitter is not None:
        out["jitter"] = spec.jitter
    return out


def spec_from_dict(data: Mapping[str, Any]) -> TriggerSpec:
    """The spec of `spec_to_dict`'s dict, checking keys and types (not `validate`: a stored
    one-off job in the past must still load). Times come back in the spec's zone."""
    if not isinstance(data, Mapping):
        raise TriggerError(None, f"expected a table with a type key, got {type(data).__name__}")
    kind = data.get("type")
    if kind not in _KEYS:
        problem = "is missing" if kind is None else f"{kind!r} is not known"
        raise TriggerError("type", f"{problem}: use cron, interval or date")
    required, optional = _KEYS[kind]
    unknown = sorted(set(data) - required - optional - {"type"})
    if unknown:
        known = ", ".join(sorted(required | optional))
        raise TriggerError(unknown[0], f"unknown key for a {kind} trigger (known: {known})")
    missing = sorted(required - set(data))
    if missing:
        raise TriggerError(missing[0], "is missing")
    tz_name = _text(data, "timezone")
    zone = _zone(tz_name)
    if kind == "cron":
        return CronSpec(_text(data, "expression"), tz_name)
    if kind == "date":
        return DateSpec(_moment(data["run_at"], zone, "run_at"), tz_name)
    return IntervalSpec(
        amount=_whole(data["amount"], "amount"),
        unit=_text(data, "unit"),
        timezone=tz_name,
        start=_moment(data["start"], zone, "start") if "start" in data else None,
        end=_moment(data["end"], zone, "end") if "end" in data else None,
        jitter=_whole(data["jitter"], "jitter") if "jitter" in data else None,
    )


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TriggerError(key, f"expected text, got {value!r}")
    return value


def _whole(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TriggerError(key, f"expected a whole number, got {value!r}")
    return value


def _moment(value: Any, zone: ZoneInfo, key: str) -> datetime:
    """An ISO 8601 string with offset, or a TOML datetime."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise TriggerError(key, f"{value!r} is not an ISO 8601 date and time") from None
    if not isinstance(value, datetime):
        raise TriggerError(key, f"expected a date and time, got {value!r}")
    _require_aware(value, key)
    return value.astimezone(zone)


# --- command line ---------------------------------------------------------------------------


def parse_cli_trigger(
    cron: str | None, every: str | None, at: str | None, tz: str | None, *, now: datetime | None = None
) -> TriggerSpec:
    """The spec for `add --cron EXPR | --every DURATION | --at DATETIME [--tz TZ]`, validated.

    `--every` starts now (to the second) and uses the largest unit that divides it evenly;
    a naive `--at` is a wall-clock time in the zone (default: the local one).
    """
    options = (("--cron", cron), ("--every", every), ("--at", at))
    given = [option for option, value in options if value is not None]
    if len(given) != 1:
        got = f" (got {_join(given)})" if given else ""
        raise TriggerError(None, f"give exactly one of --cron, --every or --at{got}")
    tz_name = tz or local_timezone_name()
    zone = _zone(tz_name)
    now = now or datetime.now(timezone.utc)
    spec: TriggerSpec
    if cron is not None:
        spec = CronSpec(" ".join(cron.split()), tz_name)
    elif every is not None:
        spec = _every(every, tz_name, now.astimezone(zone).replace(microsecond=0))
    else:
        spec = DateSpec(_cli_moment(at or "", zone), tz_name)
    validate(spec, now=now)
    return spec


def _every(text: str, tz_name: str, start: datetime) -> IntervalSpec:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise TriggerError("every", str(exc)) from None
    whole = round(seconds)
    if whole < 1 or abs(seconds - whole) > 1e-6:  # 1e-6 forgives float noise like 1.1h
        raise TriggerError("every", f"{text!r} is not a whole number of seconds (at least 1s)")
    unit = next(unit for unit in INTERVAL_UNITS if whole % _UNIT_SECONDS[unit] == 0)
    return IntervalSpec(whole // _UNIT_SECONDS[unit], unit, tz_name, start=start)


def _cli_moment(text: str, zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TriggerError(
            "at", f"{text!r} is not a date and time: write it like 2026-12-01 09:00 or 2026-12-01T09:00+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = _localize(moment, zone, "at")
    return moment.astimezone(zone)
