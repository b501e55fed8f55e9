"""Interval specs to APScheduler triggers: elapsed time below a day, the wall clock for days and weeks.

`IntervalTrigger(days=1)` drifts an hour across a DST change; a `CalendarIntervalTrigger`
keeps the wall-clock time (NOTES 14). `WallClockIntervalTrigger` is that, with its first
answer never in the past. It is pickled into APScheduler's rows: rows written before this
module existed name it `jobs.triggers.WallClockIntervalTrigger` (re-exported there), newer
ones `jobs.interval_trigger.WallClockIntervalTrigger`. Both names must stay importable.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.interval import IntervalTrigger

# The checks and the calendar live in jobs.interval_rules (no APScheduler); their names stay here too
from jobs.interval_rules import UNIT_SECONDS, WallCalendar, check_interval, interval_start, keeps_wall_clock
from jobs.model import IntervalSpec

__all__ = ["UNIT_SECONDS", "WallCalendar", "WallClockIntervalTrigger", "check_interval", "interval_start",
           "interval_trigger", "keeps_wall_clock"]  # fmt: skip


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
