"""Start a worker thread without waiting for it to run (issue 10).

`threading.Thread.start` blocks its caller until the new thread has taken the GIL once. With
the window's start-up threads busy, that wait reached 70-200 ms on the GUI thread (sampled at
10,000 jobs: the GUI thread in `Thread.start` of the schedule reader). `start_soon` hands the
function to a new OS thread and returns at once. For fire-and-forget work only: such a thread
cannot be joined, is not in `threading.enumerate()` and, like a daemon thread, ends with the
process; its function must catch what it raises (anything uncaught is printed and dropped).
"""

from __future__ import annotations

import _thread
from typing import Any, Callable


def start_soon(target: Callable[..., Any], *args: Any) -> None:
    """Run `target(*args)` on a new thread; return without waiting for it to start."""
    _thread.start_new_thread(target, args)
