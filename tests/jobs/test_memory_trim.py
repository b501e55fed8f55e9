"""jobs.memory_trim: freed C-heap pages go back to the system."""

from __future__ import annotations

import sys
from pathlib import Path

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
