"""Durations as people type and read them: "90s", "15m", "1h30m", "1.5h" and back ("1h 30m").

Used for timeouts, grace periods and `--every` on the command line. Plain numbers are seconds,
except where a bare number is more likely a slip than a choice (`--every 1`): there callers ask
for `require_unit`. Nothing longer than `LONGEST` is a duration: 400 typed digits used to become
float infinity (stored as `Infinity`, an OverflowError later), and 100 years keeps every date
computation of a schedule far from `datetime`'s year 9999.
"""

from __future__ import annotations

import math
import re

LONGEST = 100 * 365.25 * 86_400.0  # seconds: "100 years"

# Largest first: format_duration walks this list; "ms" only exists so that what
# format_duration writes for short runs ("850 ms") can be read back.
_UNIT_SECONDS = {"w": 604_800.0, "d": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*(ms|[smhdw])", re.ASCII)
_PLAIN_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)
_FORMAT_UNITS = ("d", "h", "m", "s")  # weeks read oddly ("2w 1d"); "15d" is clearer
_ECHO_MAX = 40  # characters of the user's text repeated in an error


class DurationNeedsUnit(ValueError):
    """A bare number where a unit is required; the message suggests units."""


def echo(text: str, limit: int = _ECHO_MAX) -> str:
    """`text` as quoted in an error: repr (shows odd bytes safely), cut when very long."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} characters)"


def parse_duration(text: str, *, require_unit: bool = False) -> float:
    """Seconds in `text`: "90s", "15m", "2h", "1d", "1w", "1h30m", "1h 30m", "1.5h" or "90".

    Raises ValueError naming the text when it is not a duration or is longer than 100 years;
    with `require_unit`, DurationNeedsUnit for a bare number ("1").
    """
    cleaned = text.strip().lower()
    if _PLAIN_NUMBER.fullmatch(cleaned):
        if require_unit:
            shown = cleaned if len(cleaned) <= 20 else echo(cleaned, 20)
            raise DurationNeedsUnit(f"{shown} needs a unit, e.g. {_suggest(cleaned)}")
        return _bounded(float(cleaned), text)
    position, total = 0, 0.0
    for match in _PART.finditer(cleaned):
        if cleaned[position : match.start()].strip():
            break  # something that is not a number+unit sits between two parts
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position == 0 or cleaned[position:].strip():
        raise ValueError(
            f"{echo(text)} is not a duration: use a number with s, m, h, d or w, like 90s, 15m, 2h or 1d"
        )
    return _bounded(total, text)


def _bounded(seconds: float, text: str) -> float:
    if not math.isfinite(seconds) or seconds > LONGEST:
        raise ValueError(f"{echo(text)} is longer than 100 years")
    return seconds


def _suggest(number: str) -> str:
    """"1m, 1h" for "1": the same number with the units people most likely meant."""
    shown = number if len(number) <= 8 else "1"
    return f"{shown}m, {shown}h"


def format_duration(seconds: float) -> str:
    """Short words for a duration: "850 ms" below a second, else "45s", "1h 30m", "2d 3h"."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    millis = round(seconds * 1000)
    if 0 < millis < 1000:
        return f"{millis} ms"
    remaining = round(seconds)
    parts = []
    for unit in _FORMAT_UNITS:
        count, remaining = divmod(remaining, int(_UNIT_SECONDS[unit]))
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts) or "0s"
