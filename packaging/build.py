#!/usr/bin/env python3
"""Build the Jobdesk bundle with PyInstaller: `python packaging/build.py`.

    1. render the app icon (PNGs, .ico, .icns) into build/icons/   (packaging/render_icons.py)
    2. python -m PyInstaller --noconfirm --clean packaging/jobdesk.spec
           --distpath dist --workpath build/pyinstaller
    3. start the bundled `jobdesk --version` once, then report the bundle's size and build time

Installs nothing: PyInstaller comes from `pip install -e .[package]`. Output (build/, dist/) is
never committed. Exit code: 0 when the bundle was built and starts, non-zero otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
BUNDLE = DIST / "jobdesk"


def say(text: str) -> None:
    print(f"build.py: {text}", flush=True)


def folder_size(path: Path) -> tuple[int, int]:
    """(bytes, files) below `path`, symlinks not followed (a macOS .app links into itself)."""
    total = count = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            file = Path(folder, name)
            if not file.is_symlink():
                total += file.stat().st_size
                count += 1
    return total, count


def run(step: str, argv: list[str]) -> float:
    say(f"{step}: {' '.join(argv)}")
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True)
    return time.perf_counter() - started


def smoke_test() -> str:
    """Start the bundled executable once: a missing module or library fails here, not for users."""
    exe = BUNDLE / ("jobdesk.exe" if os.name == "nt" else "jobdesk")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120, env=env)
    if result.returncode != 0:
        raise SystemExit(f"build.py: {exe} --version failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def main() -> int:
    if importlib.util.find_spec("PyInstaller") is None:
        say("PyInstaller is not installed; run: pip install -e .[package]")
        return 2
    icons = run("icons", [sys.executable, str(ROOT / "packaging" / "render_icons.py"), "--out", str(ROOT / "build" / "icons")])
    bundle = run(
        "bundle",
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", str(ROOT / "packaging" / "jobdesk.spec"),
         "--distpath", str(DIST), "--workpath", str(ROOT / "build" / "pyinstaller")],
    )
    version = smoke_test()
    size, files = folder_size(BUNDLE)
    say(f"{BUNDLE.relative_to(ROOT)}: {size / 1e6:.1f} MB in {files} files; `jobdesk --version` says {version!r}")
    app = DIST / "Jobdesk.app"
    if app.is_dir():
        app_size, _ = folder_size(app)
        say(f"{app.relative_to(ROOT)}: {app_size / 1e6:.1f} MB")
    say(f"time: icons {icons:.1f} s, PyInstaller {bundle:.1f} s, total {icons + bundle:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
