"""Where Jobdesk keeps its state: one data directory, readable by the user only.

Resolution order: an explicit directory (``--data-dir``), then ``JOBDESK_DATA_DIR``, then the
platform's per-user data directory. Everything (the SQLite file, run logs, the instance lock)
lives below it, so tests and a second profile only need another directory.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

import platformdirs

ENV_VAR = "JOBDESK_DATA_DIR"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def database(self) -> Path:
        return self.root / "jobdesk.sqlite3"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def lock_file(self) -> Path:
        return self.root / "jobdesk.lock"

    def run_log(self, job_id: str, run_id: int) -> Path:
        return self.logs / job_id / f"{run_id}.log"


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> DataDir:
    """Pick the data directory without creating it."""
    if explicit:
        return DataDir(Path(explicit).expanduser().absolute())
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return DataDir(Path(from_env).expanduser().absolute())
    return DataDir(Path(platformdirs.user_data_dir("jobdesk", appauthor=False)))


def ensure_private_dir(path: Path) -> None:
    """Create `path` (and parents) and make it user-only.

    Job rows hold pickled state and run logs hold script output: other local users must not
    read or plant either (NOTES item 10).
    """
    path.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode != 0o700:
            path.chmod(0o700)


def make_private_file(path: Path) -> None:
    if os.name == "posix" and path.exists() and stat.S_IMODE(path.stat().st_mode) != 0o600:
        path.chmod(0o600)
