"""Linux child subreaper: what a job's processes leave behind re-parents to Jobdesk, not PID 1.

A job that double-forks a `setsid` daemon cuts every link a process tree has: its parent is
gone and it has its own session. As a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`, Linux
3.4+) the scheduling process becomes the new parent of such orphans, so they are found among
its own children and attributed to their run by the marker in their environment
(jobs.proctree). systemd does the same per unit with a cgroup (`KillMode=control-group`); a
cgroup of our own needs a delegated cgroup v2 subtree, which an ordinary desktop session does
not give an application, while the subreaper needs no privilege.

Being a subreaper means reaping: an adopted orphan that exits stays a zombie until we wait for
it. Only children that no one else waits for are reaped: not the job processes Jobdesk starts
itself (registered here by `spawn` before anyone can see them exit) and not processes of
Jobdesk's own session (started by other code, e.g. `subprocess.run`, which waits for its own).
Every orphan of a job is in another session, because every job starts in a session of its own.

Windows has no subreaper: a Job Object with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE per run would
hold every descendant (not built: nothing here can run it). macOS has neither; there the marker
is looked for in every process of the user.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from subprocess import Popen

import psutil

log = logging.getLogger(__name__)

PR_SET_CHILD_SUBREAPER = 36
SWEEP_INTERVAL = 5.0  # seconds between looks for exited orphans while there are any

_lock = threading.Lock()  # held while starting a job process and while reaping
_managed: set[int] = set()  # pids of job processes we started: their Popen waits for them
_state: dict[str, bool] = {}
_wake = threading.Event()


def enable() -> bool:
    """Make this process a child subreaper (Linux); True if it is one."""
    with _lock:
        if "enabled" in _state:
            return _state["enabled"]
        enabled = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(None, use_errno=True)
                enabled = libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
                if not enabled:
                    log.warning("cannot become a child subreaper: %s", os.strerror(ctypes.get_errno()))
            except (OSError, AttributeError) as exc:
                log.warning("cannot become a child subreaper: %s", exc)
        _state["enabled"] = enabled
    if enabled:
        threading.Thread(target=_sweep_forever, name="orphan-reaper", daemon=True).start()
    return enabled


def active() -> bool:
    return _state.get("enabled", False)


def spawn(start: Callable[[], Popen[bytes]]) -> Popen[bytes]:
    """Start a job process with `start` and register it before the reaper can see it."""
    with _lock:
        proc = start()
        _managed.add(proc.pid)
        return proc


def release(proc: Popen[bytes]) -> None:
    """The job process was waited for by its Popen: forget it."""
    if proc.returncode is not None:  # else it may still need its Popen to reap it
        with _lock:
            _managed.discard(proc.pid)


def adopted() -> list[psutil.Process]:
    """Live children of ours that we did not start: orphans re-parented to us."""
    if not active():
        return []
    own_session = os.getsid(0)
    found = []
    for child in _children():
        if child.pid in _managed:
            continue
        with suppress(psutil.Error, OSError):
            if os.getsid(child.pid) != own_session and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
    return found


def reap() -> int:
    """Wait for adopted orphans that have exited; returns how many live orphans remain."""
    if not active():
        return 0
    own_session = os.getsid(0)
    remaining = 0
    for child in _children():
        try:
            if os.getsid(child.pid) == own_session:
                continue
            zombie = child.status() == psutil.STATUS_ZOMBIE
        except (psutil.Error, OSError):
            continue
        if not zombie:
            remaining += child.pid not in _managed
            continue
        with _lock:
            if child.pid in _managed:
                continue
            with suppress(ChildProcessError):
                os.waitpid(child.pid, os.WNOHANG)
    return remaining


def wake() -> None:
    """Ask the reaper to look now (a run ended: it may have left orphans)."""
    _wake.set()


def _children() -> list[psutil.Process]:
    try:
        return list(psutil.Process().children())
    except psutil.Error:
        return []


def _sweep_forever() -> None:
    # Sleeps until woken while there is nothing to reap; every few seconds while orphans live.
    remaining = 0
    while True:
        _wake.wait(SWEEP_INTERVAL if remaining else None)
        _wake.clear()
        try:
            remaining = reap()
        except Exception:  # never let the reaper die: zombies would pile up
            log.exception("reaping orphaned processes failed")
            remaining = 1
