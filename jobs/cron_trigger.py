"""`WallClockCronTrigger`: cron fire times that follow the wall clock of the job's zone, as cronie.

Why not APScheduler's `CronTrigger`: 3.11.3 steps a day by adding 24 hours to an aware time, so
on the day after a spring-forward change it lands an hour late and skips the day (`30 0 * * *`
in Europe/Berlin: 29 Mar 00:30, then 31 Mar; upstream #529, #606), and it answers wall times in
the gap as if they existed. Here the next fire is searched on naive wall-clock times day by day
(then hour, then minute) within a stretch of constant UTC offset, and DST changes are handled
the way cronie's crond does (its cron.c main loop):

- Clocks go forward (a gap): a "fixed-time" job (minute and hour fields do not start with `*`)
  scheduled in the missing wall times runs once, at the instant of the change (`30 2 * * *`
  runs at 03:00 in Europe/Berlin). A "wildcard" job (`*/15 2 * * *`, `0 * * * *`) skips the
  missing times: it runs at the real minutes that match.
- Clocks go back (a repeated stretch): a fixed-time job runs once, the first time (`30 2 * * *`
  runs at 02:30 CEST, not again at 02:30 CET); a wildcard job runs at each real time that
  matches, so an hourly job runs every real hour.

Pickled into APScheduler's rows as `jobs.cron_trigger.WallClockCronTrigger` with a small state of
values: the name and the state format must stay loadable (`version` in the state).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger

from jobs.cron import DAY_OF_MONTH, DAY_OF_WEEK, HOUR, MINUTE, MONTH, CronExpression, values_text

UTC = timezone.utc
_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
SEARCH_YEARS = 400  # every valid expression fires within one Gregorian cycle
_STATE_VERSION = 1


# --- UTC-offset changes -----------------------------------------------------------------------


class OffsetChange(NamedTuple):
    at: datetime  # UTC instant from which `after` applies
    before: timedelta
    after: timedelta


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    return moment.astimezone(zone).utcoffset() or timedelta(0)


@lru_cache(maxsize=2048)
def offset_changes(zone: ZoneInfo, year: int) -> tuple[OffsetChange, ...]:
    """The zone's UTC-offset changes during `year` (UTC), probing once a day and bisecting to
    the second (no zone changes twice within a day)."""
    if not 1 < year < 9999:
        return ()
    probe, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    offset, changes = _offset(zone, probe), []
    while probe < end:
        following = probe + _DAY
        new_offset = _offset(zone, following)
        if new_offset != offset:
            changes.append(OffsetChange(_change_instant(zone, probe, following, offset), offset, new_offset))
        probe, offset = following, new_offset
    return tuple(changes)


def _change_instant(zone: ZoneInfo, low: datetime, high: datetime, before: timedelta) -> datetime:
    low_s, high_s = int(low.timestamp()), int(high.timestamp())
    while high_s - low_s > 1:
        middle = (low_s + high_s) // 2
        if _offset(zone, datetime.fromtimestamp(middle, UTC)) == before:
            low_s = middle
        else:
            high_s = middle
    return datetime.fromtimestamp(high_s, UTC)


def changes_between(zone: ZoneInfo, start: datetime, end: datetime) -> list[OffsetChange]:
    """Offset changes at instants in (start, end]."""
    years = range(start.astimezone(UTC).year, end.astimezone(UTC).year + 1)
    return [change for year in years for change in offset_changes(zone, year) if start < change.at <= end]


class _Change(NamedTuple):
    at: datetime  # naive UTC
    before: timedelta
    after: timedelta


@lru_cache(maxsize=1024)
def _changes_near(zone: ZoneInfo, year: int) -> tuple[tuple[datetime, ...], tuple[_Change, ...], timedelta]:
    """Changes of the years around `year` (naive UTC instants, and the changes), and the
    offset before the first of them. Naive UTC arithmetic is several times cheaper."""
    changes = tuple(
        _Change(c.at.replace(tzinfo=None), c.before, c.after) for y in (year - 1, year, year + 1) for c in offset_changes(zone, y)
    )
    probe = datetime(max(year - 1, 2), 1, 1, tzinfo=UTC)
    return tuple(c.at for c in changes), changes, changes[0].before if changes else _offset(zone, probe)


class _Stretch(NamedTuple):
    """A stretch of time with one UTC offset, around a given instant (naive UTC)."""

    offset: timedelta
    began: _Change | None  # the change that started it, if within the last year or so
    ends: datetime  # the next change, or a point in the far future
    change: _Change | None  # the change at `ends`, None when `ends` is only a search step


def _stretch(zone: ZoneInfo, moment: datetime) -> _Stretch:
    instants, changes, first_offset = _changes_near(zone, moment.year)
    index = bisect_right(instants, moment)  # changes[:index] have happened
    began = changes[index - 1] if index else None
    offset = began.after if began is not None else first_offset
    if index < len(changes):
        return _Stretch(offset, began, instants[index], changes[index])
    return _Stretch(offset, began, datetime(min(moment.year + 2, 9999), 1, 1), None)


# --- wall-clock search --------------------------------------------------------------------------


def _ceil_minute(wall: datetime) -> datetime:
    if wall.second or wall.microsecond:
        return wall + timedelta(seconds=60 - wall.second, microseconds=-wall.microsecond)
    return wall


def _utc_naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


class WallClockMatcher:
    """Naive wall-clock times that match an expression, searched by day, hour, then minute."""

    __slots__ = ("cron", "minutes", "hours")

    def __init__(self, cron: CronExpression) -> None:
        self.cron = cron
        self.minutes = tuple(sorted(cron.minutes))
        self.hours = tuple(sorted(cron.hours))

    def next_wall(self, wall: datetime, limit: datetime) -> datetime | None:
        """The first match at or after `wall` (a whole minute) and before `limit`."""
        day, hour, minute = wall.date(), wall.hour, wall.minute
        try:
            while day <= limit.date():
                if day.month not in self.cron.months:
                    day, hour, minute = self._next_month(day), 0, 0
                    continue
                if self.cron.day_matches(day):
                    found = self._time_from(hour, minute)
                    if found is not None:
                        candidate = datetime(day.year, day.month, day.day, *found)
                        return candidate if candidate < limit else None
                day, hour, minute = day + _DAY, 0, 0
        except OverflowError:  # past the year 9999
            pass
        return None

    def prev_wall(self, wall: datetime, floor: datetime) -> datetime | None:
        """The last match at or before `wall` (a whole minute) and at or after `floor`."""
        day, hour, minute = wall.date(), wall.hour, wall.minute
        try:
            while day >= floor.date():
                if self.cron.day_matches(day):
                    found = self._time_until(hour, minute)
                    if found is not None:
                        candidate = datetime(day.year, day.month, day.day, *found)
                        return candidate if candidate >= floor else None
                day, hour, minute = day - _DAY, 23, 59
        except OverflowError:
            pass
        return None

    def count_walls(self, low: datetime, high: datetime) -> int:
        """How many matches lie in [low, high), both whole minutes."""
        total, day = 0, low.date()
        while day <= high.date():
            if self.cron.day_matches(day):
                first = low.hour * 60 + low.minute if day == low.date() else 0
                last = high.hour * 60 + high.minute if day == high.date() else 1440
                total += self._count_in_day(first, last)
            day += _DAY
        return total

    def _next_month(self, day: date) -> date:
        year, month = day.year, day.month
        while True:
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            if month in self.cron.months:
                return date(year, month, 1)

    def _time_from(self, hour: int, minute: int) -> tuple[int, int] | None:
        i = bisect_left(self.hours, hour)
        if i < len(self.hours) and self.hours[i] == hour:
            j = bisect_left(self.minutes, minute)
            if j < len(self.minutes):
                return hour, self.minutes[j]
            i += 1
        return (self.hours[i], self.minutes[0]) if i < len(self.hours) else None

    def _time_until(self, hour: int, minute: int) -> tuple[int, int] | None:
        i = bisect_right(self.hours, hour) - 1
        if i >= 0 and self.hours[i] == hour:
            j = bisect_right(self.minutes, minute) - 1
            if j >= 0:
                return hour, self.minutes[j]
            i -= 1
        return (self.hours[i], self.minutes[-1]) if i >= 0 else None

    def _count_in_day(self, first: int, last: int) -> int:
        """Matching minutes of the day numbered in [first, last)."""
        count = 0
        for hour in self.hours:
            low, high = max(first - hour * 60, 0), min(last - hour * 60, 60)
            if low < high:
                count += bisect_left(self.minutes, high) - bisect_left(self.minutes, low)
        return count


def _repeats(began: _Change | None, wall: datetime) -> bool:
    """Whether `wall`, in the stretch that `began` started, was already shown before the change."""
    return began is not None and began.after < began.before and wall < began.at + began.before


def next_fire(matcher: WallClockMatcher, zone: ZoneInfo, start: datetime) -> datetime | None:
    """The first fire at or after `start` (aware), in `zone`; None when there is none."""
    moment = _utc_naive(start)
    give_up = min(moment.year + SEARCH_YEARS, 9999)
    fixed = matcher.cron.fixed_time
    while moment.year < give_up:
        stretch = _stretch(zone, moment)
        limit = stretch.ends + stretch.offset
        wall = matcher.next_wall(_ceil_minute(moment + stretch.offset), limit)
        while wall is not None and fixed and _repeats(stretch.began, wall):
            wall = matcher.next_wall(wall + _MINUTE, limit)  # a fixed-time job ran the first time
        if wall is not None:
            return (wall - stretch.offset).replace(tzinfo=UTC).astimezone(zone)
        change = stretch.change
        if change is not None and fixed and change.after > change.before:
            gap = (change.at + change.before, change.at + change.after)
            if matcher.next_wall(_ceil_minute(gap[0]), gap[1]) is not None:
                return change.at.replace(tzinfo=UTC).astimezone(zone)  # missed fixed times run once, at the change
        moment = stretch.ends
    return None


# --- the trigger --------------------------------------------------------------------------------


class WallClockCronTrigger(BaseTrigger):  # type: ignore[misc]
    """An APScheduler trigger for a parsed cron expression in a zone (see the module doc)."""

    __slots__ = ("matcher", "timezone")

    def __init__(self, cron: CronExpression, timezone: ZoneInfo) -> None:
        self.matcher = WallClockMatcher(cron)
        self.timezone = timezone

    @property
    def cron(self) -> CronExpression:
        return self.matcher.cron

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        # After a fire, the next one strictly after it, whatever `now` is: the scheduler walks
        # missed runs with (previous, now), and an answer not after `previous` would repeat a run
        start = now if previous_fire_time is None else previous_fire_time.astimezone(UTC) + _TICK
        return next_fire(self.matcher, self.timezone, start)

    def summary(self, after: datetime, until: datetime) -> tuple[int, datetime, datetime] | None:
        """(count, first, last) of the fires in (after, until] without listing them; None when
        there are none, or when an offset change makes that span a case for `next_fire`."""
        start, end = _utc_naive(after), _utc_naive(until)
        stretch = _stretch(self.timezone, start)
        began = stretch.began
        if stretch.ends <= end or (
            self.cron.fixed_time and began is not None and began.at + (began.before - began.after) > start
        ):
            return None
        low = _ceil_minute(start + _TICK + stretch.offset)
        high = end + stretch.offset
        high -= timedelta(seconds=high.second, microseconds=high.microsecond)
        first = self.matcher.next_wall(low, high + _MINUTE)
        last = self.matcher.prev_wall(high, low)
        if first is None or last is None:
            return None
        count = self.matcher.count_walls(low, high + _MINUTE)

        def instant(wall: datetime) -> datetime:
            return (wall - stretch.offset).replace(tzinfo=UTC).astimezone(self.timezone)

        return count, instant(first), instant(last)

    def __getstate__(self) -> dict[str, Any]:
        cron = self.cron
        return {
            "version": _STATE_VERSION,
            "timezone": self.timezone.key,
            "values": tuple(tuple(sorted(v)) for v in (cron.minutes, cron.hours, cron.days, cron.months, cron.weekdays)),
            "either_day": cron.either_day,
            "fixed_time": cron.fixed_time,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        if state.get("version", 0) > _STATE_VERSION:
            raise ValueError(f"WallClockCronTrigger state version {state['version']} is newer than this Jobdesk")
        self.timezone = ZoneInfo(state["timezone"])
        self.matcher = WallClockMatcher(_from_values(state["values"], state["either_day"], state["fixed_time"]))

    def __str__(self) -> str:
        return f"cron[{' '.join(self.cron.fields)}, {self.timezone.key}]"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} ({' '.join(self.cron.fields)}, timezone='{self.timezone.key}')>"


def _from_values(values: tuple[tuple[int, ...], ...], either_day: bool, fixed_time: bool) -> CronExpression:
    minutes, hours, days, months, weekdays = (frozenset(v) for v in values)
    sets = (minutes, hours, days, months, weekdays)
    fields = tuple(values_text(s, rule) for s, rule in zip(sets, (MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK)))
    return CronExpression(fields, minutes, hours, days, months, weekdays, either_day, fixed_time)
