"""Upcoming fires across all jobs: the one computation behind Upcoming, the Timeline and lists.

A job's series of fires starts at its next run as the scheduler stored it (which may differ
from what its trigger says from now: a run missed while closed, a job resumed), then follows
its trigger. `FireTimes` keeps one APScheduler trigger per trigger spec (building one per job
per call cost 8.3 s at 10,000 jobs, issue 10) and each spec's computed fire times, extended
as time moves on instead of recomputed.

- `FireTimes.upcoming()`: the Upcoming table. Every active job's next run is in it, however
  frequent the others are; then the nearest further fires up to `limit`, within `horizon`.
- `FireTimes.timeline()`: one `Lane` per job with a fire in the span: its fires, or for a job
  too frequent to draw mark by mark a `Dense` summary (first, last, count, spacing, and the
  stretches that have fires) computed without listing 1,440 times for an every-minute job.

Times are aware UTC. Jitter is left out: previews show the planned slots.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
import math
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from statistics import median

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs.cron_trigger import WallClockCronTrigger
from jobs.gui_priority import every
from jobs.model import IntervalSpec, JobSpec, TriggerSpec
from jobs.trigger_build import TICK, preview_trigger

UTC = timezone.utc
UPCOMING_LIMIT = 200
UPCOMING_HORIZON = timedelta(days=7)
TIMELINE_SPAN = timedelta(hours=24)
MAX_MARKS = 48  # more fires than this in a lane: a Dense summary instead of marks
_TRIM_AT = 512  # fires kept before a series forgets those that have passed
_CHUNK = 16
_PROBE = 9  # fires listed before a lane is checked for being dense


@dataclass(frozen=True, slots=True)  # one per job in the Timeline
class Dense:
    """A lane with too many fires to list: all fires in the span are summed up.

    `spans` are the stretches of the lane that have fires: from `first` to `last` unless the
    job pauses for longer than a gap (twice its spacing, and at least span / max_marks), e.g.
    "*/5 9-17 * * 1-5" has a stretch per working day, not a band across the nights. Each
    stretch starts and ends on a fire. Found with a probe per half gap, never fire by fire.
    """

    first: datetime
    last: datetime
    count: int
    spacing: timedelta  # typical (median) time between two fires
    spans: tuple[tuple[datetime, datetime], ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)  # one per job in the Timeline
class Lane:
    """One job's fires in a timeline span: listed in `fires`, or summed up in `dense`."""

    job: JobSpec
    fires: tuple[datetime, ...] = ()  # every fire in the span when `dense` is None
    dense: Dense | None = None
    # An after-job's lane (jobs.chain_plan): links[i] are the (upstream job id, fire) pairs the
    # expected run at fires[i] follows; the Timeline draws a line from each
    links: tuple[tuple[tuple[str, datetime], ...], ...] = ()

    @property
    def first(self) -> datetime:
        return self.dense.first if self.dense is not None else self.fires[0]


@dataclass
class _Series:
    """Consecutive fire times strictly after `anchor`; `done` when the trigger has no more."""

    anchor: datetime
    fires: list[datetime] = field(default_factory=list)
    done: bool = False


def _key(spec: TriggerSpec) -> TriggerSpec:
    if isinstance(spec, IntervalSpec) and spec.jitter:
        return replace(spec, jitter=None)  # the same planned slots
    return spec


class FireTimes:
    """Fire times per trigger spec, computed once and extended on demand. Thread-safe: one
    instance may serve the GUI thread and a loader thread (calls are serialised)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._triggers: dict[TriggerSpec, BaseTrigger] = {}
        self._series: dict[TriggerSpec, _Series] = {}

    # --- one spec ---------------------------------------------------------------------------

    def trigger(self, spec: TriggerSpec) -> BaseTrigger:
        """The preview trigger of `spec` (no jitter), built once per spec."""
        key = _key(spec)
        with self._lock:
            trigger = self._triggers.get(key)
            if trigger is None:
                trigger = self._triggers[key] = preview_trigger(key)
            return trigger

    def after(self, spec: TriggerSpec, moment: datetime, count: int) -> list[datetime]:
        """The next `count` fires strictly after `moment` (fewer when the trigger ends)."""
        key, moment = _key(spec), moment.astimezone(UTC)
        with self._lock:
            series = self._series.get(key)
            start = bisect_right(series.fires, moment) if series is not None else 0
            if series is None or moment < series.anchor or (start == len(series.fires) and not series.done):
                # nothing kept after `moment`: start afresh there rather than walk up to it
                series, start = _Series(moment), 0
                self._series[key] = series
            if start > _TRIM_AT:  # forget the past, keeping the series consecutive
                series.anchor, series.fires = series.fires[start - 1], series.fires[start:]
                start = 0
            self._extend(key, series, start + count)
            return series.fires[start : start + count]

    def _extend(self, key: TriggerSpec, series: _Series, size: int) -> None:
        if len(series.fires) >= size or series.done:
            return
        trigger = self.trigger(key)
        while len(series.fires) < size and not series.done:
            previous = series.fires[-1] if series.fires else None
            if previous is None:
                fire = trigger.get_next_fire_time(None, series.anchor + TICK)
                while fire is not None and fire <= series.anchor:  # a DateTrigger in the past
                    fire = trigger.get_next_fire_time(fire, fire)
            else:
                fire = trigger.get_next_fire_time(previous, previous)
            if fire is None:
                series.done = True
            else:
                series.fires.append(fire.astimezone(UTC))

    def forget_all_but(self, specs: Iterable[TriggerSpec]) -> None:
        """Drop what is kept for other specs (edited or deleted jobs)."""
        keep = {_key(spec) for spec in specs}
        with self._lock:
            self._triggers = {key: value for key, value in self._triggers.items() if key in keep}
            self._series = {key: value for key, value in self._series.items() if key in keep}

    def _tidy(self, used: set[TriggerSpec]) -> None:
        if len(self._triggers) > 2 * len(used) + 64:
            self.forget_all_but(used)

    # --- many jobs --------------------------------------------------------------------------

    def upcoming(
        self,
        jobs: Sequence[JobSpec],
        next_runs: Mapping[str, datetime],
        *,
        now: datetime | None = None,
        limit: int = UPCOMING_LIMIT,
        horizon: timedelta = UPCOMING_HORIZON,
    ) -> list[tuple[datetime, JobSpec]]:
        """(time, job) soonest first: each active job's next run (a job is active when it has
        one in `next_runs`), then further fires within `horizon` of `now` up to `limit` rows
        in all. With more active jobs than `limit`, every next run and nothing more."""
        end = (now or datetime.now(UTC)).astimezone(UTC) + horizon
        active = _active(jobs, next_runs)
        rows = [(first, spec) for first, _, spec in active]
        room = limit - len(rows)
        with self._lock:
            if room > 0:
                streams = [self._stream(spec, first, index) for first, index, spec in every(active)]
                for when, _, spec in heapq.merge(*streams):
                    if when > end or room == 0:
                        break
                    rows.append((when, spec))
                    room -= 1
            self._tidy({_key(spec.trigger) for spec in jobs})
        rows.sort(key=lambda row: row[0])
        return rows

    def _stream(
        self, spec: JobSpec, first: datetime, index: int, *, chunk: int = _CHUNK
    ) -> Iterator[tuple[datetime, int, JobSpec]]:
        """The fires after `first`, fetched in growing chunks from the cache."""
        fetched = 0
        while True:
            fires = self.after(spec.trigger, first, fetched + chunk)
            for when in fires[fetched:]:
                yield when, index, spec
            if len(fires) < fetched + chunk:
                return
            fetched, chunk = len(fires), chunk * 2

    def timeline(
        self,
        jobs: Sequence[JobSpec],
        next_runs: Mapping[str, datetime],
        *,
        now: datetime | None = None,
        span: timedelta = TIMELINE_SPAN,
        max_marks: int = MAX_MARKS,
    ) -> list[Lane]:
        """A lane for every active job with a fire from its next run up to `now + span`,
        ordered by first fire: `max_marks` fires or fewer are listed, more are `Dense`."""
        end = (now or datetime.now(UTC)).astimezone(UTC) + span
        lanes = []
        with self._lock:
            for first, _, spec in every(_active(jobs, next_runs)):  # (jobs.gui_priority)
                if first > end:
                    continue
                lanes.append(self._lane(spec, first, end, max_marks, span / max(1, max_marks)))
            self._tidy({_key(spec.trigger) for spec in jobs})
        lanes.sort(key=lambda lane: (lane.first, lane.job.name, lane.job.id))
        return lanes

    def _lane(self, spec: JobSpec, first: datetime, end: datetime, max_marks: int, gap: timedelta) -> Lane:
        fires = [first]
        for when, _, _ in self._stream(spec, first, 0, chunk=1):  # only as far as needed
            if when > end or len(fires) > max_marks:
                break
            fires.append(when)
            if len(fires) == _PROBE:  # frequent: count the rest without listing it, if it is many
                counted = self._counted(spec.trigger, first, end)
                if counted is not None and counted[0] > max_marks:
                    return self._dense(spec, first, counted, fires, gap)
        if len(fires) <= max_marks:
            return Lane(spec, tuple(fires))
        counted = self._counted(spec.trigger, first, end) or self._walked(spec.trigger, first, end)
        return self._dense(spec, first, counted, fires, gap)

    def _dense(self, spec: JobSpec, first: datetime, counted: tuple[int, datetime], fires: list[datetime],
               gap: timedelta) -> Lane:  # fmt: skip
        spacing = _typical_gap(fires)
        spans = self._spans(spec.trigger, first, counted[1], max(gap, 2 * spacing))
        return Lane(spec, dense=Dense(first, counted[1], counted[0], spacing, spans))

    def _spans(self, spec: TriggerSpec, first: datetime, last: datetime, gap: timedelta) -> tuple[tuple[datetime, datetime], ...]:
        """The stretches of [first, last] whose fires are at most `gap` apart. A probe half a gap
        ahead that finds a fire within the gap extends the stretch (fires between can only make
        the steps shorter); otherwise the very next fire decides."""
        trigger = self.trigger(spec)

        def from_(moment: datetime) -> datetime | None:  # the first fire at or after `moment`
            fire = trigger.get_next_fire_time(None, moment)
            return None if fire is None else fire.astimezone(UTC)

        spans: list[tuple[datetime, datetime]] = []
        start = stop = first
        while True:
            probe = from_(stop + gap / 2)
            if probe is not None and probe <= last and probe - stop <= gap:
                stop = probe
                continue
            nearer = from_(stop + TICK)
            if nearer is not None and nearer <= last and nearer - stop <= gap:
                stop = nearer
                continue
            spans.append((start, stop))
            if nearer is None or nearer > last:
                return tuple(spans)
            start = stop = nearer

    def _counted(self, spec: TriggerSpec, first: datetime, end: datetime) -> tuple[int, datetime] | None:
        """(count, last) of the fires in [first, end] by arithmetic, when the trigger allows it."""
        trigger = self.trigger(spec)
        if isinstance(trigger, WallClockCronTrigger):
            summary = trigger.summary(first, end)  # None across an offset change
            return (summary[0] + 1, summary[2].astimezone(UTC)) if summary is not None else None
        if isinstance(trigger, IntervalTrigger):  # elapsed time
            until = min(end, trigger.end_date) if trigger.end_date else end
            steps = math.floor((until.timestamp() - first.timestamp()) / trigger.interval_length + 1e-9)
            return steps + 1, first + timedelta(seconds=steps * trigger.interval_length)
        return None

    def _walked(self, spec: TriggerSpec, first: datetime, end: datetime) -> tuple[int, datetime]:
        """(count, last) by asking the trigger fire by fire, keeping none of them."""
        trigger, count, last = self.trigger(spec), 1, first
        fire = trigger.get_next_fire_time(first, first)
        while fire is not None and fire <= end:
            count, last = count + 1, fire
            fire = trigger.get_next_fire_time(last, last)
        return count, last.astimezone(UTC)


def _typical_gap(fires: list[datetime]) -> timedelta:
    return timedelta(seconds=median((b - a).total_seconds() for a, b in zip(fires, fires[1:])))


def _active(jobs: Sequence[JobSpec], next_runs: Mapping[str, datetime]) -> list[tuple[datetime, int, JobSpec]]:
    """(next run in UTC, position, job) of the jobs that have a next run."""
    return [
        (next_runs[spec.id].astimezone(UTC), index, spec) for index, spec in enumerate(jobs) if spec.id in next_runs
    ]
