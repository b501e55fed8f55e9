"""Notes for wall-clock schedules whose time does not exist or happens twice at a DST change.

Shown by the editor (and `show`) next to the preview (NOTES 14, 30). What each note says the
job does is read from the trigger's own fire times, so a note cannot promise what the scheduler
will not do. For cron that is cronie's behaviour (jobs.cron_trigger): a fixed-time job runs
once in a repeated hour and, for times in a gap, once when the clocks go forward; a wildcard
job runs at the real times that match.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from itertools import takewhile
from zoneinfo import ZoneInfo

from jobs.cron import join_words, parse_cron
from jobs.cron_trigger import OffsetChange, changes_between
from jobs.durations import format_duration
from jobs.interval_rules import WallCalendar, keeps_wall_clock
from jobs.model import CronSpec, IntervalSpec, TriggerSpec
from jobs.trigger_build import TICK, check, fire_times, preview_trigger
from jobs.wall_time import clock, day_words

_LOOK_AHEAD = timedelta(days=366)


def dst_notes(
    spec: TriggerSpec, times: list[datetime] | None = None, *, after: datetime | None = None
) -> list[str]:
    """Notes for the UTC-offset changes after `after` (default now) where the schedule has a
    time that does not exist or happens twice, saying what the job does there.

    Looks ~366 days ahead, or up to the last of `times` (the preview already shown) when given.
    """
    in_zone = check(spec)
    if not (isinstance(spec, CronSpec) or keeps_wall_clock(spec)) or times == []:
        return []
    start = (after or datetime.now(timezone.utc)).astimezone(timezone.utc)
    end = max(times).astimezone(timezone.utc) if times else start + _LOOK_AHEAD
    notes = []
    for change in changes_between(in_zone, start, end):
        notes.extend(_change_notes(spec, in_zone, change))
    return notes


def _naive(moment: datetime, offset: timedelta) -> datetime:
    return (moment + offset).replace(tzinfo=None)


def _change_notes(spec: TriggerSpec, in_zone: ZoneInfo, change: OffsetChange) -> list[str]:
    shift = change.after - change.before
    if shift > timedelta(0):  # clocks go forward: [old wall time, + shift) does not exist
        first, last = _naive(change.at, change.before), _naive(change.at, change.after)
    else:  # clocks go back: [new wall time, + |shift|) happens twice
        first, last = _naive(change.at, change.after), _naive(change.at, change.before)
    matches = _wall_matcher(spec, in_zone)
    scheduled = [moment for moment in _candidate_walls(spec, in_zone, first, last) if matches(moment)]
    if not scheduled:
        return []
    span = abs(shift)
    fires = list(takewhile(lambda t: t < change.at + span, fire_times(preview_trigger(spec), change.at - span - TICK)))
    where = f"on {day_words(scheduled[0])} in {in_zone.key}"
    if shift > timedelta(0):
        fixed = isinstance(spec, CronSpec) and parse_cron(spec.expression).fixed_time
        return _gap_notes(scheduled, fires, change, matches(last), fixed, where)
    return _fold_notes(scheduled, fires, span, where)


def _wall_matcher(spec: TriggerSpec, in_zone: ZoneInfo) -> Callable[[datetime], bool]:
    if isinstance(spec, CronSpec):
        return parse_cron(spec.expression).matches
    assert isinstance(spec, IntervalSpec)
    return WallCalendar.of(spec, in_zone).matches


def _candidate_walls(spec: TriggerSpec, in_zone: ZoneInfo, first: datetime, last: datetime) -> list[datetime]:
    """Wall times in [first, last) that the schedule could use: minutes, or the calendar's time."""
    if isinstance(spec, IntervalSpec):
        at = WallCalendar.of(spec, in_zone).at
        days = {first.date(), last.date()}
        return sorted(m for m in (datetime.combine(d, at) for d in days) if first <= m < last)
    start = first.replace(second=0, microsecond=0)
    start += timedelta(minutes=1) if start < first else timedelta(0)
    return [start + timedelta(minutes=i) for i in range(int((last - start) / timedelta(minutes=1)))]


def _gap_notes(
    scheduled: list[datetime], fires: list[datetime], change: OffsetChange, runs_anyway: bool, fixed: bool,
    where: str,
) -> list[str]:
    """Missing times either run once at the change or are skipped. A fire at the change says
    the first, unless the wall time there is a run of its own: then only a fixed-time cron
    job folds its missing times into it."""
    at_change = change.at.timestamp() in {fire.timestamp() for fire in fires}
    moved = at_change and (fixed or not runs_anyway)
    after = clock(_naive(change.at, change.after))
    if moved and len(scheduled) == 1 and not runs_anyway:
        return [f"{_times(scheduled)} does not exist {where}: that run happens at {after}, when clocks go forward"]
    if moved:
        return [f"{_times(scheduled)} {_exist(scheduled)} not exist {where}: the job runs once at {after}, when clocks go forward"]
    result = "that run is" if len(scheduled) == 1 else "those runs are"
    return [f"{_times(scheduled)} {_exist(scheduled)} not exist {where}: {result} skipped"]


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


def _exist(walls: list[datetime]) -> str:
    return "does" if len(walls) == 1 else "do"


def _happen(walls: list[datetime]) -> str:
    return "happens" if len(walls) == 1 else "happen"


def _times(walls: list[datetime]) -> str:
    if len(walls) <= 4:
        return join_words([clock(w) for w in walls])
    return f"{len(walls)} run times from {clock(walls[0])} to {clock(walls[-1])}"
