"""Shared display helpers: times, relative times, durations, sizes and run statuses.

Every widget that shows a time or a status uses these, so the window reads the same everywhere:
"Mon 30 Nov 07:30" (local time, English names so screenshots and tests do not depend on the
machine's locale), "in 3 min" / "2 h ago", "1h 30m", "48.3 MiB", and one icon name and one
colour per `RunStatus`. Qt is imported lazily, only by the functions that return Qt objects.

A job in another time zone gets its own wall time as a label wherever its times are shown:
"Mon 7 Dec 07:00 (08:00 CET)". Without it, "At 08:00 (Europe/Paris)" next to an unlabelled
07:00 reads as a bug.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from jobs.durations import format_duration as _core_format_duration
from jobs.model import RunStatus

if TYPE_CHECKING:
    from PySide6.QtGui import QColor, QIcon, QPalette

NO_VALUE = "—"

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _local(moment: datetime) -> datetime:
    """`moment` in the machine's zone; naive datetimes are taken as local already."""
    return moment.astimezone() if moment.tzinfo is not None else moment


def _now_like(moment: datetime) -> datetime:
    return datetime.now(timezone.utc) if moment.tzinfo is not None else datetime.now()


# --- times ------------------------------------------------------------------------------------


def format_time(moment: datetime | None, *, now: datetime | None = None, seconds: bool = False,
                zone: str | None = None) -> str:  # fmt: skip
    """"Mon 30 Nov 07:30" in local time; the year is added when it is not the current one.
    With `zone` (a job's time zone) whose clock differs from local: "Mon 30 Nov 07:30 (08:30 CET)"."""
    if moment is None:
        return NO_VALUE
    local = _local(moment)
    current_year = _local(now or _now_like(moment)).year
    clock = f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"
    year = f" {local.year}" if local.year != current_year else ""
    text = f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}{year} {clock}"
    note = zone_note(moment, zone, seconds=seconds)
    return f"{text} ({note})" if note else text


def zone_note(moment: datetime, zone: str | None, *, seconds: bool = False) -> str:
    """`moment` on the wall clock of `zone` ("08:00 CET", "Tue 02:00 JST" on another day), or ""
    when `zone` is unknown or shows the same time as this machine at that moment."""
    if zone is None or moment.tzinfo is None:
        return ""
    try:
        there = moment.astimezone(ZoneInfo(zone))
    except (KeyError, ValueError, OSError):
        return ""
    here = moment.astimezone()
    if there.utcoffset() == here.utcoffset():
        return ""
    clock = f"{there:%H:%M:%S}" if seconds else f"{there:%H:%M}"
    day = f"{_WEEKDAYS[there.weekday()]} " if there.date() != here.date() else ""
    return f"{day}{clock} {zone_abbreviation(there, zone)}"


def zone_abbreviation(moment: datetime, zone: str) -> str:
    """"CET", or the zone's city ("Kolkata") where the zone has only a numeric name ("+0530")."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-" and not name[0].isdigit():
        return name
    return zone.rsplit("/", 1)[-1].replace("_", " ")


def format_clock(moment: datetime) -> str:
    """"07:30" in local time (hour labels of the timeline)."""
    return f"{_local(moment):%H:%M}"


def format_relative(moment: datetime | None, *, now: datetime | None = None) -> str:
    """"in 3 min", "2 h ago", "in 45 s", "now", "in 3 d": the distance from `now`, rounded."""
    if moment is None:
        return ""
    delta = (moment - (now or _now_like(moment))).total_seconds()
    words = _span_words(abs(delta))
    if words is None:
        return "now"
    return f"in {words}" if delta > 0 else f"{words} ago"


def _span_words(seconds: float) -> str | None:
    if seconds < 1:
        return None
    if seconds < 59.5:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = round(seconds / 3600)
    if hours < 48:
        return f"{hours} h"
    return f"{round(seconds / 86400)} d"


def format_time_with_relative(moment: datetime | None, *, now: datetime | None = None, zone: str | None = None) -> str:
    """"Mon 30 Nov 07:30 (in 3 h)"; with a `zone` that differs: "Mon 30 Nov 07:30 (08:30 CET, in 3 h)"."""
    if moment is None:
        return NO_VALUE
    notes = [note for note in (zone_note(moment, zone), format_relative(moment, now=now)) if note]
    text = format_time(moment, now=now)
    return f"{text} ({', '.join(notes)})" if notes else text


# --- amounts ----------------------------------------------------------------------------------


def format_duration(seconds: float | None) -> str:
    """"850 ms", "45s", "1h 30m"; the dash for an unknown duration (a run that never started)."""
    if seconds is None:
        return NO_VALUE
    return _core_format_duration(max(0.0, seconds))


def format_size(size: int) -> str:
    """Bytes in binary units with one decimal: "512 B", "256 KiB", "48.3 MiB"."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            if unit == "B":
                return f"{int(value)} B"
            text = f"{value:.1f}"
            return f"{text[:-2] if text.endswith('.0') else text} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


# --- statuses ---------------------------------------------------------------------------------

FAILURE_STATUSES = tuple(status for status in RunStatus if status.is_failure)


def status_text(status: RunStatus) -> str:
    """"Succeeded", "Timed out"."""
    return status.value[:1].upper() + status.value[1:]


def status_icon_name(status: RunStatus) -> str:
    """File stem under resources/icons: "status-timed-out"."""
    return "status-" + status.value.replace(" ", "-")


# Light-background and dark-background variants of one hue per status.
_STATUS_RGB: dict[RunStatus, tuple[str, str]] = {
    RunStatus.SUCCEEDED: ("#1e7b34", "#6fd38a"),
    RunStatus.FAILED: ("#c0262d", "#ff7b7b"),
    RunStatus.TIMED_OUT: ("#b3261e", "#ff8f6b"),
    RunStatus.KILLED: ("#a3262d", "#f38ba0"),
    RunStatus.INTERRUPTED: ("#9c4a00", "#ffb561"),
    RunStatus.MISSED: ("#8a6100", "#e8c15a"),
    RunStatus.SKIPPED: ("#5f6368", "#a9adb3"),
    RunStatus.QUEUED: ("#5f6368", "#a9adb3"),
    RunStatus.WAITING: ("#7443b8", "#c3a3f5"),
    RunStatus.RETRY_PENDING: ("#a35f00", "#f0b35e"),
    RunStatus.RUNNING: ("#1a5fb4", "#78aeff"),
}


def is_dark(palette: QPalette) -> bool:
    from PySide6.QtGui import QPalette as _QPalette

    return palette.color(_QPalette.ColorRole.Base).lightness() < 128


def status_colour(status: RunStatus, palette: QPalette | None = None) -> QColor:
    """A colour for `status` that reads on `palette`'s base colour (the app's when None)."""
    from PySide6.QtGui import QColor as _QColor, QGuiApplication

    palette = palette if palette is not None else QGuiApplication.palette()
    light, dark = _STATUS_RGB[status]
    return _QColor(dark if is_dark(palette) else light)


def status_icon(status: RunStatus) -> QIcon:
    """The status icon (an empty QIcon while the file does not exist)."""
    from desktop.icons import icon  # QtGui: only for callers that draw

    return icon(status_icon_name(status))
