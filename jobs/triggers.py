"""Trigger specs (jobs.model): the one module the rest of Jobdesk imports for schedules.

What it offers lives in small modules by topic; this one gathers their public names:
- jobs.cron            crontab parsing (standard cron, Vixie/cronie day rule), `TriggerError`
- jobs.cron_trigger    `WallClockCronTrigger`: cron fire times on the zone's wall clock, DST as cronie
- jobs.interval_trigger  interval triggers (days and weeks keep the wall-clock time)
- jobs.trigger_build   validation, spec -> APScheduler trigger, previews of fire times
- jobs.trigger_words   schedules in words (cached)
- jobs.dst_notes       what a schedule does at DST changes, in words
- jobs.trigger_specs   specs to and from dicts, and from command-line options
- jobs.upcoming        upcoming fires across many jobs (Upcoming table, Timeline, lists)

Names stored in databases: APScheduler's rows pickle trigger objects by module and class
name. Rows written before jobs.cron_trigger existed hold `jobs.triggers.GapSafeCronTrigger`
(alone, or two inside an APScheduler `OrTrigger`) and `jobs.triggers.WallClockIntervalTrigger`:
both names stay importable from here. Cron rows are moved to `WallClockCronTrigger` at start-up
by jobs.reconcile, keeping their stored next run time.
"""

from __future__ import annotations

from datetime import datetime, timezone

from apscheduler.triggers.cron import CronTrigger

from jobs.cron import TriggerError
from jobs.cron_trigger import WallClockCronTrigger
from jobs.dst_notes import dst_notes
from jobs.interval_trigger import WallClockIntervalTrigger
from jobs.trigger_build import fire_times_between, next_fire_times, to_aps_trigger, validate
from jobs.trigger_specs import parse_cli_trigger, spec_from_dict, spec_to_dict
from jobs.trigger_words import describe
from jobs.wall_time import local_timezone_name

__all__ = [
    "GapSafeCronTrigger",
    "TriggerError",
    "WallClockCronTrigger",
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


class GapSafeCronTrigger(CronTrigger):  # type: ignore[misc]
    """The cron trigger of earlier versions, kept only so their stored rows still load.

    No longer built: APScheduler's `CronTrigger` steps days by adding 24 hours and skipped the
    day after a spring-forward change (jobs.cron_trigger). Its answers here are still real,
    strictly later instants, as before, until jobs.reconcile replaces it.
    """

    __slots__ = ()

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if previous_fire_time is not None:
            while fire is not None and fire.timestamp() <= previous_fire_time.timestamp():
                fire = super().get_next_fire_time(fire, fire)
        return fire.astimezone(timezone.utc).astimezone(self.timezone) if fire is not None else None
