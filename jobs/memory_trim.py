"""Hand memory the process freed back to the system (glibc's `malloc_trim`).

After a big read (a complete snapshot of 10,000 jobs and their newest runs, the start's catch-up)
the C heap keeps the pages of what was freed, and the resident size never comes down: at 10,000
jobs / 10 million runs ~10 MB of the window's ~215 MB were such pages (issue 10's 200 MiB). A trim
after those moments returns them. Elsewhere (macOS, Windows, musl) nothing happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

_trim: object = None  # the C function, or False where there is none


def _malloc_trim() -> object:
    global _trim
    if _trim is None:
        _trim = False
        if sys.platform.startswith("linux"):
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                _trim = getattr(libc, "malloc_trim", False)  # glibc only
            except OSError:
                pass
    return _trim


def give_back_freed_memory() -> bool:
    """Return the C heap's free pages to the system; True if this platform can. Takes a few
    milliseconds on a big heap: call it off the GUI thread."""
    trim = _malloc_trim()
    if not trim:
        return False
    trim(0)  # type: ignore[operator]
    return True
