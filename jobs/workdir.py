"""The folder a job runs in when its definition names none.

Not wherever Jobdesk happened to be started (a user's script printed the clone's folder as its
cwd): a command that names a script file runs in that script's folder, where its relative paths
("data/sales.csv") were written to work; anything else runs in the user's home folder. Decided
at run time, so moving the script moves the folder with it; each run records the folder it used.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Sequence

from jobs.model import JobSpec


def script_path(command: Sequence[str], shell: bool, base: str | os.PathLike[str] | None = None) -> Path | None:
    """The script `command` runs, as an absolute path: the program itself when it is a script
    (a file starting with `#!`, like ./report.sh), else the first argument that is an existing
    file (python3 /home/me/sales.py). A binary program (python3, Rscript) is not a script.

    Relative arguments count only when `base` (the folder they are relative to, e.g. the shell
    the user typed `jobdesk add` in) is given. A shell line is split the way a POSIX shell would.
    """
    words = list(command)
    if shell:
        try:
            words = shlex.split(" ".join(command))
        except ValueError:  # unbalanced quotes: the shell will say so when it runs
            return None
    for position, word in enumerate(words):
        if not word or word.startswith("-"):
            continue
        candidate = Path(word).expanduser()
        if not candidate.is_absolute():
            if base is None:
                continue
            candidate = Path(base) / candidate
        try:
            if candidate.is_file() and (position > 0 or _starts_with_shebang(candidate)):
                return candidate.absolute()
        except OSError:  # a name too long for the file system, a path through a file
            continue
    return None


def _starts_with_shebang(path: Path) -> bool:
    with path.open("rb") as file:
        return file.read(2) == b"#!"


def default_cwd(command: Sequence[str], shell: bool) -> str:
    """The script's folder when the command names a script file (absolute path), else home."""
    script = script_path(command, shell)
    return str(script.parent) if script is not None else str(Path.home())


def resolved_cwd(job: JobSpec) -> str:
    """The folder a run of `job` uses: its own setting, else `default_cwd`."""
    return job.cwd or default_cwd(job.argv, job.shell)
