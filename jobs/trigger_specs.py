"""Trigger specs to and from plain dicts (database JSON, TOML export) and command-line options.

Dicts are checked for keys and types only, not `validate`d: a stored one-off job whose time
has passed must still load. Command-line options are validated in full.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from jobs.cron import TriggerError, join_words
from jobs.durations import parse_duration
from jobs.interval_rules import UNIT_SECONDS
from jobs.model import INTERVAL_UNITS, AfterSpec, CronSpec, DateSpec, IntervalSpec, TriggerSpec
from jobs.trigger_build import validate
from jobs.wall_time import local_timezone_name, localize, require_aware, zone as find_zone

_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {  # type -> (required, optional)
    "cron": (frozenset({"expression", "timezone"}), frozenset()),
    "interval": (frozenset({"amount", "unit", "timezone"}), frozenset({"start", "end", "jitter"})),
    "date": (frozenset({"run_at", "timezone"}), frozenset()),
    "after": (frozenset({"jobs"}), frozenset({"status", "timezone"})),
}


def spec_to_dict(spec: TriggerSpec) -> dict[str, Any]:
    """A JSON/TOML-able dict; times as ISO 8601 with offset; unset fields left out."""
    if isinstance(spec, CronSpec):
        return {"type": "cron", "expression": spec.expression, "timezone": spec.timezone}
    if isinstance(spec, DateSpec):
        return {"type": "date", "run_at": spec.run_at.isoformat(), "timezone": spec.timezone}
    if isinstance(spec, AfterSpec):
        return {"type": "after", "jobs": list(spec.jobs), "status": spec.status, "timezone": spec.timezone}
    if not isinstance(spec, IntervalSpec):
        raise TriggerError(None, f"expected a CronSpec, IntervalSpec, DateSpec or AfterSpec, got {type(spec).__name__}")
    out: dict[str, Any] = {"type": "interval", "amount": spec.amount, "unit": spec.unit}
    out["timezone"] = spec.timezone
    for key in ("start", "end"):
        moment = getattr(spec, key)
        if moment is not None:
            out[key] = moment.isoformat()
    if spec.jitter is not None:
        out["jitter"] = spec.jitter
    return out


def spec_from_dict(data: Mapping[str, Any]) -> TriggerSpec:
    """The spec of `spec_to_dict`'s dict, checking keys and types (not `validate`: a stored
    one-off job in the past must still load). Times come back in the spec's zone."""
    if not isinstance(data, Mapping):
        raise TriggerError(None, f"expected a table with a type key, got {type(data).__name__}")
    kind = data.get("type")
    if kind not in _KEYS:
        problem = "is missing" if kind is None else f"{kind!r} is not known"
        raise TriggerError("type", f"{problem}: use cron, interval, date or after")
    required, optional = _KEYS[kind]
    unknown = sorted(set(data) - required - optional - {"type"})
    if unknown:
        known = ", ".join(sorted(required | optional))
        raise TriggerError(unknown[0], f"unknown key for a {kind} trigger (known: {known})")
    missing = sorted(required - set(data))
    if missing:
        raise TriggerError(missing[0], "is missing")
    if kind == "after":
        return _after(data)
    tz_name = _text(data, "timezone")
    in_zone = find_zone(tz_name)
    if kind == "cron":
        return CronSpec(_text(data, "expression"), tz_name)
    if kind == "date":
        return DateSpec(_moment(data["run_at"], in_zone, "run_at"), tz_name)
    return IntervalSpec(
        amount=_whole(data["amount"], "amount"),
        unit=_text(data, "unit"),
        timezone=tz_name,
        start=_moment(data["start"], in_zone, "start") if "start" in data else None,
        end=_moment(data["end"], in_zone, "end") if "end" in data else None,
        jitter=_whole(data["jitter"], "jitter") if "jitter" in data else None,
    )


def _after(data: Mapping[str, Any]) -> AfterSpec:
    """`jobs` is a list of job ids (or names, which jobs.chains resolves when the job is saved)."""
    jobs = data["jobs"]
    if isinstance(jobs, str):
        jobs = [jobs]
    if not isinstance(jobs, list) or not all(isinstance(item, str) for item in jobs):
        raise TriggerError("jobs", f"expected a list of job ids, got {jobs!r}")
    status = data.get("status", "success")
    if not isinstance(status, str):
        raise TriggerError("status", f"expected text, got {status!r}")
    return AfterSpec(tuple(jobs), status, _text(data, "timezone") if "timezone" in data else local_timezone_name())


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise TriggerError(key, f"expected text, got {value!r}")
    return value


def _whole(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TriggerError(key, f"expected a whole number, got {value!r}")
    return value


def _moment(value: Any, in_zone: ZoneInfo, key: str) -> datetime:
    """An ISO 8601 string with offset, or a TOML datetime."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise TriggerError(key, f"{value!r} is not an ISO 8601 date and time") from None
    if not isinstance(value, datetime):
        raise TriggerError(key, f"expected a date and time, got {value!r}")
    require_aware(value, key)
    return value.astimezone(in_zone)


# --- command line ---------------------------------------------------------------------------


def parse_cli_trigger(
    cron: str | None, every: str | None, at: str | None, tz: str | None, *, now: datetime | None = None
) -> TriggerSpec:
    """The spec for `add --cron EXPR | --every DURATION | --at DATETIME [--tz TZ]`, validated.

    `--every` starts now (to the second) and uses the largest unit that divides it evenly;
    a naive `--at` is a wall-clock time in the zone (default: the local one).
    """
    options = (("--cron", cron), ("--every", every), ("--at", at))
    given = [option for option, value in options if value is not None]
    if len(given) != 1:
        got = f" (got {join_words(given)})" if given else ""
        raise TriggerError(None, f"give exactly one of --cron, --every or --at{got}")
    tz_name = tz or local_timezone_name()
    in_zone = find_zone(tz_name)
    now = now or datetime.now(timezone.utc)
    spec: TriggerSpec
    if cron is not None:
        spec = CronSpec(" ".join(cron.split()), tz_name)
    elif every is not None:
        spec = _every(every, tz_name, now.astimezone(in_zone).replace(microsecond=0))
    else:
        spec = DateSpec(_cli_moment(at or "", in_zone), tz_name)
    validate(spec, now=now)
    return spec


def _every(text: str, tz_name: str, start: datetime) -> IntervalSpec:
    try:
        seconds = parse_duration(text)
    except ValueError as exc:
        raise TriggerError("every", str(exc)) from None
    whole = round(seconds)
    if whole < 1 or abs(seconds - whole) > 1e-6:  # 1e-6 forgives float noise like 1.1h
        raise TriggerError("every", f"{text!r} is not a whole number of seconds (at least 1s)")
    unit = next(unit for unit in INTERVAL_UNITS if whole % UNIT_SECONDS[unit] == 0)
    return IntervalSpec(whole // UNIT_SECONDS[unit], unit, tz_name, start=start)


def _cli_moment(text: str, in_zone: ZoneInfo) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TriggerError(
            "at", f"{text!r} is not a date and time: write it like 2026-12-01 09:00 or 2026-12-01T09:00+01:00"
        ) from None
    if moment.tzinfo is None:
        moment = localize(moment, in_zone, "at")
    return moment.astimezone(in_zone)
