"""Keep PySide6's import hook from holding the source of every module in memory.

WORKAROUND: since PYSIDE-2029 (https://bugreports.qt.io/browse/PYSIDE-2029) PySide6's
`__feature__` import hook asks, for every module imported after PySide6 (and once for every
module imported before), whether its source mentions "PySide6", with `inspect.getsource`.
That goes through `linecache`, which keeps every line of every file it read: measured in the
window, 556 files and ~19 MiB of line strings held for the life of the process (of a 200 MiB
budget at 10,000 jobs). The same question answered from the file's bytes keeps nothing.
"""

from __future__ import annotations

import linecache
import sys
from types import ModuleType
from typing import Callable

_FEATURE_MODULES = ("shibokensupport.feature", "PySide6.support.feature", "__feature__")


def scan_sources_without_caching() -> None:
    """Replace the hook's source check (after PySide6 was imported) and drop what it cached."""
    for name in _FEATURE_MODULES:
        module = sys.modules.get(name)
        original = getattr(module, "_mod_uses_pyside", None)
        if module is None or original is None or getattr(original, "reads_file", False):
            continue
        setattr(module, "_mod_uses_pyside", _from_file(original))
    linecache.clearcache()


def _from_file(original: Callable[[ModuleType], bool]) -> Callable[[ModuleType], bool]:
    def _mod_uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return b"PySide6" in source.read()
            except OSError:
                pass
        return original(module)  # no plain source file: as PySide decides

    _mod_uses_pyside.reads_file = True  # type: ignore[attr-defined]
    return _mod_uses_pyside
