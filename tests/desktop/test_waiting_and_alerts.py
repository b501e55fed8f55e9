"""Waiting runs and alerts in the window, driven by mouse and keyboard (issue 12).

The condition is real: a job that needs a loopback port nobody listens on waits until a test
server listens there (the service's own `SystemConditions` probes it).
"""

from __future__ import annotations

import json
import socket
from datetime import datetime, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from desktop.editor import JobEditorDialog
from desktop.editor.field_marks import is_marked
from desktop.history.history_model import JOB, STATUS
from desktop.joblist.model import NAME
from desktop.notifications import wants_notification
from desktop.upcoming_model import COUNTDOWN, SCHEDULE
from jobs.alerts.config import secrets_path
from jobs.model import CronSpec, JobSpec, Notify, RunCause, RunRecord, RunStatus
from tests.conftest import py
from tests.desktop.clicks import click_index, menu_entries, open_context_menu
from tests.jobs.alert_servers import HttpServer, free_port

YEARLY = CronSpec("0 0 1 1 *", "UTC")


def add_waiting_job(window, port: int, **kw) -> JobSpec:
    spec = window.service.add_job(JobSpec(name="Sync", command=py("print('synced')"), trigger=YEARLY,
                                          requires=(f"network:127.0.0.1:{port}",), **kw))  # fmt: skip
    window.service.gate.poll = 0.2
    return spec


def select_job(qtbot, window, job_id: str) -> None:
    qtbot.waitUntil(lambda: window.jobs_model.row_of(job_id) is not None, timeout=5000)
    row = window.jobs_proxy.mapFromSource(window.jobs_model.index(window.jobs_model.row_of(job_id), NAME))
    click_index(qtbot, window.jobs_table, row)


def waiting_run(qtbot, window) -> RunRecord:
    qtbot.waitUntil(lambda: len(window.active.waiting) == 1, timeout=10_000)
    return window.active.waiting[0]


def test_a_waiting_run_shows_everywhere_and_run_anyway_starts_it(window, qtbot):
    window.show()
    port = free_port()
    spec = add_waiting_job(window, port)
    select_job(qtbot, window, spec.id)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    record = waiting_run(qtbot, window)
    words = f"127.0.0.1:{port} to answer"
    assert record.waiting_for == words
    upcoming = window.upcoming_model
    assert upcoming.index(0, COUNTDOWN).data() == "waiting"
    assert upcoming.index(0, SCHEDULE).data() == f"Waiting for {words}"
    assert window.tray.icon.toolTip() == f"Jobdesk: idle; 1 run waiting for {words}"
    assert window.tray.state == "idle"
    window.tray.rebuild_stop_menu()
    assert [a.text() for a in window.tray.stop_menu.actions()] == [f"Sync (run #{record.id}, waiting for {words})"]
    qtbot.waitUntil(lambda: "waiting for conditions" in window.status.runs_label.text(), timeout=5000)
    qtbot.waitUntil(lambda: window.detail.run_anyway_button.isVisible(), timeout=5000)
    assert f"waiting for {words}" in window.detail.label.toolTip() or "waiting for" in window.detail.label.text()
    row = window.history.model.row_of(record.id)
    assert window.history.model.index(row, STATUS).data() == "Waiting"

    qtbot.mouseClick(window.detail.run_anyway_button, Qt.MouseButton.LeftButton)
    done = window.service.wait_for_run(record.id, timeout=20)
    assert done.status is RunStatus.SUCCEEDED and done.waiting_for == words
    qtbot.waitUntil(lambda: window.upcoming_model.waiting() == [] and not window.detail.run_anyway_button.isVisible(),
                    timeout=5000)  # fmt: skip


def test_run_anyway_and_stop_from_the_history_context_menu(window, qtbot):
    window.show()
    port = free_port()
    spec = add_waiting_job(window, port)
    first = window.service.run_now(spec.id)
    waiting_run(qtbot, window)
    window.tabs.setCurrentIndex(3)
    history = window.history
    qtbot.waitUntil(lambda: history.model.row_of(first) is not None, timeout=5000)
    menu = open_context_menu(qtbot, history.table, history.model.index(history.model.row_of(first), JOB),
                             "historyContextMenu")  # fmt: skip
    entries = menu_entries(menu)
    assert {"Run anyway", "Stop run", "Copy command"} <= set(entries)
    entries["Run anyway"].trigger()
    menu.close()
    assert window.service.wait_for_run(first, timeout=20).status is RunStatus.SUCCEEDED
    qtbot.waitUntil(lambda: history.output.record.status is RunStatus.SUCCEEDED, timeout=5000)
    assert history.output.error_label.isHidden()  # "Waiting for ..." went with the wait
    assert "waited for 127.0.0.1" in history.output.summary_label.toolTip()


def test_a_waiting_run_starts_by_itself_when_its_server_answers(window, qtbot):
    port = free_port()
    spec = add_waiting_job(window, port)
    run_id = window.service.run_now(spec.id)
    waiting_run(qtbot, window)
    with socket.create_server(("127.0.0.1", port)):
        assert window.service.wait_for_run(run_id, timeout=20).status is RunStatus.SUCCEEDED
    qtbot.waitUntil(lambda: window.active.waiting == [] and window.upcoming_model.waiting() == [], timeout=5000)


def test_the_run_detail_shows_how_its_alerts_went(window, qtbot):
    window.show()
    with HttpServer(statuses=[404]) as hook:
        spec = window.service.add_job(JobSpec(name="Report", command=py("import sys; sys.exit(2)"), trigger=YEARLY,
                                              webhooks=(hook.url,)))  # fmt: skip
        run_id = window.service.run_now(spec.id)
        window.service.wait_for_run(run_id, timeout=20)
        window.tabs.setCurrentIndex(3)
        history = window.history
        qtbot.waitUntil(lambda: history.model.row_of(run_id) is not None, timeout=5000)
        click_index(qtbot, history.table, history.model.index(history.model.row_of(run_id), JOB))
        qtbot.waitUntil(lambda: history.output.alerts_label.isVisible()
                        and "failed" in history.output.alerts_label.text(), timeout=10_000)  # fmt: skip
    assert history.output.alerts_label.text() == f"Webhook {hook.url} failed: HTTP 404 Not Found"


def test_the_editor_sets_conditions_and_alerts_by_keyboard_and_mouse(qtbot):
    editor = JobEditorDialog()
    qtbot.addWidget(editor)
    editor.show()
    qtbot.keyClicks(editor.ui.name_edit, "Backup")
    qtbot.keyClicks(editor.ui.command_field.line_edit, "rsync -a src dst")
    tabs = editor.ui.more_tabs
    conditions = editor.ui.conditions_form
    qtbot.mouseClick(conditions.ac_power_check, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(conditions.servers_edit, "nas.local:22")
    qtbot.keyClicks(conditions.deadline_edit, "6h")
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(1).center())
    assert tabs.currentWidget() is editor.ui.alerts_form
    alerts = editor.ui.alerts_form
    qtbot.keyClicks(alerts.email_edit, "me@example.com, ops@example.com")
    qtbot.keyClicks(alerts.webhook_edit, "https://hooks.example/backup")
    qtbot.waitUntil(editor.is_valid, timeout=2000)
    spec = editor.current_spec()
    assert spec.requires == ("ac-power", "network:nas.local:22")
    assert spec.condition_deadline == 6 * 3600
    assert spec.email == ("me@example.com", "ops@example.com") and spec.webhooks == ("https://hooks.example/backup",)

    qtbot.keyClicks(alerts.email_edit, " not-an-address")
    qtbot.waitUntil(lambda: not editor.is_valid(), timeout=2000)
    assert editor.problems() == ["alerts: e-mail: 'not-an-address' is not an e-mail address (name@example.com)"]
    assert is_marked(alerts.email_edit) and not editor.ui.ok_button.isEnabled()


def test_a_deadline_with_nothing_to_wait_for_is_refused_in_the_editor(qtbot):
    editor = JobEditorDialog(JobSpec(name="x", command=("true",), trigger=YEARLY))
    qtbot.addWidget(editor)
    editor.show()
    qtbot.keyClicks(editor.ui.conditions_form.deadline_edit, "1h")
    qtbot.waitUntil(lambda: not editor.is_valid(), timeout=2000)
    assert "has nothing to wait for" in editor.problems()[0]
    assert is_marked(editor.ui.conditions_form.deadline_edit)


def test_an_unchanged_job_with_conditions_round_trips_through_the_editor(qtbot):
    spec = JobSpec(id="abc", name="x", command=("true",), trigger=YEARLY, requires=("network", "network:[::1]:80"),
                   condition_deadline=90.0, email=("a@example.com",), webhooks=("http://h.example/x",))  # fmt: skip
    editor = JobEditorDialog(spec)
    qtbot.addWidget(editor)
    assert editor.current_spec() == spec


def test_settings_dialog_saves_smtp_and_never_shows_the_password(window, qtbot, data_dir):
    window.show()
    window.job_actions.settings.trigger()
    dialog = window.job_actions.settings_dialog
    box = dialog.alerts_box
    qtbot.keyClicks(box.host_edit, "mail.example.com")
    qtbot.keyClicks(box.sender_edit, "jobdesk@example.com")
    qtbot.keyClicks(box.password_edit, "hunter2")
    assert box.password_edit.echoMode() == box.password_edit.EchoMode.Password
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    smtp = window.service.alert_settings.smtp
    assert (smtp.host, smtp.sender, smtp.password) == ("mail.example.com", "jobdesk@example.com", "hunter2")
    assert json.loads(secrets_path(data_dir).read_text())["smtp.password"] == "hunter2"
    window.job_actions.settings.trigger()
    again = window.job_actions.settings_dialog.alerts_box
    assert again.password_edit.text() == "" and again.password_edit.placeholderText() == "stored (unchanged)"
    qtbot.mouseClick(again.copy_secret_button, Qt.MouseButton.LeftButton)
    from PySide6.QtGui import QGuiApplication

    assert QGuiApplication.clipboard().text() == window.service.alert_settings.webhook_secret
    window.job_actions.settings_dialog.reject()


def test_a_run_that_waited_past_its_deadline_notifies_on_failure():
    record = RunRecord(id=1, job_id="j", job_name="Backup", cause=RunCause.SCHEDULED, status=RunStatus.MISSED,
                       ended_at=datetime.now(timezone.utc), error="missed: on battery for 6h", waiting_for="AC power")
    spec = JobSpec(name="Backup", command=("true",), trigger=YEARLY, notify=Notify.FAILURE)
    assert wants_notification(record, spec)
    from dataclasses import replace

    assert not wants_notification(replace(record, waiting_for=None), spec)  # a slot missed while closed
