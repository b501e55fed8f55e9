"""The only OS calls that cannot run on Linux: the Windows registry's per-user Run key.

Kept apart so everything else in `jobs.integration` is pure and unit-tested on any OS; this
module is exercised only on Windows (CI matrix).
"""

from __future__ import annotations

import importlib
from typing import Any

# HKEY_CURRENT_USER\<RUN_KEY>: programs started at login for this user only (no admin rights).
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"


def _winreg() -> Any:
    # Imported by name at call time: the module exists on Windows only, and typeshed's stubs
    # are empty for other platforms, so a plain import would fail both at run time and in mypy.
    return importlib.import_module("winreg")


def set_run_value(name: str, data: str) -> None:
    """Create or replace the REG_SZ value `name` under HKCU\\...\\Run."""
    winreg = _winreg()
    with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
        winreg.SetValueEx(key, name, 0, winreg.REG_SZ, data)


def delete_run_value(name: str) -> bool:
    """Remove the value `name` under HKCU\\...\\Run; False when it was not there."""
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, name)
    except FileNotFoundError:
        return False
    return True


def read_run_value(name: str) -> str | None:
    """The data of the value `name` under HKCU\\...\\Run, or None when it does not exist."""
    winreg = _winreg()
    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_QUERY_VALUE) as key:
            data, _kind = winreg.QueryValueEx(key, name)
    except FileNotFoundError:
        return None
    return str(data)
