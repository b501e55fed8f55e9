"""Job definitions to and from plain dicts (the database's JSON and the TOML export share it).

`job_from_dict` is the one gate for definitions coming from outside (a TOML file, an old
database row, the local socket): it checks every field and lists every one that is wrong
(the rules themselves are in jobs.job_rules, re-exported here).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import Any, Callable, Mapping, TypeVar

from jobs import triggers
from jobs.conditions.requirements import normalized
from jobs.durations import LONGEST, parse_duration
from jobs.job_rules import (  # noqa: F401  (re-exported: the codec's API since the first release)
    EARLIEST_YEAR,
    LATEST_YEAR,
    NAME_MAX,
    JobValidationError,
    Problem,
    check_job_id,
    job_id_problem,
    job_problems,
    seconds_problems,
    trigger_error_problems,
    unique_problems,
    validate_job,
)
from jobs.model import DEFAULT_SLOW_FACTOR, DEFAULT_SLOW_MARGIN, CronSpec, JobSpec, Notify, Overlap, TriggerSpec

T = TypeVar("T")


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
    if spec.requires:
        out["requires"] = list(spec.requires)
    if spec.condition_deadline is not None:
        out["condition_deadline"] = spec.condition_deadline
    if spec.email:
        out["email"] = list(spec.email)
    if spec.webhooks:
        out["webhooks"] = list(spec.webhooks)
    if spec.expect:
        out["expect"] = list(spec.expect)
    if spec.paused:
        out["paused"] = True
    if spec.runs_on:
        out["runs_on"] = spec.runs_on
    if spec.slow_factor != DEFAULT_SLOW_FACTOR:
        out["slow_factor"] = spec.slow_factor
    if spec.slow_margin != DEFAULT_SLOW_MARGIN:
        out["slow_margin"] = spec.slow_margin
    if spec.retries:  # jobs.retries: written with all its settings, so a reader sees them together
        out.update(retries=spec.retries, retry_delay=spec.retry_delay, retry_backoff=spec.retry_backoff,
                   retry_on=list(spec.retry_on))
        if spec.retry_max is not None:
            out["retry_max"] = spec.retry_max
        if spec.retry_on_exit:
            out["retry_on_exit"] = list(spec.retry_on_exit)
    if spec.run_with:
        out["run_with"] = spec.run_with
    return out


_FIELDS = [  # in the order a definition is written; problems are listed in this order
    "id", "name", "description", "tags", "command", "shell", "cwd", "env", "trigger", "timeout",
    "overlap", "max_parallel", "misfire_grace", "coalesce", "notify", "requires", "condition_deadline",
    "email", "webhooks", "expect", "paused", "runs_on", "run_with", "slow_factor", "slow_margin",
    "retries", "retry_delay", "retry_backoff", "retry_max", "retry_on", "retry_on_exit",
]
_KNOWN_KEYS = set(_FIELDS)
_RETRY_ON = ["failure", "timeout"]  # the default of `retry_on`


def job_from_dict(data: Mapping[str, Any], *, validate: bool = True, allow_past_date: bool = False) -> JobSpec:
    """Build a JobSpec from a dict; JobValidationError lists every bad field (the first in its
    message). A trigger without `timezone` uses this machine's zone, as `jobdesk add` does."""
    if not isinstance(data, Mapping):
        raise JobValidationError("", f"expected a table of job fields, got {type(data).__name__}")
    problems: list[Problem] = []

    def read(reader: Callable[[], T], fallback: T) -> T:
        try:
            return reader()
        except JobValidationError as exc:
            problems.extend(exc.problems)
            return fallback

    known = ", ".join(sorted(_KNOWN_KEYS))
    problems += [(str(key), f"unknown field (known: {known})") for key in sorted(set(data) - _KNOWN_KEYS, key=str)]
    trigger = read(lambda: _trigger(data), None)
    spec = JobSpec(
        id=read(lambda: _str(data, "id", ""), ""),
        name=read(lambda: _str(data, "name", None), "?"),
        description=read(lambda: _str(data, "description", ""), ""),
        tags=tuple(read(lambda: _str_list(data, "tags"), [])),
        command=tuple(read(lambda: _command(data), ["?"])),
        shell=read(lambda: _bool(data, "shell", False), False),
        cwd=read(lambda: _str(data, "cwd", ""), "") or None,
        env=tuple(sorted(read(lambda: _env(data), dict[str, str]()).items())),
        trigger=trigger or CronSpec("0 0 1 1 *", "UTC"),  # stands in while reporting problems
        timeout=read(lambda: _number(data, "timeout", stored=not validate), None),
        overlap=read(lambda: _enum(data, "overlap", Overlap, Overlap.SKIP), Overlap.SKIP),
        max_parallel=read(lambda: _whole(data, "max_parallel", 1), 1),
        misfire_grace=read(lambda: _number(data, "misfire_grace", stored=not validate), None),
        coalesce=read(lambda: _bool(data, "coalesce", True), True),
        notify=read(lambda: _enum(data, "notify", Notify, Notify.FAILURE), Notify.FAILURE),
        requires=tuple(read(lambda: _requirements(data), [])),
        condition_deadline=read(lambda: _number(data, "condition_deadline", stored=not validate), None),
        email=tuple(read(lambda: _str_list(data, "email", single=True), [])),
        webhooks=tuple(read(lambda: _str_list(data, "webhooks", single=True), [])),
        expect=tuple(read(lambda: _str_list(data, "expect", single=True), [])),
        paused=read(lambda: _bool(data, "paused", False), False),
        runs_on=read(lambda: _str(data, "runs_on", ""), "") or None,
        slow_factor=read(lambda: _factor(data, "slow_factor", DEFAULT_SLOW_FACTOR), DEFAULT_SLOW_FACTOR),
        slow_margin=read(lambda: _margin(data, stored=not validate), DEFAULT_SLOW_MARGIN),
        retries=read(lambda: _whole(data, "retries", 0), 0),
        retry_delay=read(lambda: _number(data, "retry_delay") or 0.0 if data.get("retry_delay") is not None else 30.0, 30.0),
        retry_backoff=read(lambda: _factor(data, "retry_backoff", 2.0), 2.0),
        retry_max=read(lambda: _number(data, "retry_max", stored=not validate), None),
        retry_on=tuple(read(lambda: _str_list(data, "retry_on", single=True) if "retry_on" in data else _RETRY_ON, _RETRY_ON)),
        retry_on_exit=tuple(read(lambda: _exit_codes(data, "retry_on_exit"), [1])),  # [1] stands in: not "nothing to retry on"
        run_with=read(lambda: _str(data, "run_with", ""), "") or None,
    )
    if validate:
        failed = {field.split(".")[0] for field, _ in problems}  # stand-ins are not checked again
        more = job_problems(spec, allow_past_date=allow_past_date, check_trigger=trigger is not None)
        problems += [problem for problem in more if problem[0].split(".")[0] not in failed]
    if problems:
        raise JobValidationError.of(sorted(unique_problems(problems), key=_field_order))
    return spec


_FIELD_ORDER = {key: index for index, key in enumerate(_FIELDS)}


def _field_order(problem: Problem) -> int:
    """Problems in the order a definition is written (unknown fields last)."""
    return _FIELD_ORDER.get(problem[0].split(".")[0], len(_FIELD_ORDER))


def with_id(spec: JobSpec, job_id: str) -> JobSpec:
    return replace(spec, id=job_id)


# --- field readers: each names its field in the error ---------------------------------------


def read_trigger(data: Mapping[str, Any]) -> TriggerSpec:
    """The trigger of a definition dict, read as job_from_dict reads it (jobs.stored_rows reads
    it alone); JobValidationError if it cannot be."""
    return _trigger(data)


def _trigger(data: Mapping[str, Any]) -> TriggerSpec:
    value = data.get("trigger")
    if value is None:
        raise JobValidationError("trigger", "is missing")
    if isinstance(value, Mapping) and "timezone" not in value:
        value = {**value, "timezone": triggers.local_timezone_name()}
    if isinstance(value, Mapping):
        if "type" in value and not isinstance(value["type"], str):
            raise JobValidationError("trigger.type", f"expected cron, interval, date or after, got {_shown(value['type'])}")
        _check_years(value)
    try:
        return triggers.spec_from_dict(value)
    except triggers.TriggerError as exc:
        raise JobValidationError.of(trigger_error_problems(exc)) from exc
    except (OverflowError, ValueError, TypeError) as exc:  # a date at datetime's edge, a value of an odd type
        raise JobValidationError("trigger", f"cannot be read: {exc}") from exc


def _check_years(trigger: Mapping[str, Any]) -> None:
    """Dates next to datetime's limits overflow in zone conversions: refuse them by year first."""
    problems = []
    for key in ("run_at", "start", "end"):
        value = trigger.get(key)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                continue  # the trigger layer says what is wrong with it
        if isinstance(value, datetime) and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            problems.append((f"trigger.{key}", f"year {value.year} is outside {EARLIEST_YEAR}-{LATEST_YEAR}"))
    if problems:
        raise JobValidationError.of(problems)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def _str(data: Mapping[str, Any], key: str, default: str | None) -> str:
    value = data.get(key, default)
    if value is None:
        raise JobValidationError(key, "is missing")
    if not isinstance(value, str):
        raise JobValidationError(key, f"expected text, got {type(value).__name__} {_shown(value)}")
    return value


def _str_list(data: Mapping[str, Any], key: str, *, single: bool = False) -> list[str]:
    """A list of text (`single`: one text alone is a list of one)."""
    value = data.get(key, [])
    if single and isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise JobValidationError(key, f"expected a list of text, got {_shown(value)}")
    return value


def _requirements(data: Mapping[str, Any]) -> list[str]:
    """Conditions in their canonical spelling ("AC" is "ac-power"), each once."""
    texts = _str_list(data, "requires", single=True)
    try:
        return list(normalized(texts))
    except ValueError as exc:
        raise JobValidationError("requires", str(exc)) from None


def _command(data: Mapping[str, Any]) -> list[str]:
    value = data.get("command")
    if isinstance(value, str):  # a single string is one program (or one shell line)
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise JobValidationError("command", f"expected a non-empty list of arguments, got {_shown(value)}")
    return value


def _env(data: Mapping[str, Any]) -> dict[str, str]:
    value = data.get("env", {})
    if not isinstance(value, Mapping):
        raise JobValidationError("env", f"expected a table of NAME = \"value\", got {_shown(value)}")
    out = {}
    for key, item in value.items():
        if not isinstance(item, (str, int, float)) or isinstance(item, bool):
            raise JobValidationError(f"env.{key}", f"expected text, got {_shown(item)}")
        out[str(key)] = str(item)
    return out


def _bool(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise JobValidationError(key, f"expected true or false, got {_shown(value)}")
    return value


def _number(data: Mapping[str, Any], key: str, *, stored: bool = False) -> float | None:
    """Seconds: a number, or a duration in words ("20m"); finite, at most 100 years.

    A `stored` definition saved before that rule with an infinite or NaN value keeps working
    as "no limit" (what infinity meant) instead of becoming unreadable.
    """
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise JobValidationError(key, str(exc)) from exc
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise JobValidationError(key, f"expected a number of seconds, got {_shown(value)}")
    try:
        seconds = float(value)
    except OverflowError:
        seconds = math.inf
    if stored and (not math.isfinite(seconds) or seconds > LONGEST):
        return None
    problems = seconds_problems(key, seconds, positive=False)
    if problems:
        raise JobValidationError.of(problems)
    return seconds


def _margin(data: Mapping[str, Any], *, stored: bool) -> float:
    value = _number(data, "slow_margin", stored=stored)
    return DEFAULT_SLOW_MARGIN if value is None else value


def _factor(data: Mapping[str, Any], key: str, default: float) -> float:
    """A plain finite number ("2", 2, 2.5; as typed or stored); its range is a rule of the job (jobs.job_rules)."""
    value = data.get(key, default)
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise JobValidationError(key, f"expected a number, got {_shown(value)}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise JobValidationError(key, f"expected a number, got {_shown(value)}")
    return float(value)


def _whole(data: Mapping[str, Any], key: str, default: int) -> int:
    """A whole number; 2.0 is 2, but 1.5, inf and nan are refused (they were silently 1)."""
    value = data.get(key, default)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 2**53:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise JobValidationError(key, f"expected a whole number, got {_shown(value)}")
    return value


def _exit_codes(data: Mapping[str, Any], key: str) -> list[int]:
    """Whole numbers: a list, one number, or text "75,111" as typed on the command line."""
    value = data.get(key, [])
    if isinstance(value, str):
        value = [part.strip() for part in value.replace(",", " ").split()]
    elif not isinstance(value, list):
        value = [value]
    out = []
    for item in value:
        if isinstance(item, str) and item.lstrip("-").isdigit() and len(item) < 10:
            item = int(item)
        if isinstance(item, float) and item.is_integer():
            item = int(item)
        if isinstance(item, bool) or not isinstance(item, int):
            raise JobValidationError(key, f"expected exit codes (whole numbers), got {_shown(item)}")
        out.append(item)
    return list(dict.fromkeys(out))


def _enum(data: Mapping[str, Any], key: str, kind: Any, default: Any) -> Any:
    value = data.get(key, default.value)
    try:
        return kind(value)
    except (ValueError, TypeError):
        allowed = ", ".join(member.value for member in kind)
        raise JobValidationError(key, f"{_shown(value)} is not one of: {allowed}") from None
