"""Background threads at a lower priority (jobs.thread_priority) and threads started without a
wait (jobs.quick_thread), on real threads and a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from jobs.quick_thread import start_soon
from jobs.thread_priority import BACKGROUND_NICE, in_background, lower_this_thread

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a thread's own nice value is Linux's")


def _nice_of(thread_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread_id)


@linux_only
def test_a_lowered_thread_runs_at_the_background_priority_and_the_others_keep_theirs():
    before = _nice_of(threading.get_native_id())
    seen: dict[str, int] = {}

    def work() -> str:
        seen["worker"] = _nice_of(threading.get_native_id())
        return "done"

    results = []
    worker = threading.Thread(target=lambda: results.append(in_background(work)()))
    worker.start()
    worker.join(10)
    assert results == ["done"]
    assert seen["worker"] == max(before, BACKGROUND_NICE)
    assert _nice_of(threading.get_native_id()) == before  # the caller's thread is untouched
    # A job started afterwards from this thread runs at this thread's priority, not the worker's.
    out = subprocess.run([sys.executable, "-c", "import os; print(os.nice(0))"], capture_output=True, text=True, check=True)
    assert int(out.stdout) == before


@linux_only
def test_lowering_never_raises_a_priority():
    seen = []

    def work() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 15)
        lower_this_thread()
        seen.append(_nice_of(threading.get_native_id()))

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(10)
    assert seen == [15]


def test_start_soon_runs_the_function_with_its_arguments_on_another_thread():
    done = threading.Event()
    got = []

    def work(a: int, b: str) -> None:
        got.append((a, b, threading.get_ident() != main))
        done.set()

    main = threading.get_ident()
    started = time.perf_counter()
    start_soon(work, 1, "two")
    assert done.wait(10)
    assert got == [(1, "two", True)]
    assert time.perf_counter() - started < 10

