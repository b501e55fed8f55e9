"""The History panel of a run on a pool's worker (issue 13 for remote runs): its outputs are
paths on the worker, so a run on another machine lists them with that host and its Open / Show
in folder buttons are off; one whose worker is this computer opens them. Its "changed since the
last success" block works as for a local run. Rows clicked with the mouse."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QPushButton

from desktop.app import create_window
from jobs.db import open_database
from jobs.history import HistoryRepository
from jobs.model import IntervalSpec, JobSpec, RunCause, RunOutcome, RunStatus
from jobs.paths import ensure_private_dir
from jobs.run_facts import OutputFile, RunEnvironment, ScriptFile
from jobs.runners.base import RunHandle, RunStarted
from tests.desktop.test_run_facts import UrlCatcher, click_run, open_history, shown

JOB = JobSpec(id="fit", name="Fit model", command=("python3", "fit.py"), trigger=IntervalSpec(1, "days", "UTC"),
              runs_on="gpu", expect=("model.bin",))


def remote_run(history: HistoryRepository, host: str, status: RunStatus, sha: str, minutes_ago: int) -> int:
    """A run as the Celery runner records it: queued on the pool, started on `host`, its outcome
    (outputs and environment from the worker)."""
    start = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    run_id = history.create(JOB, RunCause.MANUAL, RunStatus.QUEUED, queued_on=("celery", f"task-{sha}", "gpu"))
    history.mark_started(run_id, start, None, RunStarted(start, RunHandle("celery", ref=f"task-{sha}"), host=host))
    environment = RunEnvironment("/usr/bin/python3", (ScriptFile("/srv/fit.py", 10, start.timestamp(), sha * 64, 10),),
                                 "/srv", (), "1.0", host)
    outputs = (OutputFile("/srv/model.bin", 2048, start.timestamp() + 1),) if status is RunStatus.SUCCEEDED else ()
    history.finish(run_id, RunOutcome(status, 0 if outputs else 1, start, start + timedelta(seconds=2),
                                      error=None if outputs else "exit code 1", outputs=outputs,
                                      environment=environment))
    return run_id


def test_a_remote_runs_outputs_name_the_worker_and_what_changed_is_shown(qtbot, data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    try:
        history = HistoryRepository(engine)
        away = remote_run(history, "gpu-box-7", RunStatus.SUCCEEDED, "a", 30)
        failed = remote_run(history, "gpu-box-7", RunStatus.FAILED, "b", 20)
        here = remote_run(history, socket.gethostname(), RunStatus.SUCCEEDED, "b", 10)
    finally:
        engine.dispose()
    window = create_window(data_dir)
    qtbot.addWidget(window, before_close_func=lambda w: w.shutdown())
    shown(window, qtbot)
    open_history(window, qtbot)
    facts = window.history.facts

    click_run(window, qtbot, away)
    qtbot.waitUntil(lambda: facts.outputs_box.isVisible(), timeout=5000)
    open_button = facts.findChild(QPushButton, "openOutput")
    folder_button = facts.findChild(QPushButton, "showOutputFolder")
    assert not open_button.isEnabled() and not folder_button.isEnabled()
    assert open_button.toolTip() == "/srv/model.bin is on gpu-box-7, not on this computer"
    assert "model.bin" in (label := facts.findChild(QLabel, "outputFile")).text() and "on gpu-box-7" in label.text()
    catcher = UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "open_url")
    try:
        qtbot.mouseClick(open_button, Qt.MouseButton.LeftButton)
        assert catcher.urls == []  # nothing opened on this computer

        click_run(window, qtbot, failed)
        qtbot.waitUntil(lambda: facts.changes is not None, timeout=5000)
        assert f"Changed since the last success (run #{away}):" in facts.changes_label.text()
        assert "script fit.py modified at" in facts.changes_label.text()

        click_run(window, qtbot, here)
        qtbot.waitUntil(lambda: facts.outputs_box.isVisible(), timeout=5000)
        open_button = facts.findChild(QPushButton, "openOutput")
        assert open_button.isEnabled() and "on " not in facts.findChild(QLabel, "outputFile").text().split("—")[1]
        qtbot.mouseClick(open_button, Qt.MouseButton.LeftButton)
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert catcher.urls == ["/srv/model.bin"]
