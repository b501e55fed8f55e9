"""Job definitions to and from plain dicts (the database's JSON and the TOML export share it).

`job_from_dict` is the one gate for definitions coming from outside (a TOML file, an old
database row, the local socket): it checks every field and names the one that is wrong.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any, Mapping

from jobs import triggers
from jobs.model import DateSpec, JobSpec, Notify, Overlap

_ENV_NAME = re.compile(r"^[^=\0]+$")
NAME_MAX = 200


class JobValidationError(ValueError):
    """A definition is invalid. `field` names the place ("trigger.minute", "timeout")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def within(self, prefix: str) -> "JobValidationError":
        return JobValidationError(f"{prefix}.{self.field}" if self.field else prefix, self.message)


def validate_job(spec: JobSpec, *, allow_past_date: bool = False) -> None:
    """Raise JobValidationError for the first problem of a definition.

    `allow_past_date` accepts a one-off job whose time has passed (an imported or stored job
    that already ran); new and edited jobs are refused.
    """
    if not spec.name.strip():
        raise JobValidationError("name", "must not be empty")
    if len(spec.name) > NAME_MAX:
        raise JobValidationError("name", f"is {len(spec.name)} characters long; at most {NAME_MAX}")
    if not spec.command or not spec.command[0].strip():
        raise JobValidationError("command", "must not be empty")
    if any("\0" in part for part in spec.command):
        raise JobValidationError("command", "contains a NUL character")
    for key, _value in spec.env:
        if not _ENV_NAME.match(key):
            raise JobValidationError("env", f"{key!r} is not a valid variable name")
    if spec.timeout is not None and not spec.timeout > 0:
        raise JobValidationError("timeout", f"{spec.timeout} must be more than 0 seconds")
    if spec.misfire_grace is not None and spec.misfire_grace < 0:
        raise JobValidationError("misfire_grace", f"{spec.misfire_grace} must not be negative")
    if spec.max_parallel < 1:
        raise JobValidationError("max_parallel", f"{spec.max_parallel} must be at least 1")
    trigger = spec.trigger
    now = trigger.run_at - timedelta(seconds=1) if allow_past_date and isinstance(trigger, DateSpec) else None
    try:
        triggers.validate(trigger, now=now)
    except triggers.TriggerError as exc:
        raise JobValidationError(f"trigger.{exc.field}" if exc.field else "trigger", exc.message) from exc


def job_to_dict(spec: JobSpec) -> dict[str, Any]:
    """A plain dict with only the fields that differ from the defaults (readable TOML)."""
    out: dict[str, Any] = {"id": spec.id} if spec.id else {}
    out["name"] = spec.name
    if spec.description:
        out["description"] = spec.description
    if spec.tags:
        out["tags"] = list(spec.tags)
    out["command"] = list(spec.command)
    if spec.shell:
        out["shell"] = True
    if spec.cwd:
        out["cwd"] = spec.cwd
    if spec.env:
        out["env"] = dict(spec.env)
    out["trigger"] = triggers.spec_to_dict(spec.trigger)
    if spec.timeout is not None:
        out["timeout"] = spec.timeout
    out["overlap"] = spec.overlap.value
    if spec.overlap is Overlap.PARALLEL:
        out["max_parallel"] = spec.max_parallel
    if spec.misfire_grace is not None:
        out["misfire_grace"] = spec.misfire_grace
    out["coalesce"] = spec.coalesce
    out["notify"] = spec.notify.value
    if spec.paused:
        out["paused"] = True
    return out


_KNOWN_KEYS = {
    "id", "name", "description", "tags", "command", "shell", "cwd", "env", "trigger", "timeout",
    "overlap", "max_parallel", "misfire_grace", "coalesce", "notify", "paused",
}


def job_from_dict(data: Mapping[str, Any], *, validate: bool = True, allow_past_date: bool = False) -> JobSpec:
    """Build a JobSpec from a dict; JobValidationError names the first bad field."""
    if not isinstance(data, Mapping):
        raise JobValidationError("", f"expected a table of job fields, got {type(data).__name__}")
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        raise JobValidationError(unknown[0], f"unknown field (known: {', '.join(sorted(_KNOWN_KEYS))})")
    if "trigger" not in data:
        raise JobValidationError("trigger", "is missing")
    try:
        trigger = triggers.spec_from_dict(data["trigger"])
    except triggers.TriggerError as exc:
        raise JobValidationError(f"trigger.{exc.field}" if exc.field else "trigger", exc.message) from exc
    spec = JobSpec(
        id=_str(data, "id", ""),
        name=_str(data, "name", None),
        description=_str(data, "description", ""),
        tags=tuple(_str_list(data, "tags")),
        command=tuple(_command(data)),
        shell=_bool(data, "shell", False),
        cwd=_str(data, "cwd", "") or None,
        env=tuple(sorted(_env(data).items())),
        trigger=trigger,
        timeout=_number(data, "timeout"),
        overlap=_enum(data, "overlap", Overlap, Overlap.SKIP),
        max_parallel=int(_number(data, "max_parallel") or 1),
        misfire_grace=_number(data, "misfire_grace"),
        coalesce=_bool(data, "coalesce", True),
        notify=_enum(data, "notify", Notify, Notify.FAILURE),
        paused=_bool(data, "paused", False),
    )
    if validate:
        validate_job(spec, allow_past_date=allow_past_date)
    return spec


def with_id(spec: JobSpec, job_id: str) -> JobSpec:
    return replace(spec, id=job_id)


# --- field readers: each names its field in the error ---------------------------------------


def _str(data: Mapping[str, Any], key: str, default: str | None) -> str:
    value = data.get(key, default)
    if value is None:
        raise JobValidationError(key, "is missing")
    if not isinstance(value, str):
        raise JobValidationError(key, f"expected text, got {type(value).__name__} {value!r}")
    return value


def _str_list(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JobValidationError(key, f"expected a list of text, got {value!r}")
    return value


def _command(data: Mapping[str, Any]) -> list[str]:
    value = data.get("command")
    if isinstance(value, str):  # a single string is one program (or one shell line)
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise JobValidationError("command", f"expected a non-empty list of arguments, got {value!r}")
    return value


def _env(data: Mapping[str, Any]) -> dict[str, str]:
    value = data.get("env", {})
    if not isinstance(value, Mapping):
        raise JobValidationError("env", f"expected a table of NAME = \"value\", got {value!r}")
    out = {}
    for key, item in value.items():
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise JobValidationError(f"env.{key}", f"expected text, got {item!r}")
        out[str(key)] = str(item)
    return out


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise JobValidationError(key, f"expected true or false, got {value!r}")
    return value


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str):
            from jobs.durations import parse_duration

            try:
                return parse_duration(value)
            except ValueError as exc:
                raise JobValidationError(key, str(exc)) from exc
        raise JobValidationError(key, f"expected a number of seconds, got {value!r}")
    return float(value)


def _enum(data: Mapping[str, Any], key: str, kind: Any, default: Any) -> Any:
    value = data.get(key, default.value)
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise JobValidationError(key, f"{value!r} is not one of: {allowed}") from None
