"""Time zones and wall-clock times as the trigger modules look them up and word them.

Shared by validation, words, DST notes and the command-line parser so that an error message
and a preview write a time the same way ("2026-12-01 09:00", "Tue 1 Dec 2026 at 09:00"),
in English whatever the C locale says.
"""

from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal

from jobs.cron import MONTH_NAMES, TriggerError

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def local_timezone_name() -> str:
    """IANA name of this machine's zone, "UTC" when it cannot be told."""
    try:
        name = tzlocal.get_localzone_name()
        ZoneInfo(name)
    except Exception:  # tzlocal raises assorted errors on odd systems; UTC is a safe answer
        return "UTC"
    return name


def zone(name: str) -> ZoneInfo:
    """The zone called `name`; TriggerError("timezone", ...) when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise TriggerError("timezone", f"{name!r} is not a known time zone") from None


def clock(moment: datetime | time) -> str:
    """"09:00", with seconds only when there are some."""
    return f"{moment:%H:%M:%S}" if moment.second else f"{moment:%H:%M}"


def day_words(day: date) -> str:
    """"Tue 24 Nov 2026"."""
    return f"{WEEKDAY_NAMES[day.weekday()][:3]} {day.day} {MONTH_NAMES[day.month - 1][:3]} {day.year}"


def when(moment: datetime) -> str:
    """"2026-11-24 09:00"."""
    return f"{moment:%Y-%m-%d} {clock(moment)}"


def long_when(moment: datetime) -> str:
    """"Tue 24 Nov 2026 at 09:00"."""
    return f"{day_words(moment)} at {clock(moment)}"


def require_aware(moment: datetime, field: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TriggerError(field, f"{when(moment)} has no time zone or UTC offset")


def localize(naive: datetime, in_zone: ZoneInfo, field: str) -> datetime:
    """`naive` as a wall-clock time in `in_zone`; the first of two when it repeats."""
    aware = naive.replace(tzinfo=in_zone)
    if aware.astimezone(timezone.utc).astimezone(in_zone).replace(tzinfo=None) != naive:
        raise TriggerError(field, f"{when(naive)} does not exist in {in_zone.key} (clocks go forward)")
    return aware
