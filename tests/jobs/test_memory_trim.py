"""jobs.memory_trim: freed C-heap pages go back to the system."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jobs.memory_trim import give_back_freed_memory


def test_giving_back_freed_memory_lowers_the_resident_size_after_a_big_free():
    """jobs.memory_trim on a real heap: free a few hundred MB of small C allocations (Python
    objects in a list), trim, and the resident size falls (glibc keeps such pages otherwise)."""
    if not sys.platform.startswith("linux"):
        assert give_back_freed_memory() is False
        return

    def resident_kib() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    blocks = [bytearray(1000) for _ in range(200_000)]  # ~200 MB of malloc'd 1 kB blocks
    keep = blocks[-1]  # the heap's top stays in use: free() alone cannot shrink it
    del blocks
    before = resident_kib()
    assert give_back_freed_memory() is True
    assert resident_kib() < before - 50_000, (before, resident_kib())
    del keep


ARENA_PROBE = """
import ctypes, ctypes.util, sys, threading
sys.path.insert(0, {root!r})
from jobs.memory_trim import limit_arenas
if {limit}:
    assert limit_arenas()
barrier = threading.Barrier(6)
def allocate():
    barrier.wait()
    kept = [bytearray(4096) for _ in range(2000)]  # above pymalloc's sizes: glibc's heap of this thread
    barrier.wait()
threads = [threading.Thread(target=allocate) for _ in range(6)]
for t in threads: t.start()
for t in threads: t.join()
ctypes.CDLL(ctypes.util.find_library("c")).malloc_stats()  # one "Arena N:" block per heap, on stderr
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's arenas")
@pytest.mark.parametrize("limit", [False, True])
def test_limit_arenas_caps_the_heaps_threads_get(limit):
    """Six threads allocating at once get heaps of their own; capped, they share two."""
    import os
    import subprocess

    from jobs.memory_trim import ARENAS

    env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", ARENA_PROBE.format(root=root, limit=limit)], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    arenas = sum(1 for line in done.stderr.splitlines() if line.startswith("Arena "))
    assert arenas <= ARENAS if limit else arenas > ARENAS, done.stderr
