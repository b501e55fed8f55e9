"""One scheduler per data directory (NOTES items 12, 33).

Two processes scheduling from one store run every job twice. A `QLockFile` in the data
directory decides who schedules: the stale-lock check (`setStaleLockTime(0)`) means a holder
killed with `kill -9` does not block the next start. Whoever holds the lock also listens on a
local socket (jobs.ipc) so command-line calls and a second window reach it.
"""

from __future__ import annotations

from PySide6.QtCore import QLockFile

from jobs.paths import DataDir


class InstanceLock:
    def __init__(self, data_dir: DataDir) -> None:
        self._lock = QLockFile(str(data_dir.lock_file))
        self._lock.setStaleLockTime(0)  # only a dead owner process makes the lock stale

    def try_acquire(self, wait_ms: int = 0) -> bool:
        return bool(self._lock.tryLock(wait_ms))

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
