"""A run's processes: finding all of them, terminating them, and recognising them after a crash.

A run's tree is more than the children of its first process (NOTES item 18):
- every process in the run's session (POSIX; the session id is the first process's pid, and the
  kernel does not hand that pid to anyone else while the session has a member), which also
  catches what the first process left behind when it exited;
- descendants that left the session with `setsid`, while their parent lives;
- processes carrying the run's marker in their environment (`MARKER_ENV`), wherever they went:
  a double-forked daemon's parent is gone, so only the marker links it to the run.

A process is named by its pid plus the start time the OS gives it (`identity`), so a pid that
was reused by an unrelated process after a crash is never taken for the run's.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import suppress

import psutil

log = logging.getLogger(__name__)

RUN_ID_ENV = "JOBDESK_RUN_ID"  # the run's number, for the job's own use (e.g. naming its outputs)
MARKER_ENV = "JOBDESK_RUN_MARKER"  # unique per run: how escaped descendants are recognised
_START_TIME_TOLERANCE = 0.05  # seconds; the OS keeps start times in clock ticks (10 ms)
_POLL = 0.02

Tree = dict[int, psutil.Process]


def process(pid: int) -> psutil.Process | None:
    """A handle that remembers the start time, so later signals never hit a reused pid."""
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def identity(handle: psutil.Process) -> float | None:
    """The OS's start time of the process (epoch seconds), None if it is gone."""
    try:
        return float(handle.create_time())
    except psutil.Error:
        return None


def same_process(pid: int, started_at: float | None) -> psutil.Process | None:
    """The live process `pid` if it is the one that started at `started_at`."""
    handle = process(pid)
    if handle is None or started_at is None:
        return None
    created = identity(handle)
    if created is None or abs(created - started_at) > _START_TIME_TOLERANCE:
        return None  # gone, or the pid now belongs to another process
    return handle


def alive(handle: psutil.Process) -> bool:
    try:
        return bool(handle.is_running() and handle.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def descendants(roots: Iterable[psutil.Process]) -> Tree:
    """The roots and everything below them that is still there."""
    found: Tree = {}
    for root in roots:
        with suppress(psutil.Error):  # already gone: nothing below it can be found any more
            for member in [root, *root.children(recursive=True)]:
                found[member.pid] = member
    return found


def session_members(sid: int) -> Tree:
    """Processes in session `sid` (POSIX; empty elsewhere)."""
    found: Tree = {}
    if sys.platform == "win32":
        return found
    for pid in psutil.pids():
        with suppress(OSError, psutil.Error):
            if os.getsid(pid) == sid:
                found[pid] = psutil.Process(pid)
    return found


def carries_marker(handle: psutil.Process, marker: str) -> bool:
    try:
        return bool(handle.environ().get(MARKER_ENV) == marker)
    except (psutil.Error, OSError):  # gone, or not ours to read
        return False


def marked(marker: str, candidates: Iterable[psutil.Process] | None = None) -> Tree:
    """Processes whose environment carries `marker` (from `candidates`, default: all), with
    their descendants."""
    pool = candidates if candidates is not None else psutil.process_iter()
    me = os.getpid()
    return descendants(p for p in pool if p.pid != me and carries_marker(p, marker))


def run_tree(leader_pid: int, roots: Iterable[psutil.Process], marker: str | None = None,
             marked_candidates: Iterable[psutil.Process] | None = None) -> Tree:
    """Everything that belongs to the run started as `leader_pid` (see the module docstring)."""
    found = descendants(roots)
    found.update(session_members(leader_pid))
    if marker:
        found.update(marked(marker, marked_candidates))
    found.pop(os.getpid(), None)
    return found


def signal_tree(group: int | None, members: Tree, hard: bool) -> None:
    """TERM (or KILL when `hard`) every member, and first the process group `group` (the run's
    first pid, while Jobdesk knows that group is the run's; None: members only)."""
    if sys.platform == "win32":
        # No process groups or catchable signals without a console: TerminateProcess for all,
        # so `hard` changes nothing. Not run here; a Job Object would also catch escaped children.
        for member in members.values():
            with suppress(psutil.Error):
                member.kill()
        return
    sig = signal.SIGKILL if hard else signal.SIGTERM
    # The group first, in one call, to catch processes forked a moment ago. A group id is not
    # reused while any member lives; when none does this fails with ESRCH.
    if group is not None and group > 1:  # killpg(0) or (-1) would hit Jobdesk's own group
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(group, sig)
    for member in members.values():
        with suppress(psutil.Error):
            member.send_signal(sig)  # psutil checks the pid was not reused


def terminate(find: Callable[[], Tree], group: int | None, grace: float,
              wait: Callable[[Callable[[], bool], float], object] | None = None) -> Tree:
    """TERM what `find()` returns, wait up to `grace` for it to end, look again (survivors may
    have forked meanwhile) and KILL what is left. Returns every process that got a signal."""
    victims = find()
    signal_tree(group, victims, hard=False)
    if not victims:
        return victims
    wait_for = wait or _sleep_until
    wait_for(lambda: not any(alive(p) for p in victims.values()), grace)
    again = find()
    again.update(descendants(p for p in victims.values() if alive(p)))  # and what they forked meanwhile
    signal_tree(group, again, hard=True)
    return {**victims, **again}


def _sleep_until(done: Callable[[], bool], seconds: float) -> bool:
    until = time.monotonic() + seconds
    while not done():
        if time.monotonic() >= until:
            return False
        time.sleep(_POLL)
    return True


def leftovers_of(pid: int | None, started_at: float | None, marker: str | None) -> Callable[[], Tree]:
    """A finder for what a run that Jobdesk lost track of (crash, kill -9) left running: its
    first process if it is still the same process, its session unless that pid now belongs to
    someone else, and processes carrying its marker."""

    def find() -> Tree:
        found: Tree = {}
        if pid is not None:
            leader = same_process(pid, started_at)
            if leader is not None or process(pid) is None:
                found.update(run_tree(pid, [leader] if leader is not None else []))
        if marker:
            found.update(marked(marker))
        found.pop(os.getpid(), None)
        return {p: h for p, h in found.items() if alive(h)}

    return find


def leftover_note(count: int) -> str:
    """ "2 leftover processes terminated" """
    return f"{count} leftover process{'es' if count != 1 else ''} terminated"
