"""Hand memory the process freed back to the system (glibc's `malloc_trim`).

After a big read (a complete snapshot of 10,000 jobs and their newest runs, the start's catch-up)
the C heap keeps the pages of what was freed, and the resident size never comes down: at 10,000
jobs / 10 million runs ~10 MB of the window's ~215 MB were such pages (issue 10's 200 MiB). A trim
after those moments returns them. Elsewhere (macOS, Windows, musl) nothing happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from typing import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None on a platform (or C library) without it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return getattr(libc, "malloc_trim", None)


def give_back_freed_memory() -> bool:
    """Return the C heap's free pages to the system; True if this platform can. Takes a few
    milliseconds on a big heap: call it off the GUI thread."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
