"""JobSpecs built straight from stored rows that jobs.stored_rows.PlainReader vouches for.

Reading every definition through `job_from_dict` cost ~40 us a job (a closure per field, every
value checked again, enums parsed): 0.4 s of 10,000 jobs on the window's start and `serve`'s
(issue 10). A vouched row holds exactly what `job_to_dict` wrote (each value already of the type
the codec makes of it, defaults left out) and its trigger was read by the codec, so its JobSpec
is the row's values put in place. Any other row (an after-job, retries or conditions, an old or
hand-edited row, one with a field this module does not know) is decoded in full by the caller.
tests/jobs/test_plain_spec.py compares both readings field by field.
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

from jobs.model import DEFAULT_SLOW_FACTOR, DEFAULT_SLOW_MARGIN, JobSpec, Notify, Overlap
from jobs.stored_rows import PlainReader, PlainRow

_OVERLAPS = {member.value: member for member in Overlap}
_NOTIFY = {member.value: member for member in Notify}

# The JobSpec fields this module puts in place, in the order `spec_of` gives them. They are also
# the keys of a PlainRow's definition it reads: a row with any other key (PlainReader may learn
# more fields) is decoded in full rather than losing that field.
_GIVEN = ("id", "name", "description", "tags", "command", "shell", "cwd", "env", "trigger", "timeout",
          "overlap", "max_parallel", "misfire_grace", "coalesce", "notify", "condition_deadline",
          "email", "webhooks", "expect", "paused", "runs_on", "slow_factor", "slow_margin", "run_with")  # fmt: skip
BUILT_KEYS = frozenset(_GIVEN)


class PlainSpecReader:
    """Turns stored rows into JobSpecs where a PlainReader vouches for them (one reader per
    read of all rows: it keeps each distinct trigger, shared by the JobSpecs)."""

    def __init__(self) -> None:
        self._plain = PlainReader()

    def read(self, row: Any) -> JobSpec | None:
        """The row's JobSpec, equal to the codec's; None when it must be decoded in full."""
        plain = self._plain.read(row)
        if plain is None or not plain.definition.keys() <= BUILT_KEYS:
            return None
        return spec_of(plain)


def spec_of(plain: PlainRow) -> JobSpec:
    """A vouched row's JobSpec: its values as stored (lists become tuples, texts enums)."""
    data = plain.definition
    get = data.get
    env = get("env")
    return _new_spec((  # in _GIVEN's order
        plain.id, plain.name, get("description", ""), tuple(get("tags", ())), tuple(data["command"]),
        get("shell", False), get("cwd"), tuple(env.items()) if env else (),  # vouched: names sorted, values text
        plain.trigger, get("timeout"), _OVERLAPS[data["overlap"]], get("max_parallel", 1),
        get("misfire_grace"), data["coalesce"], _NOTIFY[data["notify"]], get("condition_deadline"),
        tuple(get("email", ())), tuple(get("webhooks", ())), tuple(get("expect", ())), plain.paused,
        get("runs_on"), get("slow_factor", DEFAULT_SLOW_FACTOR), get("slow_margin", DEFAULT_SLOW_MARGIN),
        get("run_with"),
    ))  # fmt: skip


# JobSpec's frozen __init__ sets each of its 34 fields through object.__setattr__ (~4 us a job,
# a fifth of this whole read); its slots' own setters do the same in half the time. JobSpec has
# no __post_init__, so this is what JobSpec(...) makes. Fields a vouched row cannot hold (the
# retry ones, requires, any new one) get their defaults.
_SETTERS = {field.name: JobSpec.__dict__[field.name].__set__ for field in fields(JobSpec)}
_GIVEN_SETTERS = tuple(_SETTERS[name] for name in _GIVEN)
_DEFAULTS = tuple((_SETTERS[field.name], field.default if field.default_factory is MISSING else field.default_factory())
                  for field in fields(JobSpec) if field.name not in _GIVEN)  # fmt: skip
if any(default is MISSING for _, default in _DEFAULTS):
    raise TypeError("jobs.plain_spec: a JobSpec field without a default must be in _GIVEN")


def _new_spec(values: tuple[Any, ...]) -> JobSpec:
    spec = object.__new__(JobSpec)
    for set_field, value in zip(_GIVEN_SETTERS, values):
        set_field(spec, value)
    for set_field, value in _DEFAULTS:
        set_field(spec, value)
    return spec
