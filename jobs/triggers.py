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

from importlib import import_module
from typing import TYPE_CHECKING, Any

from jobs.cron import TriggerError
from jobs.trigger_build import fire_times_between, next_fire_times, to_aps_trigger, validate
from jobs.trigger_specs import parse_cli_trigger, spec_from_dict, spec_to_dict
from jobs.trigger_words import describe
from jobs.wall_time import local_timezone_name

if TYPE_CHECKING:
    from jobs.cron_trigger import WallClockCronTrigger
    from jobs.dst_notes import dst_notes
    from jobs.interval_trigger import WallClockIntervalTrigger
    from jobs.legacy_cron_trigger import GapSafeCronTrigger

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

# Loaded when first asked for (PEP 562): they import APScheduler, which reading and describing
# specs (`jobdesk list`) does without (~45 ms of a small list, issue 10). Pickled rows name the
# two triggers here; pickle looks them up with getattr, which lands here too.
_LAZY = {
    "GapSafeCronTrigger": "jobs.legacy_cron_trigger",
    "WallClockCronTrigger": "jobs.cron_trigger",
    "WallClockIntervalTrigger": "jobs.interval_trigger",
    "dst_notes": "jobs.dst_notes",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value  # asked once
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
