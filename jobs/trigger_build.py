"""Trigger specs (jobs.model) checked and built into the APScheduler triggers the scheduler runs.

Previews ask the same trigger objects the scheduler uses, the way the scheduler asks them
(previous fire time, now), so what the editor, `show` and Upcoming list is what runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from itertools import islice, takewhile
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from jobs.cron import TriggerError, parse_cron
from jobs.interval_rules import check_interval
from jobs.after_trigger import check_after
from jobs.model import AfterSpec, CronSpec, DateSpec, IntervalSpec, TriggerSpec
from jobs.wall_time import require_aware, when, zone

if TYPE_CHECKING:
    from apscheduler.triggers.base import BaseTrigger

TICK = timedelta(microseconds=1)


def check(spec: TriggerSpec) -> ZoneInfo:
    """Raise TriggerError for anything wrong but "is it in the past"; returns the spec's zone.

    A bad zone and bad cron fields are reported together. An after-trigger (jobs.chains) has
    no times: its zone only says how its runs' times are shown.
    """
    if not isinstance(spec, (CronSpec, IntervalSpec, DateSpec, AfterSpec)):
        raise TriggerError(None, f"expected a CronSpec, IntervalSpec, DateSpec or AfterSpec, got {type(spec).__name__}")
    if isinstance(spec, AfterSpec):
        check_after(spec)
        return zone(spec.timezone)
    try:
        in_zone = zone(spec.timezone)
    except TriggerError as exc:
        if isinstance(spec, CronSpec):
            try:
                parse_cron(spec.expression)
            except TriggerError as cron_exc:
                raise TriggerError.of([*cron_exc.problems, *exc.problems]) from None
        raise
    if isinstance(spec, CronSpec):
        parse_cron(spec.expression)
    elif isinstance(spec, IntervalSpec):
        check_interval(spec)
    else:
        require_aware(spec.run_at, "run_at")
    return in_zone


def validate(spec: TriggerSpec, *, now: datetime | None = None) -> None:
    """Raise TriggerError naming what is wrong; a one-off time not after `now` is wrong too."""
    in_zone = check(spec)
    if isinstance(spec, DateSpec) and spec.run_at <= (now or datetime.now(timezone.utc)):
        raise TriggerError("run_at", f"{when(spec.run_at.astimezone(in_zone))} is in the past")


def build(spec: TriggerSpec, in_zone: ZoneInfo, *, jitter: bool) -> BaseTrigger:
    # APScheduler is imported here, not above: checking and describing specs (`jobdesk list`)
    # needs none of it (~45 ms of a small list, issue 10)
    from apscheduler.triggers.date import DateTrigger

    from jobs.cron_trigger import WallClockCronTrigger
    from jobs.interval_trigger import interval_trigger

    if isinstance(spec, AfterSpec):  # callers ask `has_times` first
        raise TriggerError(None, "an after-trigger has no fire times: its job runs when its upstream jobs finish")
    if isinstance(spec, CronSpec):
        return WallClockCronTrigger(parse_cron(spec.expression), in_zone)
    if isinstance(spec, IntervalSpec):
        return interval_trigger(spec, in_zone, jitter=jitter)
    return DateTrigger(run_date=spec.run_at.astimezone(in_zone), timezone=in_zone)


def has_times(spec: TriggerSpec) -> bool:
    """False for an after-trigger: it fires on other jobs' runs, never at a time."""
    return not isinstance(spec, AfterSpec)


def to_aps_trigger(spec: TriggerSpec) -> BaseTrigger:
    """The APScheduler trigger for `spec`; equal specs give equal `__getstate__()`.

    A one-off time in the past is accepted here (a stored job may be reconciled after it).
    """
    return build(spec, check(spec), jitter=True)


def preview_trigger(spec: TriggerSpec) -> BaseTrigger:
    """The trigger without jitter: previews show the planned slots."""
    return build(spec, check(spec), jitter=False)


def fire_times(trigger: BaseTrigger, after: datetime) -> Iterator[datetime]:
    """Fire times strictly after `after`, asked the way the scheduler asks (previous, now)."""
    after = after.astimezone(timezone.utc)
    fire = trigger.get_next_fire_time(None, after + TICK)
    while fire is not None:
        if fire > after:  # a DateTrigger answers its date even when that has passed
            yield fire
        fire = trigger.get_next_fire_time(fire, fire)


def next_fire_times(spec: TriggerSpec, count: int = 10, *, after: datetime | None = None) -> list[datetime]:
    """The next `count` fire times strictly after `after` (default now), in the spec's zone.

    Jitter is left out. Two times of a repeated hour compare equal in Python while being an
    hour apart: compare `.timestamp()` values, not the datetimes.
    """
    if not has_times(spec):
        check(spec)
        return []
    trigger = preview_trigger(spec)
    return list(islice(fire_times(trigger, after or datetime.now(timezone.utc)), max(count, 0)))


def fire_times_between(
    spec: TriggerSpec, start: datetime, end: datetime, limit: int
) -> tuple[list[datetime], bool]:
    """Fire times in (start, end], at most `limit`, and whether there were more (NOTES 16)."""
    if not has_times(spec):
        return [], False
    fires = takewhile(lambda moment: moment <= end, fire_times(preview_trigger(spec), start))
    times = list(islice(fires, max(limit, 0) + 1))
    return times[:limit], len(times) > limit
