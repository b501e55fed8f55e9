"""Each run's environment, recorded as it starts: the answer to "works by hand, fails when
scheduled" (NOTES item 32) needs to know what the run actually used.

Recorded: the program as resolved in the run's own PATH (`shutil.which`), the files named in the
command (the script and e.g. its config: path, size, time, sha256), the working folder, the
job's environment overrides, Jobdesk's version and the host. Hashing reads files, so this runs
on the run's own thread (jobs.runners.local), never the GUI thread; a file over
`HASH_LIMIT` is hashed over its first `HASH_LIMIT` bytes only (`hashed_bytes` says so).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shlex
import shutil
import socket
from pathlib import Path
from typing import Mapping

from jobs import __version__, run_context
from jobs.model import RunRequest
from jobs.run_facts import RunEnvironment, ScriptFile

log = logging.getLogger(__name__)

HASH_LIMIT = 64 * 1024 * 1024  # bytes of a file hashed at most (a data file named in the command)
MAX_FILES = 20  # files recorded per run at most
_CHUNK = 1024 * 1024


def capture(request: RunRequest) -> RunEnvironment | None:
    """The environment `request` runs with; None if it cannot be told (never raises)."""
    try:
        return _capture(request)
    except Exception:  # a record we cannot make must not stop the run
        log.exception("run #%s: cannot record its environment", request.run_id)
        return None


def _capture(request: RunRequest) -> RunEnvironment:
    words = list(request.command)
    if request.shell:
        try:
            words = shlex.split(" ".join(request.command))
        except ValueError:  # unbalanced quotes: the shell says so when it runs
            words = []
    cwd = request.cwd or os.getcwd()
    path = request.env.get("PATH", os.environ.get("PATH", os.defpath))
    executable = _resolve(words[0], cwd, path) if words else None
    scripts: list[ScriptFile] = []
    for position, word in enumerate(words):
        if len(scripts) >= MAX_FILES:
            break
        file = _named_file(word, cwd)
        # The program itself counts when it is a script (./report.sh), not a binary (python3)
        if file is not None and (position > 0 or _is_script(file)):
            scripts.append(describe(file))
    return RunEnvironment(
        executable=executable, scripts=tuple(scripts), cwd=request.cwd, env=_overrides(request.env),
        version=__version__, host=socket.gethostname(),
    )


def _resolve(program: str, cwd: str, path: str) -> str | None:
    if os.sep in program or (os.altsep and os.altsep in program):
        candidate = Path(program).expanduser()
        return str(candidate if candidate.is_absolute() else Path(cwd) / candidate)
    return shutil.which(program, path=path)


def _named_file(word: str, cwd: str) -> Path | None:
    if not word or word.startswith("-"):
        return None
    candidate = Path(word).expanduser()
    if not candidate.is_absolute():
        candidate = Path(cwd) / candidate
    try:
        return candidate.absolute() if candidate.is_file() else None
    except OSError:  # a name too long for the file system
        return None


def _is_script(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(2) == b"#!"
    except OSError:
        return False


def describe(path: Path) -> ScriptFile:
    """Size, modification time and sha256 (of the first HASH_LIMIT bytes) of one file."""
    info = path.stat()
    digest = hashlib.sha256()
    hashed = 0
    try:
        with path.open("rb") as file:
            while hashed < HASH_LIMIT and (chunk := file.read(min(_CHUNK, HASH_LIMIT - hashed))):
                digest.update(chunk)
                hashed += len(chunk)
        sha: str | None = digest.hexdigest()
    except OSError:
        sha = None
    return ScriptFile(str(path), info.st_size, info.st_mtime, sha, hashed)


def _overrides(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The job's own variables: the JOBDESK_* ones differ for every run by design (run id,
    attempt), so they would always show as "changed since the last success"."""
    return tuple(sorted((name, value) for name, value in env.items() if name not in run_context.NAMES))
