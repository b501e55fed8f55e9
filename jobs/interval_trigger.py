"""Interval specs to APScheduler triggers: elapsed time below a day, the wall clock for days and weeks.

`IntervalTrigger(days=1)` drifts an hour across a DST change; a `CalendarIntervalTrigger`
keeps the wall-clock time (NOTES 14). `WallClockIntervalTrigger` is that, with its first
answer never in the past. It is pickled into APScheduler's rows: rows written before this
module existed name it `jobs.triggers.WallClockIntervalTrigger` (re-exported there), newer
ones `jobs.interval_trigger.WallClockIntervalTrigger`. Both names must stay importable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.cron import TriggerError, join_words
from jobs.model import INTERVAL_UNITS, IntervalSpec, TriggerSpec
from jobs.wall_time import require_aware, when, zone

UNIT_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}
_LONGEST_INTERVAL = 100 * 366 * 86_400  # beyond that, date arithmetic near 9999 overflows


def check_interval(spec: IntervalSpec) -> None:
    if spec.unit not in INTERVAL_UNITS:
        raise TriggerError("unit", f"{spec.unit!r} is not one of {join_words(list(INTERVAL_UNITS), 'or')}")
    if isinstance(spec.amount, bool) or not isinstance(spec.amount, int):
        raise TriggerError("amount", f"{spec.amount!r} is not a whole number")
    if spec.amount < 1:
        raise TriggerError("amount", f"{spec.amount} must be at least 1")
    if spec.amount * UNIT_SECONDS[spec.unit] > _LONGEST_INTERVAL:
        raise TriggerError("amount", f"{spec.amount} {spec.unit} is longer than 100 years")
    for field in ("start", "end"):
        moment = getattr(spec, field)
        if moment is not None:
            require_aware(moment, field)
    if spec.start is not None and spec.end is not None and spec.end <= spec.start:
        in_zone = zone(spec.timezone)
        start, end = when(spec.start.astimezone(in_zone)), when(spec.end.astimezone(in_zone))
        raise TriggerError("end", f"{end} is not after the start, {start}")
    if spec.jitter is not None and (isinstance(spec.jitter, bool) or not isinstance(spec.jitter, int)):
        raise TriggerError("jitter", f"{spec.jitter!r} is not a whole number of seconds")
    if spec.jitter is not None and spec.jitter < 0:
        raise TriggerError("jitter", f"{spec.jitter} must not be negative")


def interval_start(spec: IntervalSpec, in_zone: ZoneInfo) -> datetime:
    if spec.start is not None:
        return spec.start.astimezone(in_zone)
    return datetime.now(in_zone).replace(microsecond=0)


def keeps_wall_clock(spec: TriggerSpec) -> bool:
    """Day and week intervals follow the wall clock; shorter ones elapsed time."""
    return isinstance(spec, IntervalSpec) and spec.unit in ("weeks", "days")


@dataclass(frozen=True)
class WallCalendar:
    """A day/week interval as a calendar: every `period` days from `first` at `at`."""

    first: date
    at: time
    period: int
    last: date | None

    @classmethod
    def of(cls, spec: IntervalSpec, in_zone: ZoneInfo) -> WallCalendar:
        start = interval_start(spec, in_zone)
        at = start.time().replace(microsecond=0)
        period = spec.amount * (7 if spec.unit == "weeks" else 1)
        if spec.end is None:
            return cls(start.date(), at, period, None)
        end = spec.end.astimezone(in_zone)
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


def interval_trigger(spec: IntervalSpec, in_zone: ZoneInfo, *, jitter: bool) -> BaseTrigger:
    seconds = spec.jitter if jitter else None
    if keeps_wall_clock(spec):
        calendar = WallCalendar.of(spec, in_zone)
        return WallClockIntervalTrigger(
            **{spec.unit: spec.amount},
            hour=calendar.at.hour,
            minute=calendar.at.minute,
            second=calendar.at.second,
            start_date=calendar.first,
            end_date=calendar.last,
            timezone=in_zone,
            jitter=seconds,
        )
    return IntervalTrigger(
        **{spec.unit: spec.amount},
        start_date=interval_start(spec, in_zone),
        end_date=spec.end.astimezone(in_zone) if spec.end else None,
        timezone=in_zone,
        jitter=seconds,
    )
