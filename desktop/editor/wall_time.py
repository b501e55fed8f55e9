"""Date-time edits that hold a wall-clock time of the dialog's time zone, not of this machine.

A QDateTimeEdit in local time silently skips the wall times of this machine's DST gaps, which
may well exist in the job's zone. The edits here work in UTC (no gaps) and only their fields
are read: `aware_from_edit` gives them the chosen zone and refuses a time that does not exist
there ("clocks go forward"), with the same words as jobs.triggers.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, QTime, QTimeZone
from PySide6.QtWidgets import QDateTimeEdit, QWidget

from jobs.triggers import TriggerError

DISPLAY_FORMAT = "ddd yyyy-MM-dd HH:mm"
_UTC = QTimeZone(QTimeZone.Initialization.UTC)


def make_datetime_edit(object_name: str, parent: QWidget) -> QDateTimeEdit:
    edit = QDateTimeEdit(parent)
    edit.setObjectName(object_name)
    edit.setAccessibleName(object_name)
    edit.setTimeZone(_UTC)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat(DISPLAY_FORMAT)
    edit.setMinimumDateTime(QDateTime(QDate(1970, 1, 2), QTime(0, 0), _UTC))
    edit.setMaximumDateTime(QDateTime(QDate(9998, 12, 31), QTime(23, 59, 59), _UTC))
    return edit


def default_start(zone_name: str | None = None) -> datetime:
    """The next full hour as a naive wall-clock time of `zone_name` (default: this machine's)."""
    try:
        zone = ZoneInfo(zone_name) if zone_name else None
    except (KeyError, OSError, ValueError):
        zone = None
    now = datetime.now(zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    return now + timedelta(hours=1)


def set_edit_from(edit: QDateTimeEdit, moment: datetime, zone_name: str | None = None) -> None:
    """Show `moment` (aware: as seen in `zone_name`; naive: as it is)."""
    if moment.tzinfo is not None and zone_name:
        try:
            moment = moment.astimezone(ZoneInfo(zone_name))
        except (KeyError, OSError, ValueError):
            pass  # an unknown zone is reported by the combo; show the time as stored
    edit.setDateTime(
        QDateTime(QDate(moment.year, moment.month, moment.day), QTime(moment.hour, moment.minute, moment.second), _UTC)
    )


def wall_from_edit(edit: QDateTimeEdit) -> datetime:
    value = edit.dateTime()
    day, clock = value.date(), value.time()
    return datetime(day.year(), day.month(), day.day(), clock.hour(), clock.minute(), clock.second())


def aware_from_edit(edit: QDateTimeEdit, zone_name: str, field: str) -> datetime:
    """The edit's wall time in `zone_name`; TriggerError(field) when it does not exist there.

    A wall time that happens twice is the first of the two (fold=0).
    """
    naive = wall_from_edit(edit)
    try:
        zone = ZoneInfo(zone_name)
    except (KeyError, OSError, ValueError):
        raise TriggerError("timezone", f"{zone_name!r} is not a known time zone") from None
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != naive:
        raise TriggerError(field, f"{naive:%Y-%m-%d %H:%M} does not exist in {zone_name} (clocks go forward)")
    return aware
