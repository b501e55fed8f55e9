"""The command line that starts Jobdesk, shared by the menu entry and the autostart entry."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

# main.py sits next to the jobs/ package, in a checkout and in site-packages alike
# (pyproject.toml installs it as a top-level module).
MAIN_PY = Path(__file__).resolve().parents[2] / "main.py"


def _exe(name: str) -> str:
    return f"{name}.exe" if os.name == "nt" else name


def find_script(name: str) -> str | None:
    """The absolute path of the installed console/GUI script `name`, or None.

    The scripts folder of the running interpreter wins over PATH: a stale `jobdesk-gui` from
    another install earlier on PATH must not become the autostart command of this one.
    """
    scripts = sysconfig.get_path("scripts")
    if scripts:
        candidate = Path(scripts) / _exe(name)
        if candidate.is_file():
            return str(candidate)
    found = shutil.which(name)
    return str(Path(found).absolute()) if found else None


def launcher_command(gui: bool) -> list[str]:
    """The argv that starts this Jobdesk, absolute so it works from a menu or at login.

    Args:
        gui: True for the window (menu entry, autostart), False for the console command.

    In order: inside a PyInstaller bundle (`sys.frozen`), the bundle's executable (on Windows
    the console-less `jobdesk-gui.exe` beside it when `gui`); the installed `jobdesk-gui` /
    `jobdesk` script; else this interpreter running `main.py` (`pythonw.exe` on Windows when
    `gui`, so no console window opens).
    """
    if getattr(sys, "frozen", False):
        exe = Path(sys.executable).absolute()
        if gui and os.name == "nt":
            quiet = exe.with_name("jobdesk-gui.exe")
            if quiet.is_file():
                return [str(quiet)]
        return [str(exe)]
    script = find_script("jobdesk-gui" if gui else "jobdesk")
    if script:
        return [script]
    python = Path(sys.executable).absolute()
    if gui and os.name == "nt":
        pythonw = python.with_name("pythonw.exe")
        if pythonw.is_file():
            python = pythonw
    return [str(python), str(MAIN_PY)]
