"""The main window driven as a person would: editor, run now, pause, delete, import, filter, keys.

Everything runs against a real `JobService` on a temp data dir with real child processes
(`sys.executable -c ...`). Only Qt's own modal dialogs (QMessageBox, QFileDialog) are patched.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from datetime import datetime

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from desktop.app import InstanceBusy, create_window, display_available, run_window
from desktop.closing import STOP, remember_close_choice
from desktop.history.history_model import HistoryModel
from desktop.joblist.model import COUNTDOWN, LAST_RUN, NAME, STATE
from jobs import triggers
from jobs.model import CronSpec, JobSpec, Overlap, RunStatus
from jobs.transfer import export_text

TZ = triggers.local_timezone_name()


def py(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def add_job(window, qtbot, name="Nightly report", code="print('hello')", cron="*/5 * * * *", **kwargs) -> JobSpec:
    """A job saved through the service (as the CLI would), once the window lists it."""
    spec = JobSpec(name=name, command=py(code), trigger=CronSpec(cron, TZ), **kwargs)
    saved = window.service.add_job(spec)
    qtbot.waitUntil(lambda: window.jobs_model.row_of(saved.id) is not None, timeout=5000)
    return saved


def table_names(window) -> list[str]:
    proxy = window.jobs_proxy
    return [proxy.index(row, NAME).data() for row in range(proxy.rowCount())]


def select(window, qtbot, job_id: str) -> None:
    assert window.select_job(job_id)
    qtbot.waitUntil(lambda: window.current_spec() is not None and window.current_spec().id == job_id, timeout=2000)


def history_records(model: HistoryModel) -> list:
    return [model.record_at(row) for row in range(model.rowCount())]


# --- structure --------------------------------------------------------------------------------


def test_object_and_accessible_names(window):
    for name in ("mainWindow", "jobsTable", "upcomingTable", "timelineView", "historyTable", "runOutput", "runNowButton"):
        widget = window if name == "mainWindow" else window.findChild(object, name)
        assert widget is not None, name
        assert widget.objectName() == name
        assert widget.accessibleName() == name or name in ("historyTable", "runOutput"), name
    for name in ("newJobAction", "editJobAction", "deleteJobAction", "runNowAction", "pauseJobAction", "resumeJobAction"):
        action = window.findChild(object, name)
        assert action is not None, name
    assert window.tray.icon.objectName() == "trayIcon"


def test_empty_state_and_disabled_run_now(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    assert window.empty_state.isVisible()
    assert window.empty_state.label.text() == "No jobs yet — New job… or import a file"
    assert window.empty_state.new_button.isVisible() and window.empty_state.import_button.isVisible()
    assert not window.run_now_button.isEnabled()
    assert not window.job_actions.edit.isEnabled() and not window.job_actions.delete.isEnabled()
    assert window.status.state_label.text() == "Scheduling"
    assert window.status.next_label.text() == "Next: nothing scheduled"


# --- the editor ---------------------------------------------------------------------------------


def open_new_editor(window, qtbot):
    window.job_actions.new.trigger()
    dialog = window.job_actions.editor
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_create_job_through_editor(window, qtbot):
    window.show()
    dialog = open_new_editor(window, qtbot)
    qtbot.keyClicks(dialog.ui.name_edit, "Nightly report")
    qtbot.keyClicks(dialog.ui.command_field.line_edit, shlex.join(py("print('hello')")))
    dialog.ui.cron_editor.expression_edit.clear()
    qtbot.keyClicks(dialog.ui.cron_editor.expression_edit, "*/10 * * * *")
    qtbot.waitUntil(dialog.ui.ok_button.isEnabled, timeout=3000)
    qtbot.mouseClick(dialog.ui.ok_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: table_names(window) == ["Nightly report"], timeout=5000)
    job_id = window.service.jobs.all()[0].id
    qtbot.waitUntil(lambda: job_id in window.upcoming_model.job_ids(), timeout=5000)
    assert window.upcoming_model.rowCount() > 1  # every 10 minutes for a week, capped at 200
    qtbot.waitUntil(lambda: window.current_spec() is not None, timeout=2000)  # the new job is selected
    assert window.current_spec().name == "Nightly report"
    assert window.run_now_button.isEnabled()
    assert not window.empty_state.isVisible()
    assert window.status.next_label.text().startswith("Next: Nightly report in")
    assert window.job_actions.editor is None


def test_invalid_cron_disables_ok(window, qtbot):
    dialog = open_new_editor(window, qtbot)
    qtbot.keyClicks(dialog.ui.name_edit, "Broken")
    qtbot.keyClicks(dialog.ui.command_field.line_edit, shlex.join(py("pass")))
    dialog.ui.cron_editor.expression_edit.clear()
    qtbot.keyClicks(dialog.ui.cron_editor.expression_edit, "61 * * * *")
    qtbot.waitUntil(lambda: any("61" in problem for problem in dialog.problems()), timeout=3000)
    assert not dialog.ui.ok_button.isEnabled()
    dialog.reject()
    qtbot.waitUntil(lambda: window.job_actions.editor is None, timeout=2000)
    assert window.service.jobs.all() == []


def test_double_click_and_edit_saves_changes(window, qtbot):
    spec = add_job(window, qtbot, name="Old name")
    select(window, qtbot, spec.id)
    window.job_actions.edit.trigger()
    dialog = window.job_actions.editor
    assert dialog.ui.name_edit.text() == "Old name"
    dialog.ui.name_edit.clear()
    qtbot.keyClicks(dialog.ui.name_edit, "New name")
    qtbot.waitUntil(dialog.ui.ok_button.isEnabled, timeout=3000)
    dialog.accept()
    qtbot.waitUntil(lambda: table_names(window) == ["New name"], timeout=5000)
    assert window.service.jobs.get(spec.id).name == "New name"


# --- running ------------------------------------------------------------------------------------


def test_run_now_shows_live_history_and_output(window, qtbot):
    spec = add_job(window, qtbot, code="print('hello')")
    select(window, qtbot, spec.id)
    assert window.run_now_button.isEnabled()
    qtbot.mouseClick(window.run_now_button, Qt.MouseButton.LeftButton)
    history = window.history
    qtbot.waitUntil(lambda: history.model.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: history_records(history.model)[0].status is RunStatus.SUCCEEDED, timeout=10_000)
    run = history_records(history.model)[0]
    assert window.history.show_run(run.id)
    output = window.findChild(object, "runOutput")
    qtbot.waitUntil(lambda: "hello" in output.toPlainText(), timeout=5000)
    # The jobs table's last-run column follows the run's events.
    qtbot.waitUntil(lambda: window.jobs_model.last_run(spec.id) is not None
                    and window.jobs_model.last_run(spec.id).status is RunStatus.SUCCEEDED, timeout=5000)  # fmt: skip
    row = window.jobs_model.row_of(spec.id)
    assert "Succeeded" in window.jobs_model.index(row, LAST_RUN).data(Qt.ItemDataRole.ToolTipRole)
    assert window.tabs.currentIndex() == 0  # run now does not switch tabs


def test_run_now_skipped_by_overlap_says_so(window, qtbot):
    spec = add_job(window, qtbot, name="Slow", code="import time; time.sleep(30)", overlap=Overlap.SKIP)
    select(window, qtbot, spec.id)
    window.job_actions.run_now.trigger()
    qtbot.waitUntil(lambda: window.status.runs_label.text() == "1 run in progress", timeout=5000)
    window.job_actions.run_now.trigger()
    assert "was not started" in window.status.currentMessage()
    assert "Slow" in window.status.currentMessage()
    # the teardown's shutdown kills the sleeping process tree (checked by the fixture)


# --- pausing, deleting --------------------------------------------------------------------------


def test_pause_and_resume_update_upcoming_and_state(window, qtbot):
    spec = add_job(window, qtbot)
    select(window, qtbot, spec.id)
    qtbot.waitUntil(lambda: spec.id in window.upcoming_model.job_ids(), timeout=5000)
    row = window.jobs_model.row_of(spec.id)
    assert window.jobs_model.index(row, STATE).data() == "Active"
    assert window.job_actions.pause.isEnabled() and not window.job_actions.resume.isEnabled()

    window.job_actions.pause.trigger()
    qtbot.waitUntil(lambda: spec.id not in window.upcoming_model.job_ids(), timeout=5000)
    assert window.jobs_model.index(window.jobs_model.row_of(spec.id), STATE).data() == "Paused"
    assert window.job_actions.resume.isEnabled() and not window.job_actions.pause.isEnabled()
    assert window.service.jobs.get(spec.id).paused
    qtbot.waitUntil(lambda: window.status.state_label.text() == "Paused all", timeout=3000)

    window.job_actions.resume.trigger()
    qtbot.waitUntil(lambda: spec.id in window.upcoming_model.job_ids(), timeout=5000)
    assert window.jobs_model.index(window.jobs_model.row_of(spec.id), STATE).data() == "Active"
    assert window.job_actions.pause.isEnabled()


def test_space_toggles_pause_and_delete_key_asks(window, qtbot, monkeypatch):
    spec = add_job(window, qtbot)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.jobs_table.setFocus()
    select(window, qtbot, spec.id)
    qtbot.waitUntil(window.jobs_table.hasFocus, timeout=2000)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.service.jobs.get(spec.id).paused, timeout=3000)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not window.service.jobs.get(spec.id).paused, timeout=3000)

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: asked.append(args[2]) or QMessageBox.StandardButton.Cancel)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Delete)
    assert asked and "Nightly report" in asked[0]
    assert window.service.jobs.ids() == {spec.id}  # cancelled: still there


def test_delete_asks_naming_the_job(window, qtbot, monkeypatch):
    keep = add_job(window, qtbot, name="Keep me")
    doomed = add_job(window, qtbot, name="Delete me")
    select(window, qtbot, doomed.id)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: asked.append(args[2]) or QMessageBox.StandardButton.Yes)
    window.job_actions.delete.trigger()
    assert len(asked) == 1 and "“Delete me”" in asked[0]
    qtbot.waitUntil(lambda: table_names(window) == ["Keep me"], timeout=5000)
    assert window.service.jobs.ids() == {keep.id}


# --- import, export, filter ---------------------------------------------------------------------


def test_import_malformed_toml_shows_error_and_adds_nothing(window, qtbot, monkeypatch, tmp_path):
    bad = tmp_path / "jobs.toml"
    bad.write_text('format = 1\n[[job]]\nname = "x"\ncommand = ["true"]\ntrigger = { kind = "cron", expression = "61 * * * *" }\n')
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kw: (str(bad), ""))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *rest: shown.append((title, text)))
    window.job_actions.import_.trigger()
    assert len(shown) == 1
    title, text = shown[0]
    assert title == "Nothing was imported"
    assert str(bad) in text and "job 1" in text
    assert window.service.jobs.all() == []

    shown.clear()
    bad.write_text("this is not [toml")
    window.job_actions.import_.trigger()
    assert shown and "not valid TOML" in shown[0][1]
    assert window.service.jobs.all() == []


def test_import_then_export_round_trip(window, qtbot, monkeypatch, tmp_path):
    specs = [JobSpec(name=f"Report {n}", command=py("pass"), trigger=CronSpec(f"{n} 7 * * *", TZ), tags=("daily",))
             for n in range(3)]  # fmt: skip
    source = tmp_path / "in.toml"
    source.write_text(export_text(specs))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kw: (str(source), ""))
    window.job_actions.import_.trigger()
    qtbot.waitUntil(lambda: len(table_names(window)) == 3, timeout=5000)
    assert "Imported 3 jobs" in window.status.currentMessage()

    target = tmp_path / "out.toml"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kw: (str(target), ""))
    window.job_actions.export.trigger()
    text = target.read_text()
    assert all(f'"Report {n}"' in text for n in range(3))


def test_filter_by_name_or_tag(window, qtbot):
    add_job(window, qtbot, name="Sales report", tags=("finance",))
    add_job(window, qtbot, name="Backup photos", tags=("home",))
    qtbot.waitUntil(lambda: len(table_names(window)) == 2, timeout=5000)
    window.job_actions.find.trigger()
    qtbot.keyClicks(window.filter_edit, "FIN")
    assert table_names(window) == ["Sales report"]
    window.filter_edit.setText("backup")
    assert table_names(window) == ["Backup photos"]
    window.filter_edit.setText("nothing like this")
    assert table_names(window) == []
    assert window.empty_state.label.text() == "No jobs match “nothing like this”"
    assert not window.empty_state.new_button.isVisibleTo(window.empty_state)


def test_long_names_elide_with_tooltips(window, qtbot):
    long_name = "Quarterly revenue reconciliation for every regional subsidiary " * 3
    spec = add_job(window, qtbot, name=long_name.strip())
    index = window.jobs_proxy.index(0, NAME)
    assert index.data(Qt.ItemDataRole.ToolTipRole).startswith(spec.name)
    assert window.jobs_table.textElideMode() == Qt.TextElideMode.ElideRight


# --- clock, state, lifecycle --------------------------------------------------------------------


def test_clock_tick_touches_only_the_countdown_column(window, qtbot):
    far = f"0 {(datetime.now().hour + 12) % 24} * * *"  # "in 12 h": the text changes once an hour
    add_job(window, qtbot, name="A", cron=far)
    add_job(window, qtbot, name="B", cron=far)
    window.show()
    qtbot.waitExposed(window)
    changes, source_changes, resets = [], [], []
    window.jobs_proxy.dataChanged.connect(lambda tl, br, roles=(): changes.append((tl.column(), br.column(), br.row())))
    window.jobs_model.dataChanged.connect(lambda *args: source_changes.append(args))
    window.jobs_model.modelReset.connect(lambda: resets.append(1))
    window._shown_countdowns[0].clear()
    window.tick()
    assert changes == [(COUNTDOWN, COUNTDOWN, 0), (COUNTDOWN, COUNTDOWN, 1)]  # rows on screen, countdowns only
    assert source_changes == [] and resets == []  # no re-sort, no reset
    changes.clear()
    window.tick()
    assert changes == []  # "in 5 min" did not change within the second: nothing to repaint
    timers = [t for t in window.findChildren(type(window.clock)) if t.isActive() and t.interval() == 1000]
    assert timers == [window.clock]


def test_window_state_is_saved_in_qsettings(window, qtbot, isolated_qsettings):
    window.resize(900, 600)
    window.tabs.setCurrentIndex(2)
    window.shutdown()
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "Jobdesk", "Jobdesk")
    assert settings.value("window/tab", type=int) == 2
    assert not settings.value("window/geometry").isEmpty()
    assert str(isolated_qsettings) in settings.fileName()


def test_close_without_tray_asks_when_runs_are_going(window, qtbot, monkeypatch):
    remember_close_choice(STOP)  # answered "Stop scheduling" before (tests/desktop/test_closing.py)
    spec = add_job(window, qtbot, name="Slow", code="import time; time.sleep(30)")
    window.service.run_now(spec.id)
    qtbot.waitUntil(lambda: window.service.running_count() == 1, timeout=5000)
    window.show()
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: asked.append(args[2]) or QMessageBox.StandardButton.Cancel)
    window.close()
    assert asked and "1 run is in progress" in asked[0]
    assert window.isVisible() and window.service.scheduling
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: QMessageBox.StandardButton.Yes)
    window.close()
    assert not window.isVisible() and not window.service.scheduling
    assert not window.lock.held


def test_second_window_on_same_data_dir_is_refused(window, data_dir):
    with pytest.raises(InstanceBusy):
        create_window(data_dir)


def test_no_display_prints_one_line_and_exits_2(monkeypatch, capsys):
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert not display_available(platform="linux")
    args = argparse.Namespace(data_dir=None, minimized=False, verbose=False)
    if sys.platform.startswith("linux"):
        assert run_window(args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "jobdesk serve" in err[0]


def test_database_error_shows_message_and_exits_1(qapp, monkeypatch, tmp_path):
    data = tmp_path / "broken"
    data.mkdir()
    database = data / "jobdesk.sqlite3"
    database.write_bytes(b"this is not a database" * 100)
    before = database.read_bytes()
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *rest: shown.append(text))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    handlers = list(logging.getLogger().handlers)
    quit_on_close = qapp.quitOnLastWindowClosed()
    try:
        code = run_window(argparse.Namespace(data_dir=str(data), minimized=False, verbose=False))
    finally:
        for handler in logging.getLogger().handlers[:]:
            if handler not in handlers:
                logging.getLogger().removeHandler(handler)
                handler.close()
        qapp.setQuitOnLastWindowClosed(quit_on_close)
    assert code == 1
    assert len(shown) == 1 and "jobdesk.sqlite3" in shown[0]
    assert database.read_bytes() == before
    assert QApplication.activeModalWidget() is None


def test_second_start_activates_the_running_window(qtbot, data_dir, tmp_path):
    """`jobdesk` started again on the same data dir asks the running window to show itself."""
    import os
    import subprocess
    from pathlib import Path

    win = create_window(data_dir, listen=True)
    qtbot.addWidget(win, before_close_func=lambda w: w.shutdown())
    assert not win.isVisible()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    err = tmp_path / "second.err"
    with err.open("w") as stderr:
        proc = subprocess.Popen([sys.executable, str(root / "main.py"), "--data-dir", str(data_dir.root)],
                                env=env, stderr=stderr)  # fmt: skip
        try:
            qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30_000)  # our loop answers meanwhile
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0
    assert "already running" in err.read_text()
    assert win.isVisible()
    qtbot.wait(300)  # the server side of the connection sees the client go before we close it
    win.shutdown()
