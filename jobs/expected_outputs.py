"""Expected outputs: files a job must write for a run to count as succeeded.

A job lists paths (`--expect`, repeatable), globs allowed, with placeholders filled from the
slot the run is for: `{date}` (2026-12-01) and `{scheduled:FORMAT}` (any strftime format) take
the scheduled time in the job's time zone; a manual run takes its start time. Relative paths
are relative to the run's working folder (jobs.workdir).

After exit 0 each one must exist (a glob: at least one match), be modified after the run
started and be non-empty; otherwise the run is failed with the first problem, e.g. "expected
output not written: sales-2026-12-01.pdf". The local runner checks on the run's own thread
(jobs.runners.local), never the GUI thread.
"""

from __future__ import annotations

import glob
import os
import string
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence
from zoneinfo import ZoneInfo

from jobs.model import JobSpec, RunOutcome, RunStatus
from jobs.run_facts import OutputFile

DATE_FORMAT = "%Y-%m-%d"
PLACEHOLDERS = ("date", "scheduled")
KNOWN = "{date}, {scheduled:%Y-%m-%d} (any strftime format)"
# File systems stamp times from a coarse clock (Linux: one timer tick), some only to 1-2 s (FAT):
# a file written right after the start may carry a time slightly before it.
MTIME_SLACK = 2.0


def placeholder_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be filled (an unknown placeholder, a stray brace), or None."""
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError as exc:
        return f"{pattern!r}: {exc} (write {{{{ and }}}} for literal braces; known placeholders: {KNOWN})"
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or conversion is not None:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            return f"{pattern!r}: unknown placeholder {shown} (known: {KNOWN})"
        if spec and "%" not in spec:
            return f"{pattern!r}: {{{name}:{spec}}} is not a strftime format (e.g. {{{name}:%Y-%m-%d}})"
    if not pattern.strip():
        return "an expected output must not be empty"
    return None


def fill(pattern: str, slot: datetime) -> str:
    """`pattern` with its placeholders filled from `slot` (a valid pattern: see placeholder_problem)."""
    out = []
    for literal, name, spec, _conversion in string.Formatter().parse(pattern):
        out.append(literal)
        if name is not None:
            out.append(slot.strftime(spec or DATE_FORMAT))
    return "".join(out)


def slot_time(job: JobSpec, scheduled_at: datetime | None, now: datetime | None = None) -> datetime:
    """The time placeholders are filled from: the scheduled slot (a manual run: now), in the job's zone."""
    moment = scheduled_at or now or datetime.now(timezone.utc)
    try:
        return moment.astimezone(ZoneInfo(job.trigger.timezone))
    except (KeyError, ValueError):  # an unknown zone was refused when saved; be safe anyway
        return moment.astimezone()


def expected_for(job: JobSpec, scheduled_at: datetime | None) -> tuple[str, ...]:
    """The job's expected outputs for one run, filled (RunRequest.expect)."""
    if not job.expect:
        return ()
    slot = slot_time(job, scheduled_at)
    return tuple(fill(pattern, slot) for pattern in job.expect)


def check(expect: Sequence[str], cwd: str | None, started: float) -> tuple[tuple[OutputFile, ...], str | None]:
    """The outputs found and the first problem (None: all there). `started`: epoch seconds."""
    found: list[OutputFile] = []
    problem: str | None = None
    for shown in expect:
        path = Path(shown).expanduser()
        if not path.is_absolute():
            path = Path(cwd or os.getcwd()) / path
        files, issue = _check_one(str(path), started)
        found += files
        if issue is not None and problem is None:
            problem = f"expected output {issue.format(shown)}"
    return tuple(found), problem


def _check_one(path: str, started: float) -> tuple[list[OutputFile], str | None]:
    matches = sorted(glob.glob(path, recursive=True)) if glob.has_magic(path) else [path]
    stats = []
    for match in matches:
        try:
            info = os.stat(match)
        except OSError:
            continue
        if os.path.isfile(match):
            stats.append((match, info))
    if not stats:
        return [], "not written: {}"
    fresh = [(m, s) for m, s in stats if s.st_mtime >= started - MTIME_SLACK]
    if not fresh:
        return [], "{} was not modified by this run"
    written = [OutputFile(os.path.abspath(m), s.st_size, s.st_mtime) for m, s in fresh if s.st_size > 0]
    if not written:
        return [OutputFile(os.path.abspath(m), 0, s.st_mtime) for m, s in fresh], "{} is empty"
    return written, None


def checked_outcome(expect: Sequence[str], cwd: str | None, started: float, outcome: RunOutcome) -> RunOutcome:
    """`outcome` with its outputs; a succeeded run whose outputs are missing becomes failed."""
    if not expect or outcome.status is not RunStatus.SUCCEEDED:
        return outcome
    outputs, problem = check(expect, cwd, started)
    if problem is None:
        return replace(outcome, outputs=outputs)
    return replace(outcome, status=RunStatus.FAILED, error=problem, outputs=outputs)
