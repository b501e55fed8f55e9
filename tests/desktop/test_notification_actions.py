"""Notifications that act (issue 13): a finished run's notification goes to the desktop's
notification service with "Show output" and "Run again"; clicking them reaches the window.

Honest end to end on Linux: a private `dbus-daemon --session`, a small freedesktop notification
server on it (tests/desktop/notification_server.py, dbus-fast) that records `Notify` calls and
emits `ActionInvoked` as a desktop does when the user clicks, and the window on a qasync loop
(as `jobdesk` runs it) sending through desktop-notifier. Without a service the tray balloon or
the in-window banner says it instead, with no error.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sys

import pytest
from PySide6.QtCore import Qt

from desktop.history.history_model import RUN_ID_ROLE
from desktop.main_window import HISTORY_TAB
from desktop.notifications import BANNER, DBUS
from jobs.history import HistoryQuery
from jobs.model import CronSpec, JobSpec, Notify, RunStatus
from tests.desktop.test_stderr import FAILING, TZ, add, run_by_hand, shown

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None or not sys.platform.startswith("linux"),
                                reason="needs dbus-daemon (python3 dev.py installs it on Debian)")  # fmt: skip


@pytest.fixture
def qasync_loop(qapp):
    """asyncio on Qt's loop while qtbot waits, as `jobdesk` runs (NOTES item 23)."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    for task in asyncio.all_tasks(loop):
        task.cancel()
    asyncio.events._set_running_loop(None)
    loop._QEventLoop__is_running = False  # it never ran run_forever: let close() release it
    loop.close()
    asyncio.set_event_loop(None)


@pytest.fixture
def session_bus(monkeypatch):
    from tests.desktop.notification_server import start_session_bus

    address, process = start_session_bus()
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    process.terminate()
    process.wait(10)
    process.stdout.close()


@pytest.fixture
def server(window, qasync_loop, session_bus, qtbot):
    """The service on the bus; at the end the window's bus connection closes while the loop runs."""
    from tests.desktop.notification_server import NotificationServer

    server = NotificationServer()
    wait_for(qasync_loop, qtbot, server.start(session_bus))
    yield server
    close_bus(window, qtbot)
    wait_for(qasync_loop, qtbot, server.stop())


def close_bus(window, qtbot) -> None:
    window.notifier.close()
    closing = window.notifier.desktop.closing
    if closing is not None:
        qtbot.waitUntil(closing.done, timeout=5000)


def wait_for(loop, qtbot, coroutine, timeout: int = 5000):
    task = loop.create_task(coroutine)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()


def delivered(window) -> list:
    """Records whose notification the service took, filled as it happens. Click only after that:
    the library maps the service's notification id to ours when `Notify` has returned."""
    taken: list = []
    window.notifier.desktop.delivered.connect(taken.append)
    return taken


def selected_run_id(window) -> int | None:
    rows = window.history.table.selectionModel().selectedRows()
    return rows[0].data(RUN_ID_ROLE) if rows else None


def runs_of(window, spec: JobSpec) -> list:
    return window.service.query_history(HistoryQuery(job_id=spec.id))


# The window fixture comes first in each signature so the bus ends before its check for
# processes left running.


def test_a_failure_goes_to_the_service_with_buttons_and_show_output_opens_the_run(window, server, qtbot):
    spec = add(window, qtbot, "Nightly report", FAILING)
    shown(window, qtbot)
    window.showMinimized()  # "raises the window": it comes back from the taskbar
    taken = delivered(window)
    run_by_hand(window, qtbot, spec)
    qtbot.waitUntil(lambda: len(taken) == 1, timeout=10_000)
    assert len(server.calls) == 1
    call = server.calls[0]
    run = runs_of(window, spec)[0]
    assert (call["app_name"], call["summary"]) == ("Jobdesk", "Nightly report failed")
    assert call["body"].splitlines()[1:] == ["Traceback (most recent call last):", "ValueError: bad row 7"]
    assert [label for _key, label in call["actions"]] == ["", "Show output", "Run again"]  # "" is the body's click
    assert call["hints"]["urgency"].value == 2  # critical: it failed
    assert window.notifier.last is None or window.notifier.last[0] != BANNER
    assert not window.banner.isVisible()  # the service took it: no second notice in the window

    window.tabs.setCurrentIndex(0)
    server.click(call, "Show output")
    qtbot.waitUntil(lambda: window.tabs.currentIndex() == HISTORY_TAB and selected_run_id(window) == run.id, timeout=5000)
    assert window.isVisible() and not window.isMinimized()
    qtbot.waitUntil(lambda: "ValueError: bad row 7" in window.history.output.view.toPlainText(), timeout=5000)


def test_run_again_starts_a_new_run_and_clicking_the_body_shows_the_run(window, server, qtbot):
    spec = add(window, qtbot, "Flaky export", FAILING)
    shown(window, qtbot)
    taken = delivered(window)
    run_by_hand(window, qtbot, spec)
    qtbot.waitUntil(lambda: len(taken) == 1, timeout=10_000)
    first = runs_of(window, spec)[0]

    server.click(server.calls[0], "Run again")
    qtbot.waitUntil(lambda: len(runs_of(window, spec)) == 2, timeout=10_000)
    qtbot.waitUntil(lambda: len(taken) == 2, timeout=10_000)  # the new run failed too: told again
    assert len(server.calls) == 2
    second = runs_of(window, spec)[0]
    assert second.id != first.id and second.status is RunStatus.FAILED

    server.click(server.calls[1], "default")  # the notification's body
    qtbot.waitUntil(lambda: window.tabs.currentIndex() == HISTORY_TAB and selected_run_id(window) == second.id, timeout=5000)


def test_a_bus_without_a_notification_service_falls_back_to_the_banner(window, qasync_loop, session_bus, qtbot):
    spec = add(window, qtbot, "Nightly report", FAILING)
    shown(window, qtbot)
    assert window.notifier.channel() == DBUS  # worth trying: a loop runs, nothing failed yet
    run_by_hand(window, qtbot, spec)
    qtbot.waitUntil(window.banner.isVisible, timeout=10_000)  # no service on the bus: the banner says it
    assert window.banner.text_label.full_text().startswith("Nightly report failed")
    assert window.notifier.channel() == BANNER  # not tried again for a while
    qtbot.mouseClick(window.banner.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.tabs.currentIndex() == HISTORY_TAB, timeout=5000)
    close_bus(window, qtbot)


def test_without_an_event_loop_the_banner_says_it_at_once(window, qtbot):
    spec = window.service.add_job(JobSpec(name="n", command=(sys.executable, "-c", "raise SystemExit(3)"),
                                          trigger=CronSpec("0 3 * * *", TZ), notify=Notify.FAILURE))  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_model.row_of(spec.id) is not None, timeout=5000)
    assert window.notifier.channel() == BANNER


def test_with_no_session_bus_at_all_the_banner_says_it_and_the_log_has_one_line(window, qasync_loop, monkeypatch,
                                                                                  qtbot, caplog):  # fmt: skip
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    spec = add(window, qtbot, "Nightly report", FAILING)
    shown(window, qtbot)
    with caplog.at_level(logging.WARNING):
        run_by_hand(window, qtbot, spec)
        qtbot.waitUntil(window.banner.isVisible, timeout=10_000)
    assert window.banner.text_label.full_text().startswith("Nightly report failed")
    said = [r for r in caplog.records if "notif" in r.getMessage().lower()]
    assert [r.getMessage() for r in said] == [
        "desktop notifications unavailable: no D-Bus session bus (neither DBUS_SESSION_BUS_ADDRESS nor DISPLAY is set)"]
    assert said[0].exc_info is None  # a reason, not a traceback (dbus-fast's own was one per notification)
