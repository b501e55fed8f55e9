"""The Timeline's lanes as drawn: a core `jobs.upcoming.Lane` clipped to the axis, lazily.

At 10,000 jobs every load brings 10,000 lanes; working out each one's visible fires or stretches
up front cost the GUI thread 0.1-0.6 s a load, so `_Lane` does it when a lane is first painted,
hovered or re-sorted. Also the small time helpers the view shares with it. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from jobs.upcoming import Dense, Lane

Span = tuple[datetime, datetime]


class DrawnLane:
    """A core lane as drawn: its fires or stretches within the axis, worked out when first
    needed (only lanes on screen, under the pointer or being re-sorted ever are)."""

    __slots__ = ("_lane", "_start", "_end", "_fires", "_spans")

    def __init__(self, lane: Lane, start: datetime, end: datetime) -> None:
        self._lane, self._start, self._end = lane, start, end
        self._fires: list[datetime] | None = None
        self._spans: list[Span] | None = None

    @property
    def job_id(self) -> str:
        return self._lane.job.id

    @property
    def job_name(self) -> str:
        return self._lane.job.name

    @property
    def dense(self) -> Dense | None:
        return self._lane.dense

    @property
    def fires(self) -> list[datetime]:
        if self._fires is None:
            self._fires = [when for when in map(utc, self._lane.fires) if self._start <= when <= self._end]
        return self._fires

    @property
    def spans(self) -> list[Span]:
        if self._spans is None:
            dense, start, end = self._lane.dense, self._start, self._end
            stretches = (dense.spans or ((dense.first, dense.last),)) if dense is not None else ()
            self._spans = [(max(a, start), min(b, end)) for a, b in map(utc_span, stretches) if b >= start and a <= end]
        return self._spans

    @property
    def links(self) -> list[tuple[datetime, str, datetime]]:
        """An after-job's expected runs on the axis, each with every (upstream job id, its fire) it follows."""
        lane = self._lane
        return [(when, upstream, fire) for when, links in zip(map(utc, lane.fires), lane.links)
                if self._start <= when <= self._end for upstream, fire in links]  # fmt: skip

    @property
    def shown(self) -> bool:
        return bool(self.spans if self.dense is not None else self.fires)

    @property
    def first(self) -> datetime:
        return self.spans[0][0] if self.dense is not None else self.fires[0]

    @property
    def count(self) -> int:
        return self.dense.count if self.dense is not None else len(self.fires)


@dataclass(frozen=True)
class Mark:
    left: float
    right: float
    fires: tuple[datetime, ...]


def utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo is not None else moment.astimezone()).astimezone(timezone.utc)


def every_words(spacing: timedelta) -> str:
    """"every 1 min", "every 30 s", "every 1 h 30 min": the typical time between two runs."""
    seconds = round(spacing.total_seconds())
    if seconds < 60:
        return f"every {seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"every {minutes} min" + (f" {rest} s" if rest else "")
    hours, minutes = divmod(minutes, 60)
    return f"every {hours} h" + (f" {minutes} min" if minutes else "")


def utc_span(span: Span) -> Span:
    return utc(span[0]), utc(span[1])


def hour_floor(moment: datetime) -> datetime:
    """The start of `moment`'s local hour, in UTC (zones with half-hour offsets included)."""
    return moment.astimezone().replace(minute=0, second=0, microsecond=0).astimezone(timezone.utc)
