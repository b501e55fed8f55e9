"""Say plainly when the data directory belongs to someone else, before anything opens it.

SQLite only answers "unable to open database file" and a chmod of another user's file raises
PermissionError deep inside the store's set-up. Checked up front, the command can name the file
and its owner on one line (exit 2) and change nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from jobs.command_errors import UsageError
from jobs.paths import DataDir


def owner_of(path: Path) -> str:
    """The user name owning `path` ("uid 1234" when it has none, "" off POSIX)."""
    try:
        uid = path.stat().st_uid
    except OSError:
        return ""
    if os.name != "posix":
        return ""
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _me() -> str:
    if os.name != "posix":
        return "you"
    import pwd

    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        return f"uid {os.geteuid()}"


def check_data_dir_access(data_dir: DataDir) -> None:
    """UsageError naming the first file or folder of `data_dir` this user cannot use."""
    needs = [(data_dir.root, os.R_OK | os.W_OK | os.X_OK), (data_dir.logs, os.R_OK | os.W_OK | os.X_OK)]
    needs += [(path, os.R_OK | os.W_OK) for path in (data_dir.database, data_dir.lock_file)]
    needs += [(Path(f"{data_dir.database}{suffix}"), os.R_OK | os.W_OK) for suffix in ("-wal", "-shm")]
    for path, mode in needs:
        if path.exists() and not os.access(path, mode):
            refuse(path)


def refuse(path: Path) -> None:
    owner = owner_of(path)
    whose = f"belongs to {owner} and " if owner and owner != _me() else ""
    raise UsageError(f"jobdesk: {path}: {whose}cannot be read and written by {_me()}; nothing was changed")
