"""A stored definition row, read in full through jobs.codec (`decode_row`) or, when that is
safe, without decoding it (`PlainReader`). No SQLAlchemy here: jobs.list_local reads with sqlite3.

Decoding a definition (every field checked and turned into a JobSpec, then back into a dict for
the answer) cost ~45 us a job: most of `jobdesk list` at 10,000 jobs (issue 10). A row written
by jobs.repository holds exactly what `job_to_dict` wrote, so its JSON already is the answer's
"definition". `PlainReader.read` vouches for a row only when every field is one this module
knows and holds what `job_to_dict` writes for it (the type the codec reads it as, defaults left
out, nothing it would normalise); the trigger is read by the codec itself, once per distinct
trigger. Any other row (an unknown or rarer field, an old or hand-edited row, a broken one) is
decoded in full by the caller, as before. tests/jobs/test_listing.py compares both readings.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from jobs.codec import job_from_dict, read_trigger
from jobs.durations import LONGEST
from jobs.job_rules import JobValidationError, job_id_problem
from jobs.model import DEFAULT_SLOW_FACTOR, DEFAULT_SLOW_MARGIN, JobSpec, Notify, Overlap, TriggerSpec


@dataclass(frozen=True, slots=True)  # slots: every read of all definitions makes 10,000 of them
class StoredDefinition:
    """A definition row as stored, not yet decoded."""

    id: str
    name: str
    paused: bool
    spec: str  # JSON (jobs.codec's dict without id and paused)


def decode_row(row: Any) -> JobSpec | str:
    """The definition of a stored row (a StoredDefinition or a database row with its columns),
    decoded in full by the codec; else why it cannot be read."""
    try:
        id_problem = job_id_problem(row.id)
        if id_problem:  # stored before ids were checked: it must not name a log folder
            raise JobValidationError("id", id_problem)
        data = json.loads(row.spec)
        if isinstance(data, dict):  # id and paused have their own columns, which win
            data["id"], data["paused"] = row.id, bool(row.paused)
        return job_from_dict(data, validate=False)  # anything but an object is refused there
    except (ValueError, JobValidationError) as exc:
        return f"stored definition of job {row.id!r} ({row.name}) cannot be read: {exc}"


class PlainRow(NamedTuple):  # a tuple: one made per job, at a fraction of a frozen dataclass's cost
    """What a listing needs of one definition (a JobSpec's id, name, paused and trigger)."""

    id: str
    name: str
    paused: bool
    trigger: TriggerSpec
    definition: dict[str, Any]  # job_to_dict's dict for this job


def _text(value: Any) -> bool:
    return type(value) is str and value != ""


def _texts(value: Any) -> bool:
    return type(value) is list and len(value) > 0 and all(type(item) is str for item in value)


def _seconds(value: Any) -> bool:  # what the codec keeps of a stored number of seconds
    return type(value) is float and 0.0 <= value <= LONGEST


def _env(value: Any) -> bool:  # the codec sorts the names and makes every value text
    return (type(value) is dict and len(value) > 0 and all(type(item) is str for item in value.values())
            and list(value) == sorted(value))  # fmt: skip


_OVERLAPS = frozenset(member.value for member in Overlap)
_PARALLEL = Overlap.PARALLEL.value
_NOTIFY = frozenset(member.value for member in Notify)

# Each field this module reads as stored, with what job_to_dict writes for it; in job_to_dict's
# order (the answer's key order). Fields not here ("requires", the retry fields, any new one)
# send the row to the codec.
_FIELDS: dict[str, Callable[[Any], bool]] = {
    "name": lambda value: type(value) is str,
    "description": _text,
    "tags": _texts,
    "command": _texts,
    "shell": lambda value: value is True,
    "cwd": _text,
    "env": _env,
    "trigger": lambda value: True,  # read by the codec (read_trigger)
    "timeout": _seconds,
    "overlap": lambda value: type(value) is str and value in _OVERLAPS,
    "max_parallel": lambda value: type(value) is int,
    "misfire_grace": _seconds,
    "coalesce": lambda value: type(value) is bool,
    "notify": lambda value: type(value) is str and value in _NOTIFY,
    "condition_deadline": _seconds,
    "email": _texts,
    "webhooks": _texts,
    "expect": _texts,
    "runs_on": _text,
    "slow_factor": lambda value: type(value) is float and math.isfinite(value) and value != DEFAULT_SLOW_FACTOR,
    "slow_margin": lambda value: _seconds(value) and value != DEFAULT_SLOW_MARGIN,
    "run_with": _text,
}
_ALWAYS = frozenset({"name", "command", "trigger", "overlap", "coalesce", "notify"})  # job_to_dict writes them
_BEFORE_PAUSED = frozenset(list(_FIELDS)[: list(_FIELDS).index("runs_on")])  # job_to_dict writes "paused" after them


class PlainReader:
    """Reads rows for a listing; keeps each distinct trigger it read (many jobs share one) and
    each distinct set of fields (most rows have the same few)."""

    def __init__(self) -> None:
        self._triggers: dict[tuple[tuple[Any, ...], tuple[type, ...]], tuple[TriggerSpec, dict[str, Any]] | None] = {}
        self._plans: dict[tuple[str, ...], _Plan | None] = {}

    def read(self, row: StoredDefinition) -> PlainRow | None:
        """The row as a PlainRow, or None when it must be decoded in full (see the docstring)."""
        try:
            data = json.loads(row.spec)
        except ValueError:
            return None
        if type(data) is not dict or job_id_problem(row.id) is not None:
            return None
        fields = tuple(data)
        try:
            plan = self._plans[fields]
        except KeyError:
            plan = self._plans[fields] = _plan(fields)
        if plan is None:
            return None
        for key, plain in plan.checks:
            if not plain(data[key]):
                return None
        if plan.parallel != (data["overlap"] == _PARALLEL):
            return None  # job_to_dict writes max_parallel exactly for parallel jobs
        trigger = self._trigger(data["trigger"])
        if trigger is None:
            return None
        spec, data["trigger"] = trigger
        if row.paused:
            out: dict[str, Any] = {"id": row.id}
            for key in plan.before_paused:
                out[key] = data[key]
            out["paused"] = True
            for key in plan.after_paused:
                out[key] = data[key]
        else:
            out = {"id": row.id, **{key: data[key] for key in plan.order}}
        return PlainRow(row.id, data["name"], row.paused, spec, out)

    def _trigger(self, stored: Any) -> tuple[TriggerSpec, dict[str, Any]] | None:
        if type(stored) is not dict or stored.get("type") == "after":  # after-jobs: decoded in full
            return None
        try:  # with each value's type: 2 and 2.0 (or 1 and true) are equal keys, not equal to the codec
            key = (tuple(stored.items()), tuple(map(type, stored.values())))
            hash(key)
        except TypeError:  # a list or table inside: not a trigger this module reads
            return None
        if key not in self._triggers:
            from jobs.triggers import spec_to_dict

            try:
                spec = read_trigger({"trigger": stored})
            except Exception:  # the codec says what is wrong when it decodes the row in full
                self._triggers[key] = None
            else:
                self._triggers[key] = (spec, spec_to_dict(spec))
        return self._triggers[key]


@dataclass(frozen=True)
class _Plan:
    """How to read rows with one set of fields: their checks, and the answer's key order."""

    checks: tuple[tuple[str, Callable[[Any], bool]], ...]
    parallel: bool  # whether max_parallel is among them
    before_paused: tuple[str, ...]
    after_paused: tuple[str, ...]
    order: tuple[str, ...]  # both, for a job not paused


def _plan(fields: tuple[str, ...]) -> _Plan | None:
    if not _ALWAYS <= set(fields) or not set(fields) <= _FIELDS.keys():
        return None
    order = [key for key in _FIELDS if key in fields]
    before, after = tuple(key for key in order if key in _BEFORE_PAUSED), tuple(key for key in order if key not in _BEFORE_PAUSED)
    return _Plan(tuple((key, _FIELDS[key]) for key in fields), "max_parallel" in fields, before, after, before + after)
