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
import time
from collections.abc import Callable
from contextlib import suppress
from subprocess import Popen

import psutil

log = logging.getLogger(__name__)

PR_SET_CHILD_SUBREAPER = 36
SWEEP_INTERVAL = 5.0  # seconds between looks for exited orphans

_lock = threading.Lock()  # held while starting a job process and while reaping
_managed: set[int] = set()  # pids of job processes we started: their Popen waits for them
_state: dict[str, bool] = {}


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
    found = []
    for pid, zombie in _foreign_children():
        if not zombie:
            handle = _process(pid)
            if handle is not None:
                found.append(handle)
    return found


def reap() -> int:
    """Wait for adopted orphans that have exited; returns how many live orphans remain."""
    remaining = 0
    for pid, zombie in _foreign_children():
        if not zombie:
            remaining += 1
            continue
        with _lock:
            if pid not in _managed:
                with suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
    return remaining


def _foreign_children() -> list[tuple[int, bool]]:
    """(pid, is a zombie) of our children that we did not start, outside our own session."""
    if not active():
        return []
    own_session = os.getsid(0)
    found = []
    for pid in _child_pids():
        if pid in _managed:
            continue
        try:
            with open(f"/proc/{pid}/stat", "rb") as file:
                fields = file.read().rpartition(b")")[2].split()
            # After the command: state, ppid, pgrp, session (proc(5)).
            if int(fields[3]) != own_session and int(fields[1]) == os.getpid():
                found.append((pid, fields[0] == b"Z"))
        except (OSError, ValueError, IndexError):  # gone meanwhile
            continue
    return found


def _child_pids() -> list[int]:
    """Our children's pids. /proc/self/task/*/children costs ~0.1 ms here against ~2.5 ms for a
    scan of every process (this runs at the end of every run); the scan is the fallback for
    kernels without CONFIG_PROC_CHILDREN."""
    pids: list[int] = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        tasks = []
    seen_file = False
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/children", "rb") as file:
                pids += [int(pid) for pid in file.read().split()]
            seen_file = True
        except OSError:  # the thread ended meanwhile, or no such file on this kernel
            continue
    if seen_file:
        return pids
    try:
        return [child.pid for child in psutil.Process().children()]
    except psutil.Error:
        return []


def _process(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _sweep_forever() -> None:
    # Every few seconds (0.05 ms a look): orphans of anything we started, e.g. the processes
    # QProcess.startDetached leaves (they re-parent to us too), are reaped when they exit.
    while True:
        time.sleep(SWEEP_INTERVAL)
        try:
            reap()
        except Exception:  # never let the reaper die: zombies would pile up
            log.exception("reaping orphaned processes failed")
