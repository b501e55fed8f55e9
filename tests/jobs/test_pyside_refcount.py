"""The entry points survive PySide6 6.12.0's None refcount leak (jobs/pyside_refcount.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
from jobs.pyside_refcount import pin_singletons
pin_singletons()
from PySide6.QtCore import QCoreApplication, QTimer
app = QCoreApplication([])
timer = QTimer()
for _ in range(50_000):  # 6.12.0 without the guard aborts after ~10,000 (none_dealloc)
    timer.setInterval(5)
print("ok")
"""


def test_many_void_qt_calls_do_not_abort_the_interpreter():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-1000:]
