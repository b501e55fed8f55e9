"""Export and import job definitions as human-editable TOML.

Never a copied database: APScheduler rows are pickles, and unpickling is code execution (NOTES
item 10). Import reads and validates the whole file before anything is stored, so a file with
one mistake imports nothing and the error says where the mistake is.
"""

from __future__ import annotations

import os
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Any

import tomli_w

from jobs import __version__
from jobs.codec import JobValidationError, job_from_dict, job_to_dict
from jobs.model import JobSpec

FORMAT_VERSION = 1


class ImportProblem(ValueError):
    """The file cannot be imported; the message names the file, the job and the field."""


def export_text(specs: list[JobSpec]) -> str:
    header = (
        f"# Jobdesk jobs, exported {datetime.now().astimezone().isoformat(timespec='seconds')} "
        f"by Jobdesk {__version__}.\n"
        "# Edit freely, then `jobdesk import FILE`; jobs whose id exists are replaced.\n\n"
    )
    body = tomli_w.dumps({"format": FORMAT_VERSION, "job": [job_to_dict(spec) for spec in specs]})
    return header + body


def write_atomically(path: Path, text: str) -> None:
    """Never leave a half-written export behind. User-only (0600), like the data directory:
    an export holds commands and environment values (issue 9, item 15)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)  # a leftover .tmp keeps its old mode through O_CREAT
    with open(fd, "w", encoding="utf-8") as out:
        out.write(text)
    tmp.replace(path)


def parse_import(text: str, source: str = "<input>") -> list[JobSpec]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ImportProblem(f"{source}: not valid TOML: {exc}") from None
    version = data.get("format", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ImportProblem(f"{source}: format {version!r} is not supported (this Jobdesk reads {FORMAT_VERSION})")
    unknown = sorted(set(data) - {"format", "job"})
    if unknown:
        raise ImportProblem(f"{source}: unknown top-level key {unknown[0]!r} (expected [[job]] tables)")
    entries = data.get("job", [])
    if not isinstance(entries, list) or not entries:
        raise ImportProblem(f"{source}: no [[job]] tables found")
    specs: list[JobSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries, start=1):
        where = f"{source}: job {index}" + (f" ({entry.get('name')!r})" if isinstance(entry, dict) and entry.get("name") else "")
        try:
            spec = job_from_dict(entry, allow_past_date=True)
        except JobValidationError as exc:
            raise ImportProblem(f"{where}, {exc}") from None
        if spec.id:
            if spec.id in seen:
                raise ImportProblem(f"{where}, id: {spec.id!r} is also used by job {seen[spec.id]}")
            seen[spec.id] = index
        specs.append(spec)
    return specs


def read_import(path: Path) -> list[JobSpec]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportProblem(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ImportProblem(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_import(text, str(path))
