"""The window with jobs on other machines (issue 11), driven as a person would, against a real
redis-server and a real `jobdesk worker`: the broker typed into Settings, the Workers tab and
status line, "Runs on" in the editor, and the History table's "Ran on" column."""

from __future__ import annotations

import shlex
import socket
import sys

import psutil
import pytest
from PySide6.QtCore import Qt

from desktop.app import create_window
from desktop.history.history_model import RAN_ON
from jobs.model import RunStatus
from tests.desktop.clicks import click_index
from tests.desktop.conftest import leftover_children
from tests.jobs.remote_env import RedisServer, Worker, free_port

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Debian redis-server")]


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    folder = tmp_path_factory.mktemp("remote-window")
    redis = RedisServer(folder / "redis").start()
    worker = Worker(redis.url, "gpu", folder, concurrency=1)
    try:
        worker.start()
        yield redis, worker
    finally:
        worker.stop()
        redis.stop()


@pytest.fixture
def window(qtbot, data_dir, remote):
    """The main window (as tests/desktop/conftest.py's), whose teardown ignores the servers."""
    redis, worker = remote
    win = create_window(data_dir)
    qtbot.addWidget(win, before_close_func=lambda w: w.shutdown())
    qtbot.waitUntil(lambda: win.jobs_model.loaded, timeout=5000)
    yield win
    win.shutdown()
    servers = {redis.proc.pid, worker.pid, *(p.pid for p in psutil.Process(worker.pid).children(recursive=True))}
    left = [p for p in leftover_children() if p.pid not in servers]
    assert not left, f"processes left running: {[p.cmdline() for p in left]}"


def set_broker(window, qtbot, url: str) -> None:
    """Settings (the menu's action), the broker typed in, OK clicked."""
    window.job_actions.settings.trigger()
    dialog = window.job_actions.settings_dialog
    edit = dialog.broker_edit
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, url)
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)


def open_tab(window, qtbot, page) -> None:
    bar = window.tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(window.tabs.indexOf(page)).center())
    assert window.tabs.currentWidget() is page


def pool_rows(panel) -> list[list[str]]:
    model = panel.model
    return [[model.index(row, column).data() for column in range(model.columnCount())] for row in range(model.rowCount())]


def test_the_broker_typed_in_settings_shows_the_pool_in_the_workers_tab_and_status_bar(window, qtbot, remote):
    redis, worker = remote
    window.show()
    assert window.status.findChild(object, "workersState") is None  # no broker: no workers line
    assert window.tabs.indexOf(window.workers.panel) < 0  # and no Workers tab
    set_broker(window, qtbot, redis.url.replace("redis://", "redis://:s3cret@"))  # Redis here wants no password
    assert window.service.settings.broker == redis.url.replace("redis://", "redis://:s3cret@")
    qtbot.waitUntil(lambda: window.tabs.indexOf(window.workers.panel) >= 0, timeout=10_000)
    open_tab(window, qtbot, window.workers.panel)
    qtbot.waitUntil(lambda: [r[:2] for r in pool_rows(window.workers.panel)] == [["gpu", "1"]], timeout=10_000)
    [row] = pool_rows(window.workers.panel)
    assert row[2] == "0/1" and row[4] == f"gpu.{worker.pid}@{socket.gethostname()}: 0/1 running"
    label = window.status.workers_label
    assert label.text() == "Workers: 1 online, 0 running" and label.isVisible()
    summary = window.workers.panel.summary.text()
    assert "redis://:****@127.0.0.1" in summary and "s3cret" not in summary + label.toolTip()
    # Opening Settings again shows it masked; OK without a change keeps the password.
    window.job_actions.settings.trigger()
    dialog = window.job_actions.settings_dialog
    assert dialog.broker_edit.text() == f"redis://:****@127.0.0.1:{redis.port}/0"
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert "s3cret" in window.service.settings.broker


def test_runs_on_a_pool_chosen_in_the_editor_and_ran_on_in_history(window, qtbot, remote):
    redis, _ = remote
    window.show()
    set_broker(window, qtbot, redis.url)
    qtbot.waitUntil(lambda: "gpu" in window.workers.pools(), timeout=10_000)
    window.job_actions.new.trigger()
    editor = window.job_actions.editor
    qtbot.keyClicks(editor.ui.name_edit, "On the GPU box")
    qtbot.keyClicks(editor.ui.command_field.line_edit, shlex.join((sys.executable, "-c", "import socket; print('on', socket.gethostname())")))
    combo = editor.ui.policy_form.runs_on_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["This computer", "Pool gpu"]
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    qtbot.waitUntil(editor.ui.ok_button.isEnabled, timeout=3000)
    qtbot.mouseClick(editor.ui.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.current_spec() is not None, timeout=5000)
    assert window.current_spec().runs_on == "gpu"

    qtbot.mouseClick(window.run_now_button, Qt.MouseButton.LeftButton)
    model = window.history.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.record_at(0).status is RunStatus.SUCCEEDED, timeout=20_000)
    assert model.index(0, RAN_ON).data() == socket.gethostname()
    assert model.index(0, RAN_ON).data(Qt.ItemDataRole.ToolTipRole) == f"Sent to pool gpu, on {socket.gethostname()}"
    open_tab(window, qtbot, window.history)
    click_index(qtbot, window.history.table, model.index(0, RAN_ON))
    output = window.findChild(object, "runOutput")
    qtbot.waitUntil(lambda: f"on {socket.gethostname()}" in output.toPlainText(), timeout=5000)


def test_an_unreachable_broker_says_so_in_the_status_bar_and_the_window_keeps_answering(window, qtbot):
    window.show()
    set_broker(window, qtbot, f"redis://127.0.0.1:{free_port()}/0")
    qtbot.waitUntil(lambda: getattr(window.status, "workers_label", None) is not None
                    and window.status.workers_label.text() == "Broker unreachable", timeout=10_000)
    assert "(connection refused)" in window.status.workers_label.toolTip()
    open_tab(window, qtbot, window.workers.panel)
    assert "broker unreachable" in window.workers.panel.summary.text()
    open_tab(window, qtbot, window.history)  # the window answers clicks meanwhile
