"""Interval specs checked and laid on the calendar, without APScheduler (jobs.interval_trigger
builds the triggers): `jobdesk list` describes intervals without importing the scheduler's
package, ~45 ms of a small list's ~0.11 s (issue 10).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

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
