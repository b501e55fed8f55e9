"""Starting the window: any kind of path (issue 8, item 16), and never deaf (issue 9, item 1)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

import desktop
from desktop.app import run_window
from jobs.instance import InstanceLock
from jobs.ipc import SocketUnavailable
from jobs.paths import DataDir


@pytest.mark.parametrize("kind", [str, Path, DataDir])
def test_create_window_takes_a_path_as_well_as_a_data_dir(qtbot, tmp_path, kind):
    root = tmp_path / "data"
    win = desktop.create_window(kind(root) if kind is not DataDir else DataDir(root))
    qtbot.addWidget(win, before_close_func=lambda w: w.shutdown())
    qtbot.waitUntil(lambda: win.jobs_model.loaded, timeout=5000)
    assert win.service.data_dir == DataDir(root) and win.lock.held
    win.shutdown()
    assert not win.lock.held


@pytest.fixture
def unusable_socket_place(tmp_path, monkeypatch) -> DataDir:
    """A data dir too long for a socket path, and a symlink where the fallback directory goes."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    (tmp_path / "elsewhere").mkdir()
    (runtime / f"jobdesk-{os.geteuid()}").symlink_to(tmp_path / "elsewhere")
    return DataDir(tmp_path / ("long-" + "d" * 110) / "data")


@pytest.mark.skipif(os.name != "posix", reason="socket files and their directories are POSIX")
def test_a_window_that_cannot_listen_does_not_start(qapp, unusable_socket_place):
    data_dir = unusable_socket_place
    with pytest.raises(SocketUnavailable, match="not a plain directory"):
        desktop.create_window(data_dir, listen=True)
    lock = InstanceLock(data_dir)
    assert lock.try_acquire()  # released: nothing holds the data dir
    lock.release()


@pytest.mark.skipif(os.name != "posix", reason="socket files and their directories are POSIX")
def test_run_window_says_why_and_exits_1_when_it_cannot_listen(qapp, monkeypatch, unusable_socket_place, capsys):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *rest: shown.append((title, text)))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    handlers = list(logging.getLogger().handlers)
    quit_on_close = qapp.quitOnLastWindowClosed()
    try:
        code = run_window(argparse.Namespace(data_dir=str(unusable_socket_place.root), minimized=False, verbose=False))
    finally:
        for handler in logging.getLogger().handlers[:]:
            if handler not in handlers:
                logging.getLogger().removeHandler(handler)
                handler.close()
        qapp.setQuitOnLastWindowClosed(quit_on_close)
    assert code == 1
    [(title, text)] = shown
    assert title == "Jobdesk cannot listen for commands" and "not a plain directory" in text
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "cannot listen for commands" in line
