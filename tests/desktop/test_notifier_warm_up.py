"""desktop-notifier is imported on a worker thread as scheduling starts (desktop_service.warm_up),
not on the GUI thread at the first notification: that import froze the window for 150-300 ms
at 10,000 jobs (issue 10). Without a session bus to find it is not imported at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs the real app (main.py) and says which thread first imported desktop-notifier's main module.
WATCHER = """
import importlib.abc, runpy, sys, threading

class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "desktop_notifier.main":
            main = threading.current_thread() is threading.main_thread()
            print("IMPORTED ON", "the GUI thread" if main else "a worker", flush=True)
        return None

sys.meta_path.insert(0, Watch())
sys.argv = ["main.py", "--data-dir", sys.argv[1]]
runpy.run_path({main!r}, run_name="__main__")
"""


def _start_window(data_dir, tmp_path, **env_changes: str | None) -> str:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "JOBDESK_BENCH_EXIT_AFTER_SHOW": "1"}  # fmt: skip
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    script = WATCHER.format(main=str(ROOT / "main.py"))
    done = subprocess.run([sys.executable, "-c", script, str(data_dir.root)], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "JOBDESK_LOADED" in done.stdout
    return done.stdout


def test_with_a_session_bus_the_library_is_imported_off_the_gui_thread_before_any_notification(data_dir, tmp_path):
    out = _start_window(data_dir, tmp_path, DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path / 'no-bus-here'}")
    assert "IMPORTED ON a worker" in out
    assert "IMPORTED ON the GUI thread" not in out


def test_without_a_session_bus_the_library_is_not_imported(data_dir, tmp_path):
    out = _start_window(data_dir, tmp_path, DBUS_SESSION_BUS_ADDRESS=None, DISPLAY=None)
    assert "IMPORTED ON" not in out
