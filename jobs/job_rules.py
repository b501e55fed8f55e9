"""What makes a job definition valid: every rule, and every problem found at once.

Split from jobs.codec (which reads and writes definitions as dicts) so the rules stand alone:
the window's editor, `JobService`, the command line and imports all ask `job_problems` /
`validate_job`. Rules that came from attacks and accidents: an id names a log folder, so it is
a short plain word (an imported "../../escaped/evil" wrote logs outside the data directory);
text is UTF-8 without NUL (bytes that are not UTF-8 broke export; NUL broke the run); numbers of
seconds are finite and at most 100 years (inf was stored as `Infinity`); dates stay between 1970
and 8999 (year 9999 overflowed in zone conversions).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any, Sequence

from jobs import triggers
from jobs.alerts.addresses import email_problem, webhook_problem
from jobs.conditions.requirements import parse_requirement
from jobs.durations import LONGEST, echo as _echo
from jobs.expected_outputs import placeholder_problem
from jobs.interpreters import command_problem, run_with_problem
from jobs.model import DateSpec, IntervalSpec, JobSpec
from jobs.remote.protocol import pool_problem
from jobs.retry_rules import retry_problems

_ENV_NAME = re.compile(r"^[^=\0]+$")
NAME_MAX = 200
# Job ids name a folder of run logs (logs/<id>/<run>.log): no separators, no "..", no leading
# "-" (it would read as an option), not a Windows device name. Generated ids are 10 hex digits.
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", re.ASCII)
_WINDOWS_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{kind}{n}" for kind in ("com", "lpt") for n in range(1, 10)]
)
# Dates a schedule may use: far enough from datetime's limits that zone conversions and
# "next run" arithmetic cannot overflow (year 9999 in Los Angeles did).
EARLIEST_YEAR, LATEST_YEAR = 1970, 8999

Problem = tuple[str, str]  # (field, message)


class JobValidationError(ValueError):
    """A definition is invalid. `field` names the place ("trigger.minute", "timeout").

    `problems` holds every problem found, this one first, so an import can list them all; the
    message (str) is the first one, which is what a single-line report shows.
    """

    def __init__(self, field: str, message: str, more: Sequence[Problem] = ()) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message
        self.problems: tuple[Problem, ...] = ((field, message), *more)

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> "JobValidationError":
        (field, message), *more = problems
        return cls(field, message, more)

    def lines(self) -> list[str]:
        return [f"{field}: {message}" if field else message for field, message in self.problems]

    def within(self, prefix: str) -> "JobValidationError":
        return JobValidationError.of([(f"{prefix}.{field}" if field else prefix, message) for field, message in self.problems])


def job_id_problem(job_id: str) -> str | None:
    """Why `job_id` cannot be a job id, or None when it can."""
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        return (
            f"{_echo(job_id) if isinstance(job_id, str) else repr(job_id)} is not a valid id: use 1 to 64 letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    if job_id.lower() in _WINDOWS_DEVICES:
        return f"{job_id!r} is not a valid id: it is a reserved device name on Windows"
    return None


def check_job_id(job_id: str) -> None:
    problem = job_id_problem(job_id)
    if problem:
        raise JobValidationError("id", problem)


def validate_job(spec: JobSpec, *, allow_past_date: bool = False) -> None:
    """Raise JobValidationError listing every problem of a definition (the first in its message).

    `allow_past_date` accepts a one-off job whose time has passed (an imported or stored job
    that already ran); new and edited jobs are refused.
    """
    problems = job_problems(spec, allow_past_date=allow_past_date)
    if problems:
        raise JobValidationError.of(problems)


def job_problems(spec: JobSpec, *, allow_past_date: bool = False, check_trigger: bool = True) -> list[Problem]:
    out: list[Problem] = []
    if spec.id:
        problem = job_id_problem(spec.id)
        if problem:
            out.append(("id", problem))
    if not spec.name.strip():
        out.append(("name", "must not be empty"))
    elif len(spec.name) > NAME_MAX:
        out.append(("name", f"is {len(spec.name)} characters long; at most {NAME_MAX}"))
    out += _text_problems("name", spec.name, control=True)
    out += _text_problems("description", spec.description)
    for tag in spec.tags:
        out += _text_problems("tags", tag, control=True)
    if not spec.command or not spec.command[0].strip():
        out.append(("command", "must not be empty"))
    for part in spec.command:
        out += _text_problems("command", part)
    if spec.cwd is not None:
        out += _text_problems("cwd", spec.cwd)
    for key, value in spec.env:
        if not _ENV_NAME.match(key):
            out.append(("env", f"{_echo(key)} is not a valid variable name"))
        else:
            out += _text_problems("env", key)
        out += _text_problems(f"env.{key}" if _ENV_NAME.match(key) else "env", value)
    out += seconds_problems("timeout", spec.timeout, positive=True)
    out += seconds_problems("misfire_grace", spec.misfire_grace, positive=False)
    if isinstance(spec.max_parallel, bool) or not isinstance(spec.max_parallel, int):
        out.append(("max_parallel", f"{spec.max_parallel!r} is not a whole number"))
    elif spec.max_parallel < 1:
        out.append(("max_parallel", f"{spec.max_parallel} must be at least 1"))
    if spec.runs_on is not None:
        problem = pool_problem(spec.runs_on)
        if problem:
            out.append(("runs_on", problem))
    out += _slow_problems(spec)
    out += run_with_problems(spec)
    if check_trigger:
        out += _trigger_problems(spec.trigger, allow_past_date)
    out += _condition_problems(spec)
    out += _alert_problems(spec)
    out += retry_problems(spec)
    out += [("expect", problem) for problem in map(placeholder_problem, spec.expect) if problem]
    return unique_problems(out)


SLOW_FACTOR_MAX = 1000.0


def _slow_problems(spec: JobSpec) -> list[Problem]:
    """Longer than usual: past max(p95 x slow_factor, p95 + slow_margin) (jobs.slow_runs)."""
    factor = spec.slow_factor
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor):
        return [("slow_factor", f"{factor!r} is not a number")]
    if not 1.0 <= factor <= SLOW_FACTOR_MAX:
        return [("slow_factor", f"{factor:g} must be between 1 and {SLOW_FACTOR_MAX:g} (times the usual p95)")]
    return seconds_problems("slow_margin", spec.slow_margin, positive=False)
def run_with_problems(spec: JobSpec) -> list[Problem]:
    if spec.run_with is None:
        return []
    problem = run_with_problem(spec.run_with, local=spec.runs_on is None)
    out = [("run_with", problem)] if problem else []
    if spec.shell:
        out.append(("run_with", "cannot be combined with shell: the interpreter runs the command's words, not a shell line"))
    command = command_problem(spec.command)
    return out + ([("command", command)] if command else [])


def _condition_problems(spec: JobSpec) -> list[Problem]:
    out: list[Problem] = []
    for text in spec.requires:
        try:
            parse_requirement(text)
        except ValueError as exc:
            out.append(("requires", str(exc)))
    out += seconds_problems("condition_deadline", spec.condition_deadline, positive=True)
    if spec.condition_deadline is not None and not spec.requires and not out:
        out.append(("condition_deadline", "has nothing to wait for: add a condition (requires) or leave it out"))
    return out


def _alert_problems(spec: JobSpec) -> list[Problem]:
    out: list[Problem] = []
    for address in spec.email:
        problem = email_problem(address)
        if problem:
            out.append(("email", problem))
    for url in spec.webhooks:
        problem = webhook_problem(url)
        if problem:
            out.append(("webhooks", problem))
    return out


def _trigger_problems(trigger: Any, allow_past_date: bool) -> list[Problem]:
    dates = _dates_out_of_range(trigger)
    if dates:
        return dates
    now = trigger.run_at - timedelta(seconds=1) if allow_past_date and isinstance(trigger, DateSpec) else None
    try:
        triggers.validate(trigger, now=now)
    except triggers.TriggerError as exc:
        return trigger_error_problems(exc)
    except (OverflowError, ValueError) as exc:  # date arithmetic at the edges of what datetime holds
        return [("trigger", f"cannot be computed: {exc}")]
    return []


def trigger_error_problems(exc: triggers.TriggerError, prefix: str = "trigger") -> list[Problem]:
    """Every problem a TriggerError carries (a cron expression may have several bad fields)."""
    items = getattr(exc, "problems", None) or [exc]
    out: list[Problem] = []
    for item in items:
        if isinstance(item, str):
            field, message = exc.field, item
        elif isinstance(item, tuple) and len(item) == 2:
            field, message = item
        else:
            field, message = getattr(item, "field", None), getattr(item, "message", str(item))
        out.append((f"{prefix}.{field}" if field else prefix, str(message)))
    return out


def _dates_out_of_range(trigger: Any) -> list[Problem]:
    moments = []
    if isinstance(trigger, DateSpec):
        moments.append(("run_at", trigger.run_at))
    elif isinstance(trigger, IntervalSpec):
        moments += [(key, getattr(trigger, key)) for key in ("start", "end") if getattr(trigger, key) is not None]
    out = []
    for key, moment in moments:
        if isinstance(moment, datetime) and not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            out.append((f"trigger.{key}", f"year {moment.year} is outside {EARLIEST_YEAR}-{LATEST_YEAR}"))
    return out


def seconds_problems(field: str, value: Any, *, positive: bool) -> list[Problem]:
    if value is None:
        return []
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return [(field, f"{value!r} is not a number of seconds")]
    if positive and not value > 0:
        return [(field, f"{value:g} must be more than 0 seconds")]
    if value < 0:
        return [(field, f"{value:g} must not be negative")]
    if value > LONGEST:
        return [(field, f"{value:g} seconds is longer than 100 years")]
    return []


def _text_problems(field: str, text: str, *, control: bool = False) -> list[Problem]:
    """NUL, bytes that are not UTF-8, and (in names and tags) control characters.

    Bytes that are not UTF-8 (a Linux argument like $'\\xff' arrives as a lone surrogate) are
    refused rather than carried: SQLite, the socket's JSON, TOML export and the log viewer all
    need text, and a program that wants such bytes can still get them through a shell line.
    """
    if not isinstance(text, str):
        return [(field, f"expected text, got {text!r}")]
    if "\0" in text:
        return [(field, f"{_echo(text)} contains a NUL character")]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        char = ord(text[exc.start])
        byte = f"\\x{char - 0xDC00:02x}" if 0xDC80 <= char <= 0xDCFF else f"U+{char:04X}"
        return [(field, f"{_echo(text)} contains a byte that is not UTF-8 text ({byte})")]
    if control:
        bad = next((c for c in text if unicodedata.category(c) == "Cc"), None)
        if bad is not None:
            return [(field, f"{_echo(text)} contains a control character ({bad!r})")]
    return []


def unique_problems(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
