"""One scheduler per data directory (NOTES items 12, 33).

Two processes scheduling from one store run every job twice. A `QLockFile` in the data
directory decides who schedules: the stale-lock check (`setStaleLockTime(0)`) means a holder
killed with `kill -9` does not block the next start. Whoever holds the lock also listens on a
local socket (jobs.ipc) so command-line calls and a second window reach it; a holder says what
it is when asked, so every "busy" message can name it (issue 9, item 12).
"""

from __future__ import annotations

from PySide6.QtCore import QLockFile

from jobs.paths import DataDir, make_private_file

# What each kind of lock holder is called in messages ("`jobdesk serve` (pid 41) holds ...").
HOLDERS = {
    "serve": "`jobdesk serve`",
    "window": "the Jobdesk window",
    "run": "a foreground `jobdesk run`",
}


def describe_holder(mode: str | None, pid: int | None, what: str | None = None) -> str:
    text = what or HOLDERS.get(mode or "", "another Jobdesk process")
    return f"{text} (pid {pid})" if pid else text


class InstanceLock:
    def __init__(self, data_dir: DataDir) -> None:
        self._path = data_dir.lock_file
        self._lock = QLockFile(str(data_dir.lock_file))
        self._lock.setStaleLockTime(0)  # only a dead owner process makes the lock stale

    def try_acquire(self, wait_ms: int = 0) -> bool:
        if not self._lock.tryLock(wait_ms):
            return False
        make_private_file(self._path)  # QLockFile creates it 0644 (issue 9, item 15)
        return True

    @property
    def held(self) -> bool:
        return bool(self._lock.isLocked())

    def owner_pid(self) -> int | None:
        info = self._lock.getLockInfo()
        if isinstance(info, tuple) and info and isinstance(info[0], int) and info[0] > 0:
            return info[0]
        return None

    def release(self) -> None:
        if self._lock.isLocked():
            self._lock.unlock()
