"""Export and import job definitions as human-editable TOML.

Never a copied database: APScheduler rows are pickles, and unpickling is code execution (NOTES
item 10). Import reads and validates the whole file before anything is stored, so a file with
mistakes imports nothing, and the error lists every mistake of every job with where it is.
"""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import tomli_w

from jobs import __version__
from jobs.codec import JobValidationError, job_from_dict, job_to_dict
from jobs.model import JobSpec

FORMAT_VERSION = 1


class ImportProblem(ValueError):
    """The file cannot be imported. `problems` are lines like "job 2 ('x'), trigger.hour: ...";
    the message names the source and shows one problem on its line, or all of them below a
    header ("jobs.toml: 3 problems, nothing was imported:")."""

    def __init__(self, problems: Sequence[str] | str, source: str = "") -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        if len(self.problems) == 1:
            return prefix + self.problems[0]
        lines = "".join(f"\n  {problem}" for problem in self.problems)
        return f"{prefix}{len(self.problems)} problems, nothing was imported:{lines}"

    def from_source(self, source: str) -> "ImportProblem":
        return ImportProblem(self.problems, source)


def export_text(specs: list[JobSpec]) -> str:
    header = (
        f"# Jobdesk jobs, exported {datetime.now().astimezone().isoformat(timespec='seconds')} "
        f"by Jobdesk {__version__}.\n"
        "# Edit freely, then `jobdesk import FILE`; jobs whose id (or, without an id, whose name)\n"
        "# exists are replaced.\n\n"
    )
    body = tomli_w.dumps({"format": FORMAT_VERSION, "job": [job_to_dict(spec) for spec in specs]})
    return header + body


def write_atomically(path: Path, text: str) -> None:
    """Write `path` user-only (it lists commands and environment values) through `path.tmp`;
    on any failure the old file stays and no `.tmp` is left behind."""
    data = text.encode("utf-8")  # before the temp file exists: a text that cannot be written leaves nothing
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # a leftover .tmp keeps its old mode through O_CREAT
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def parse_import(text: str, source: str = "<input>") -> list[JobSpec]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportProblem(f"not valid TOML: {exc}", source) from None
    except RecursionError:
        raise ImportProblem("not valid TOML: nested too deeply", source) from None
    version = data.get("format", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ImportProblem(f"format {version!r} is not supported (this Jobdesk reads {FORMAT_VERSION})", source)
    unknown = sorted(set(data) - {"format", "job"})
    if unknown:
        raise ImportProblem(f"unknown top-level key {unknown[0]!r} (expected [[job]] tables)", source)
    entries = data.get("job", [])
    if not isinstance(entries, list) or not entries:
        raise ImportProblem("no [[job]] tables found", source)
    specs: list[JobSpec] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        where = job_label(index, entry.get("name") if isinstance(entry, dict) else None)
        try:
            spec = job_from_dict(entry, allow_past_date=True)
        except JobValidationError as exc:
            problems += [f"{where}, {line}" for line in exc.lines()]
            continue
        if spec.id:
            if spec.id in seen:
                problems.append(f"{where}, id: {spec.id!r} is also used by job {seen[spec.id]}")
            seen.setdefault(spec.id, index)
        specs.append(spec)
    if problems:
        raise ImportProblem(problems, source)
    return specs


def job_label(index: int, name: Any) -> str:
    """"job 2 ('Backup')": how problems of an imported file point at a job."""
    if isinstance(name, str) and name:
        shown = repr(name) if len(name) <= 60 else repr(name[:60]) + "..."
        return f"job {index} ({shown})"
    return f"job {index}"


def read_import(path: Path) -> list[JobSpec]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportProblem(f"cannot be read: {exc.strerror or exc}", str(path)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportProblem(f"not UTF-8 text (byte {exc.start})", str(path)) from None
    return parse_import(text, str(path))
