"""Background threads that give the processor to the window first (issue 10).

On a 2-core machine the window's start had 3-4 threads scanning the database in C (the
whole-file check, history retention, the alerts left pending, the wake-up digest), each
without the GIL, so all on the processors at once: the GUI thread got ~25% of one core and
froze for 150-670 ms at a time while painting 10,000 jobs (perf: those threads in
libsqlite3, the GUI thread runnable but not running). A lower scheduling priority for such
threads leaves them the cores the window does not use; alone they run as fast as before.

Only for threads that spend their time in C without the GIL (SQLite's whole-file check, a
DELETE over millions of rows): a low-priority thread that holds the GIL while it waits for a
processor makes the GUI thread wait with it (measured: a 390 ms stall when the digest's row
reader, Python building records, was lowered).

Linux only: there a thread has its own nice value, set through its id. Elsewhere nothing changes.
A child process inherits the nice value of the thread that starts it, and an unprivileged
process cannot raise it again: call `lower_this_thread` only on threads that never start a
job's process and only do background work for the rest of their life. (Not the jobs snapshot's
thread: it serves every later load too, and a user's CPU-bound jobs would then delay the window's
answer to an edit by seconds.)
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from typing import Callable, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

BACKGROUND_NICE = 10  # CFS weight 110 against 1024 at 0: ~10% of a core when the window wants it


def lower_this_thread() -> bool:
    """Give the calling thread the background priority (never raises it); True if it has it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        thread_id = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, thread_id) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, thread_id, BACKGROUND_NICE)
        return True
    except OSError:  # not allowed here (a sandbox): run as before
        return False


def in_background(work: Callable[P, R]) -> Callable[P, R]:
    """`work` wrapped to lower its thread first: a background thread's target."""

    @functools.wraps(work)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        lower_this_thread()
        return work(*args, **kwargs)

    return run
