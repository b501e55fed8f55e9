"""The tray (driven through its menu and signals: offscreen has no real tray, NOTES item 25) and
the notification decision: policy, channel, and what clicking a notification opens."""

from __future__ import annotations

import sys
from datetime import datetime, timezone

from PySide6.QtWidgets import QSystemTrayIcon, QTabWidget

from desktop.icons import icon
from desktop.notifications import BANNER, TRAY, Banner, Notifier, message_for, wants_notification
from desktop.tray import FAILED, IDLE, RUNNING
from jobs import triggers
from jobs.model import CronSpec, JobSpec, Notify, RunCause, RunRecord, RunStatus

TZ = triggers.local_timezone_name()


def py(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


def add_job(window, qtbot, name: str, code: str = "pass", **kwargs) -> JobSpec:
    saved = window.service.add_job(JobSpec(name=name, command=py(code), trigger=CronSpec("0 3 * * *", TZ), **kwargs))
    qtbot.waitUntil(lambda: window.jobs_model.row_of(saved.id) is not None, timeout=5000)
    return saved


def record(status: RunStatus, *, exit_code: int | None = None, error: str | None = None, seconds: float = 12.3) -> RunRecord:
    start = datetime(2026, 3, 1, 7, 30, tzinfo=timezone.utc)
    end = datetime.fromtimestamp(start.timestamp() + seconds, timezone.utc)
    return RunRecord(id=7, job_id="j1", job_name="Nightly report", cause=RunCause.SCHEDULED, status=status,
                     started_at=start, ended_at=end, exit_code=exit_code, error=error)  # fmt: skip


def spec(notify: Notify) -> JobSpec:
    return JobSpec(name="Nightly report", command=("true",), trigger=CronSpec("0 3 * * *", TZ), id="j1", notify=notify)


# --- tray ---------------------------------------------------------------------------------------


def test_tray_icon_exists_but_is_hidden_without_a_tray(window):
    assert window.tray.icon.objectName() == "trayIcon"
    assert QSystemTrayIcon.isSystemTrayAvailable() is False  # offscreen
    assert not window.tray.available
    assert not window.tray.icon.isVisible()
    assert window.tray.state == IDLE


def test_tray_run_now_submenu_runs_the_job(window, qtbot):
    first = add_job(window, qtbot, "Alpha")
    add_job(window, qtbot, "Beta")
    actions = window.tray.run_actions()
    assert [a.text() for a in actions] == ["Alpha", "Beta"]
    actions[0].trigger()
    qtbot.waitUntil(lambda: window.service.history.last_runs([first.id]).get(first.id) is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.service.history.last_runs([first.id])[first.id].status is RunStatus.SUCCEEDED, timeout=10_000)


def test_tray_run_menu_follows_job_changes(window, qtbot):
    add_job(window, qtbot, "Alpha")
    assert [a.text() for a in window.tray.run_actions()] == ["Alpha"]
    add_job(window, qtbot, "Gamma")
    assert [a.text() for a in window.tray.run_actions()] == ["Alpha", "Gamma"]


def test_tray_pause_all_and_resume_all(window, qtbot):
    for name in ("A", "B", "C"):
        add_job(window, qtbot, name)
    menu_actions = {a.objectName(): a for a in window.tray.menu.actions()}
    menu_actions["pauseAllAction"].trigger()
    assert all(s.paused for s in window.service.jobs.all())
    qtbot.waitUntil(lambda: window.upcoming_model.rowCount() == 0, timeout=5000)
    qtbot.waitUntil(lambda: window.status.state_label.text() == "Paused all", timeout=3000)
    menu_actions["resumeAllAction"].trigger()
    assert not any(s.paused for s in window.service.jobs.all())
    qtbot.waitUntil(lambda: window.upcoming_model.rowCount() > 0, timeout=5000)


def test_tray_show_hide_toggles_the_window(window, qtbot):
    window.show()
    qtbot.waitExposed(window)
    window.tray.update_show_hide_text()
    assert window.tray.show_hide_action.text() == "Hide Jobdesk"
    window.tray.show_hide_action.trigger()
    assert not window.isVisible()
    window.tray.update_show_hide_text()
    assert window.tray.show_hide_action.text() == "Show Jobdesk"
    window.tray.show_hide_action.trigger()
    assert window.isVisible()
    window.tray.icon.activated.emit(QSystemTrayIcon.ActivationReason.Trigger)  # a click on the icon
    assert not window.isVisible()


def test_tray_icon_state_running_failed_idle(window, qtbot):
    slow = add_job(window, qtbot, "Slow", "import time; time.sleep(30)")
    bad = add_job(window, qtbot, "Bad", "raise SystemExit(2)", notify=Notify.NEVER)
    good = add_job(window, qtbot, "Good", notify=Notify.NEVER)
    tray = window.tray

    def shows(state: str) -> bool:
        return tray.state == state and tray.icon.icon().cacheKey() == tray.state_icon(state).cacheKey()

    run_id = window.service.run_now(slow.id)
    qtbot.waitUntil(lambda: shows(RUNNING), timeout=5000)
    assert "1 run in progress" in tray.icon.toolTip()
    window.service.cancel_run(run_id)
    qtbot.waitUntil(lambda: shows(FAILED), timeout=10_000)  # killed counts as a failure
    window.service.run_now(good.id)
    qtbot.waitUntil(lambda: shows(IDLE), timeout=10_000)
    window.service.run_now(bad.id)
    qtbot.waitUntil(lambda: shows(FAILED), timeout=10_000)
    assert tray.icon.toolTip() == "Jobdesk: the last run failed"
    assert not icon("tray-failed").isNull()


# --- notifications ------------------------------------------------------------------------------


def test_policy_decides_which_runs_notify():
    failed, ok = record(RunStatus.FAILED, exit_code=2), record(RunStatus.SUCCEEDED, exit_code=0)
    assert wants_notification(failed, spec(Notify.FAILURE))
    assert not wants_notification(ok, spec(Notify.FAILURE))
    assert wants_notification(ok, spec(Notify.ALWAYS)) and wants_notification(failed, spec(Notify.ALWAYS))
    assert not wants_notification(failed, spec(Notify.NEVER))
    assert not wants_notification(record(RunStatus.MISSED), spec(Notify.ALWAYS))
    assert wants_notification(record(RunStatus.TIMED_OUT, error="timed out after 10m"), spec(Notify.FAILURE))


def test_message_text():
    assert message_for(record(RunStatus.FAILED, exit_code=2), spec(Notify.FAILURE)) == (
        "Nightly report failed", "exit code 2 after 12.3 s")
    assert message_for(record(RunStatus.SUCCEEDED, exit_code=0, seconds=1.0), spec(Notify.ALWAYS)) == (
        "Nightly report succeeded", "exit code 0 after 1.0 s")
    title, body = message_for(record(RunStatus.FAILED, error="command: no such program 'nope'"), spec(Notify.FAILURE))
    assert body == "command: no such program 'nope'"


def test_notifier_falls_back_to_the_banner_offscreen(qtbot):
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    banner = Banner(tabs)
    notifier = Notifier(banner)
    assert notifier.channel() == BANNER
    assert notifier.notify(record(RunStatus.SUCCEEDED, exit_code=0), spec(Notify.FAILURE)) is None
    assert not banner.isVisibleTo(banner.parentWidget() or banner) or banner.isHidden()
    assert notifier.notify(record(RunStatus.FAILED, exit_code=2), spec(Notify.FAILURE)) == BANNER
    assert banner.text_label.full_text() == "Nightly report failed — exit code 2 after 12.3 s"
    with qtbot.waitSignal(notifier.view_requested) as blocker:
        banner.view_button.click()
    assert blocker.args == [7]
    assert banner.isHidden()


def test_notifier_uses_the_tray_when_there_is_one(window, qtbot):
    notifier = Notifier(window.banner, window.tray, tray_available=lambda: True)
    assert notifier.notify(record(RunStatus.FAILED, exit_code=2), spec(Notify.FAILURE)) == TRAY
    assert window.banner.isHidden()
    with qtbot.waitSignal(notifier.view_requested) as blocker:
        window.tray.icon.messageClicked.emit()
    assert blocker.args == [7]


def test_failed_run_shows_banner_and_view_output_opens_it(window, qtbot):
    job = add_job(window, qtbot, "Nightly report", "print('boom'); raise SystemExit(2)", notify=Notify.FAILURE)
    quiet = add_job(window, qtbot, "Quiet", "pass", notify=Notify.FAILURE)
    window.show()
    qtbot.waitExposed(window)
    window.service.run_now(quiet.id)
    qtbot.waitUntil(lambda: (window.jobs_model.last_run(quiet.id) or record(RunStatus.RUNNING)).status.is_final, timeout=10_000)
    assert window.banner.isHidden()  # success with the failure policy: nothing said
    run_id = window.service.run_now(job.id)
    qtbot.waitUntil(window.banner.isVisible, timeout=10_000)
    assert window.banner.text_label.full_text().startswith("Nightly report failed — exit code 2 after")
    window.banner.view_button.click()
    assert window.tabs.currentWidget() is window.history
    assert window.history.current_record is not None and window.history.current_record.id == run_id
    output = window.findChild(object, "runOutput")
    qtbot.waitUntil(lambda: "boom" in output.toPlainText(), timeout=5000)
