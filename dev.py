#!/usr/bin/env python3
"""Set up Jobdesk in ./.venv and run it or its tests, on a machine that has only python3.

    python3 dev.py run [ARGS...]     set up, then start Jobdesk (ARGS go to main.py)
    python3 dev.py test [PYTEST ARGS...]   set up, then run the whole test suite offscreen
    python3 dev.py typecheck         set up, then run mypy over the packages it checks

Standard library only. On Debian, `venv`, Qt's few system libraries, `redis-server` (the
remote-run tests start real ones) and `dbus-daemon` (the notification tests start a private
session bus) come from separate packages; when they are missing and we are
root, they are installed with apt-get, otherwise the exact command is printed.
"""

from __future__ import annotations

import ctypes.util
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".jobdesk-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")

# Libraries the Qt wheels load even offscreen, with the Debian packages that ship them.
QT_SYSTEM_LIBS = {
    "EGL": "libegl1", "GL": "libgl1", "fontconfig": "libfontconfig1", "xkbcommon": "libxkbcommon0",
    "dbus-1": "libdbus-1-3", "glib-2.0": "libglib2.0-0",
}
FONTS = Path("/usr/share/fonts/truetype/dejavu")
TYPECHECKED = ["jobs", "desktop"]


def say(text: str) -> None:
    print(f"dev.py: {text}", flush=True)


def can_apt() -> bool:
    return os.name == "posix" and bool(shutil.which("apt-get")) and os.geteuid() == 0


def apt_install(packages: list[str], why: str) -> None:
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if not can_apt():
        sys.exit(f"dev.py: {why}; install them first: sudo {' '.join(command)}")
    say(f"{why}; installing {' '.join(packages)}")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(command, check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def ensure_system_packages() -> None:
    if not sys.platform.startswith("linux"):
        return
    missing = [pkg for lib, pkg in QT_SYSTEM_LIBS.items() if ctypes.util.find_library(lib) is None]
    if not FONTS.exists():
        missing.append("fonts-dejavu-core")
    try:
        import ensurepip  # noqa: F401
    except ImportError:
        missing.append(f"python3.{sys.version_info.minor}-venv")
    if not shutil.which("redis-server"):  # tests/jobs/test_remote_*.py start real ones (issue 11)
        if can_apt():
            missing.append("redis-server")
        else:  # Jobdesk itself runs without it: say how, and go on
            say("the remote-run tests need redis-server: sudo apt-get install -y --no-install-recommends redis-server")
    if not shutil.which("dbus-daemon") and can_apt():  # the notification tests start a private session bus
        missing += ["dbus-daemon", "dbus-session-bus-common"]
    if missing:
        apt_install(missing, "Qt, venv and the remote-run tests need system packages")


def requirements_hash() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"dev.py: Jobdesk needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    ensure_system_packages()
    if not PYTHON.exists():
        say("creating .venv")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if STAMP.exists() and STAMP.read_text() == requirements_hash():
        return
    say("installing Jobdesk and its test tools into .venv (first run only)")
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[test,package]"], check=True)
    STAMP.write_text(requirements_hash())


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "typecheck"):
        print(__doc__)
        return 2
    ensure_venv()
    if argv[0] == "run":
        return subprocess.call([str(PYTHON), str(ROOT / "main.py"), *argv[1:]])
    if argv[0] == "typecheck":
        return subprocess.call([str(PYTHON), "-m", "mypy", *TYPECHECKED], cwd=ROOT)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.call([str(PYTHON), "-m", "pytest", *argv[1:]], cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
