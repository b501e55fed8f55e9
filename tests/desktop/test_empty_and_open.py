"""Things that used to say nothing: an empty Upcoming table, and "Open log file" on a desktop
that cannot open it."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox

from desktop.history.history_model import JOB
from jobs import triggers
from jobs.model import CronSpec, JobSpec, RunStatus
from tests.desktop.clicks import click_index

TZ = triggers.local_timezone_name()


def test_upcoming_says_why_it_is_empty(window, qtbot):
    window.resize(1000, 600)
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentIndex(1)
    message = window.upcoming_empty
    qtbot.waitUntil(message.isVisible, timeout=5000)
    assert "no jobs yet" in message.text()
    spec = window.service.add_job(JobSpec(name="Daily", command=("true",), trigger=CronSpec("0 3 * * *", TZ)))
    qtbot.waitUntil(lambda: window.upcoming_model.rowCount() > 0, timeout=5000)
    assert not message.isVisible()
    window.service.set_paused(spec.id, True)
    qtbot.waitUntil(message.isVisible, timeout=5000)
    assert message.text() == "Nothing scheduled: every job is paused"
    assert message.geometry() == window.upcoming_table.viewport().rect()


def test_open_log_file_says_so_when_nothing_opens_it_and_offers_the_path(window, qtbot):
    spec = window.service.add_job(JobSpec(name="Talks", command=(sys.executable, "-c", "print('hello')"),
                                          trigger=CronSpec("0 3 * * *", TZ)))  # fmt: skip
    run_id = window.service.run_now(spec.id)
    window.resize(1180, 760)
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window.history)
    model = window.history.model
    qtbot.waitUntil(lambda: model.row_of(run_id) is not None
                    and model.record_at(model.row_of(run_id)).status is RunStatus.SUCCEEDED, timeout=10_000)  # fmt: skip
    click_index(qtbot, window.history.table, model.index(model.row_of(run_id), JOB))
    panel = window.history.output
    qtbot.waitUntil(panel.open_button.isEnabled, timeout=3000)
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)  # offscreen: no application opens files
    box = next((w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()), None)
    assert box is not None and box.objectName() == "cannotOpenLog"
    log_path = str(window.service.get_run(run_id).log_path)
    assert log_path in box.informativeText()
    (copy,) = [b for b in box.findChildren(QAbstractButton) if b.text() == "Copy path"]
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == log_path
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=2000)  # any button closes it
