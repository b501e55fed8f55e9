"""Guard against a reference-count bug of PySide6 6.12.0 on Python 3.11.

Called first thing by every entry point (window, command line, `serve`, tests).
"""

from __future__ import annotations

import sys

_PINNED = False


def pin_singletons() -> None:
    """Make None, True and False immortal, as Python 3.12 does, on older Pythons.

    WORKAROUND: PySide6 6.12 on Python 3.11 returns None (and bools it passes through signals)
    without taking a reference: every call of a void Qt method from Python, such as
    `label.setText()` or `processEvents()`, drops None's reference count by one (measured: -1.0
    per call). After some tens of thousands of calls, a few minutes of a busy window, Python
    aborts with "Fatal Python error: none_dealloc" (or bool_dealloc). Python >= 3.12 is immune
    (immortal objects); on 3.11 we give the three singletons a reference count no program can
    use up.
    """
    global _PINNED
    if _PINNED or sys.version_info >= (3, 12):
        return
    import ctypes

    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 48
    _PINNED = True
