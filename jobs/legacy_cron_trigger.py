"""`GapSafeCronTrigger`, the cron trigger of earlier versions: named `jobs.triggers.GapSafeCronTrigger`
in the APScheduler rows they wrote, and importable by that name (jobs.triggers loads this module
when the name is asked for, so that reading specs does not import APScheduler).
"""

from __future__ import annotations

from datetime import datetime, timezone

from apscheduler.triggers.cron import CronTrigger


class GapSafeCronTrigger(CronTrigger):  # type: ignore[misc]
    """The cron trigger of earlier versions, kept only so their stored rows still load.

    No longer built: APScheduler's `CronTrigger` steps days by adding 24 hours and skipped the
    day after a spring-forward change (jobs.cron_trigger). Its answers here are still real,
    strictly later instants, as before, until jobs.reconcile replaces it.
    """

    __module__ = "jobs.triggers"  # the name its pickled rows hold
    __slots__ = ()

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        if previous_fire_time is not None:
            while fire is not None and fire.timestamp() <= previous_fire_time.timestamp():
                fire = super().get_next_fire_time(fire, fire)
        return fire.astimezone(timezone.utc).astimezone(self.timezone) if fire is not None else None
