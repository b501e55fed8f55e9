"""What a run used and what it produced, as plain data: its environment and its output files.

Frozen dataclasses (safe between threads) with their stored form: the `runs` table keeps each
as JSON text (columns `environment` and `outputs`, schema 5), times as UTC epoch seconds. A
damaged value reads back as nothing rather than hiding the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class OutputFile:
    """An expected output a run wrote (jobs.expected_outputs)."""

    path: str  # absolute
    bytes: int
    modified: float  # epoch seconds


@dataclass(frozen=True, slots=True)
class ScriptFile:
    """A file named in the command (the script, its config), as it was when the run started."""

    path: str  # absolute
    bytes: int
    modified: float  # epoch seconds
    sha256: str | None  # None: it could not be read
    hashed_bytes: int = 0  # how much of it the hash covers (large files: only their start)


@dataclass(frozen=True, slots=True)
class RunEnvironment:
    """What the run's behaviour depended on, recorded when it started (jobs.run_environment)."""

    executable: str | None  # the program as resolved in the run's PATH; None: not found
    scripts: tuple[ScriptFile, ...] = ()
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = ()  # the job's overrides
    version: str = ""  # Jobdesk's
    host: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "executable": self.executable,
            "scripts": [
                {"path": s.path, "bytes": s.bytes, "modified": s.modified, "sha256": s.sha256,
                 "hashed_bytes": s.hashed_bytes}
                for s in self.scripts
            ],
            "cwd": self.cwd,
            "env": dict(self.env),
            "version": self.version,
            "host": self.host,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> RunEnvironment:
        return RunEnvironment(
            executable=data.get("executable"),
            scripts=tuple(
                ScriptFile(str(s["path"]), int(s["bytes"]), float(s["modified"]), s.get("sha256"),
                           int(s.get("hashed_bytes") or 0))
                for s in data.get("scripts") or ()
            ),
            cwd=data.get("cwd"),
            env=tuple(sorted((str(k), str(v)) for k, v in (data.get("env") or {}).items())),
            version=str(data.get("version") or ""),
            host=str(data.get("host") or ""),
        )


def environment_to_text(environment: RunEnvironment | None) -> str | None:
    return None if environment is None else json.dumps(environment.to_dict())


def environment_from_text(text: str | None) -> RunEnvironment | None:
    if not text:
        return None
    try:
        return RunEnvironment.from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def outputs_to_text(outputs: tuple[OutputFile, ...]) -> str | None:
    if not outputs:
        return None
    return json.dumps([{"path": o.path, "bytes": o.bytes, "modified": o.modified} for o in outputs])


def outputs_from_text(text: str | None) -> tuple[OutputFile, ...]:
    if not text:
        return ()
    try:
        return tuple(OutputFile(str(o["path"]), int(o["bytes"]), float(o["modified"])) for o in json.loads(text))
    except (ValueError, TypeError, KeyError):
        return ()
