"""Hand memory the process freed back to the system (glibc's `malloc_trim`).

After a big read (a complete snapshot of 10,000 jobs and their newest runs, the start's catch-up)
the C heap keeps the pages of what was freed, and the resident size never comes down: at 10,000
jobs / 10 million runs ~10 MB of the window's ~215 MB were such pages (issue 10's 200 MiB). A trim
after those moments returns them. Elsewhere (macOS, Windows, musl) nothing happens.

glibc also gives each thread that allocates its own heap (an arena), up to 8 per core, and the
free pages of each stay with it. The window has a dozen threads reading at start-up;
`limit_arenas` caps them at ARENAS before any thread starts: peak RSS at 10,000 jobs 191-200 ->
177-192 MiB (three alternated starts each; the same as MALLOC_ARENA_MAX=2 in the environment).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Callable


ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None on a platform (or C library) without it."""
    return getattr(_libc(), "malloc_trim", None)


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap glibc's per-thread heaps (call before threads start); True if this C library can.
    An explicit MALLOC_ARENA_MAX in the environment wins."""
    import os

    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None or "MALLOC_ARENA_MAX" in os.environ:
        return False
    return bool(mallopt(_M_ARENA_MAX, arenas))


def give_back_freed_memory() -> bool:
    """Return the C heap's free pages to the system; True if this platform can. Takes a few
    milliseconds on a big heap: call it off the GUI thread."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
