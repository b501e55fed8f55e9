"""Fixtures for the window tests: a real `JobService` on a temp data dir, isolated QSettings.

`window` is the whole main window from `create_window(data_dir)`, unshown; its teardown calls
`shutdown()` (kills running process trees, stops the service, releases the lock) and checks that
no child process of the test is left behind.
"""

from __future__ import annotations

import time

import psutil
import pytest
from PySide6.QtCore import QSettings

from desktop.app import create_window
from jobs.pyside_refcount import pin_singletons
from desktop.icons import clear_cache
from jobs.paths import DataDir, resolve_data_dir

pin_singletons()  # PySide6 6.12 on Python 3.11 leaks references to None (see jobs.pyside_refcount)


@pytest.fixture(autouse=True)
def isolated_qsettings(tmp_path):
    """Window state goes to this test's own folder, never to the user's real settings."""
    folder = tmp_path / "qsettings"
    folder.mkdir()
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture
def data_dir(tmp_path) -> DataDir:
    return resolve_data_dir(tmp_path / "data")


def leftover_children(timeout: float = 5.0) -> list[psutil.Process]:
    """Child processes of this test process still alive after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in psutil.Process().children(recursive=True) if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


@pytest.fixture
def window(qtbot, data_dir):
    win = create_window(data_dir)
    qtbot.addWidget(win, before_close_func=lambda w: w.shutdown())
    qtbot.waitUntil(lambda: win.jobs_model.loaded, timeout=5000)
    yield win
    win.shutdown()
    left = leftover_children()
    assert not left, f"processes left running: {[p.cmdline() for p in left]}"


@pytest.fixture(autouse=True)
def fresh_icons():
    yield
    clear_cache()
