"""The wake-up digest card, used as a person would: Run latest / Run all missed / Skip are clicked.

The missed runs are real: jobs every 2 seconds, a data directory closed for a few seconds, then
opened by the window. The sleep path is driven by a real PrepareForSleep signal on a private
D-Bus bus (`dbus-daemon --session` started here), sent by a stand-in logind that owns the name
org.freedesktop.login1 on that bus; the window's watcher listens there instead of the system bus.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter

import pytest
from PySide6.QtCore import Qt

from desktop.app import create_window
from desktop.sleep_watch import LOGIND, LOGIND_MANAGER, LOGIND_PATH, LogindSleepWatch
from jobs.history import HistoryQuery
from jobs.model import RunStatus
from jobs.service import JobService
from tests.desktop.conftest import leftover_children
from tests.jobs.serve_process import MAIN, child_env
from tests.desktop.test_notification_actions import qasync_loop, server, session_bus  # noqa: F401  (fixtures)
from tests.jobs.test_wake_digest import close_for, job


@pytest.fixture
def opened(qtbot):
    """Opens windows with `opened(data_dir)`; shuts them down after the test. Each window's
    notifications (title, text) are kept in `notified[window]`."""
    windows = []

    def open_window(data_dir):
        win = create_window(data_dir, listen=True)  # `jobdesk missed` reaches it over its socket
        said = notified.setdefault(win, [])
        win.digest_card.notify_requested.connect(lambda title, text: said.append((title, text)))  # before any event
        qtbot.addWidget(win, before_close_func=lambda w: w.shutdown())
        windows.append(win)
        win.resize(1180, 760)
        win.show()
        qtbot.waitExposed(win)
        return win

    yield open_window
    for win in windows:
        win.shutdown()
    assert not leftover_children()


notified: dict = {}


def runs_of(service: JobService, job_id: str) -> list:
    return service.query_history(HistoryQuery(job_id=job_id, limit=500))


def click(qtbot, card, job_id: str, choice: str) -> None:
    """Click the job's `choice` button where the card draws it (its row must be in sight)."""
    assert card.choice_enabled(job_id, choice), (job_id, choice)
    view = card.rows
    spot = view.visualRect(card.choice_index(job_id, choice)).center()
    assert view.viewport().rect().contains(spot), f"{job_id}'s row is scrolled out of sight"
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=spot)


def test_the_card_after_a_close_offers_each_job_and_records_each_click(data_dir, qapp, qtbot, opened):
    # Every slot of the four jobs falls while closed: none runs on its own after the window opens
    ids = close_for(data_dir, qapp, qtbot, job("strict", misfire_grace=0.5, coalesce=False), job("collapsing"),
                    job("latest only", misfire_grace=0.5), job("by command", misfire_grace=0.5))  # fmt: skip

    window = opened(data_dir)
    card = window.digest_card
    qtbot.waitUntil(lambda: card.isVisible() and card.digest is not None and len(card.digest.entries) == 4, timeout=5000)
    assert "While Jobdesk was closed (" in card.headline.text() and "runs of 4 jobs were missed" in card.headline.text()
    service = window.service
    # The digest's missed slots (MissedSlot: run_id of the missed row, scheduled_at)
    missed_before = {name: list(card.digest.entry(job_id).slots) for name, job_id in ids.items()}
    qtbot.waitUntil(lambda: card.choice_index(ids["collapsing"], "run-latest").isValid(), timeout=3000)
    # The collapsing job's policy ran its latest slot at start-up: Run latest would add nothing
    qtbot.waitUntil(lambda: not card.choice_enabled(ids["collapsing"], "run-latest"), timeout=5000)

    assert notified[window] == [("Missed runs", f"{card.digest.headline()}. Choose in Jobdesk: run the latest, "
                                                  "run all missed, or skip.")]  # fmt: skip
    # The command line, as a separate process, talks to this window: its card follows
    proc = subprocess.Popen([sys.executable, MAIN, "--data-dir", str(data_dir.root), "missed", "run-all", "by command"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())  # fmt: skip
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=30000)  # the window answers while we wait
    out, err = proc.communicate()
    assert proc.returncode == 0 and "started in the running Jobdesk" in out, out + err
    qtbot.waitUntil(lambda: card.digest is not None and card.digest.entry(ids["by command"]) is None, timeout=5000)
    click(qtbot, card, ids["latest only"], "run-latest")
    qtbot.waitUntil(lambda: card.digest is not None and card.digest.entry(ids["latest only"]) is None, timeout=5000)
    click(qtbot, card, ids["strict"], "run-all")
    qtbot.waitUntil(lambda: card.digest is not None and card.digest.entry(ids["strict"]) is None, timeout=5000)
    click(qtbot, card, ids["collapsing"], "skip")
    qtbot.waitUntil(lambda: not card.isVisible(), timeout=5000)

    strict_slots = {r.scheduled_at for r in missed_before["strict"]}
    def strict_done() -> bool:
        return {r.scheduled_at for r in runs_of(service, ids["strict"]) if r.status is RunStatus.SUCCEEDED} >= strict_slots
    qtbot.waitUntil(strict_done, timeout=20000)
    by_command = {r.scheduled_at for r in missed_before["by command"]}
    qtbot.waitUntil(lambda: {r.scheduled_at for r in runs_of(service, ids["by command"])
                             if r.status is RunStatus.SUCCEEDED} >= by_command, timeout=20000)  # fmt: skip
    latest_slot = max(r.scheduled_at for r in missed_before["latest only"])
    qtbot.waitUntil(lambda: any(r.scheduled_at == latest_slot and r.status is RunStatus.SUCCEEDED
                                for r in runs_of(service, ids["latest only"])), timeout=20000)  # fmt: skip

    every = service.query_history(HistoryQuery(limit=1000))
    ran = Counter((r.job_id, r.scheduled_at) for r in every if r.status not in (RunStatus.MISSED, RunStatus.SKIPPED))
    assert max(ran.values()) == 1  # no slot ran twice
    notes = {r.id: r.error for r in every if r.status is RunStatus.MISSED}
    assert all("skipped in the wake-up digest" in notes[r.run_id] for r in missed_before["collapsing"])
    assert all("run from the wake-up digest as run #" in notes[r.run_id] for r in missed_before["strict"])
    latest_row = next(r for r in missed_before["latest only"] if r.scheduled_at == latest_slot)
    assert "run from the wake-up digest as run #" in notes[latest_row.run_id]
    assert all("only the latest missed run was run" in notes[r.run_id] for r in missed_before["latest only"] if r is not latest_row)


@pytest.fixture
def private_bus():
    """A session-type dbus-daemon of this test alone; its address."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    address = daemon.stdout.readline().strip()
    yield address
    daemon.terminate()
    daemon.wait(10)
    daemon.stdout.close()


def test_logind_sleep_signal_on_a_bus_opens_an_asleep_digest(data_dir, qapp, qtbot, opened, private_bus):
    from PySide6.QtDBus import QDBusConnection, QDBusMessage

    window = opened(data_dir)
    service = window.service
    saved = service.add_job(job("hourly report", misfire_grace=0.5, coalesce=False))
    listener = QDBusConnection.connectToBus(private_bus, "jobdesk-test-listener")
    watch = LogindSleepWatch(service, bus=listener, parent=window)
    assert watch.connected
    logind = QDBusConnection.connectToBus(private_bus, "jobdesk-test-logind")
    assert logind.registerService(LOGIND)

    def prepare_for_sleep(going: bool) -> None:
        signal = QDBusMessage.createSignal(LOGIND_PATH, LOGIND_MANAGER, "PrepareForSleep")
        signal.setArguments([going])
        assert logind.send(signal)

    qtbot.waitUntil(lambda: any(r.status is RunStatus.SUCCEEDED for r in runs_of(service, saved.id)), timeout=5000)
    prepare_for_sleep(True)
    qtbot.wait(300)  # delivered: the watcher noted when the sleep began
    time.sleep(3)  # "asleep": the event loop stands still and slots pass (the watchdog needs 5 s to notice)
    prepare_for_sleep(False)
    card = window.digest_card
    qtbot.waitUntil(lambda: card.isVisible() and card.digest is not None, timeout=5000)
    assert card.headline.text().startswith("<b>While the computer was asleep (")
    entry = card.digest.entry(saved.id)
    digest = card.digest
    missed = [r for r in runs_of(service, saved.id)
              if r.status is RunStatus.MISSED and digest.since <= r.scheduled_at <= digest.until]  # fmt: skip
    assert entry is not None and entry.count == len(missed) >= 1
    assert [title for title, _text in notified[window]] == ["Missed runs"]
    service.set_paused(saved.id, True)
    click(qtbot, card, saved.id, "skip")
    qtbot.waitUntil(lambda: not card.isVisible(), timeout=5000)
    assert all("skipped in the wake-up digest" in (r.error or "") for r in runs_of(service, saved.id)
               if r.status is RunStatus.MISSED and r.id in {m.id for m in missed})  # fmt: skip
    listener.disconnectFromBus("jobdesk-test-listener")
    logind.disconnectFromBus("jobdesk-test-logind")


@pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon")
def test_a_new_digest_is_one_desktop_notification_and_clicking_it_shows_the_window(window, server, session_bus, qtbot):
    """On the session bus of tests.desktop.test_notification_actions: its notification server,
    and here also the stand-in logind whose sleep makes the digest."""
    from PySide6.QtDBus import QDBusConnection, QDBusMessage

    service = window.service
    saved = service.add_job(job("hourly report", misfire_grace=0.5, coalesce=False))
    watch = LogindSleepWatch(service, bus=QDBusConnection.connectToBus(session_bus, "digest-listener"), parent=window)
    logind = QDBusConnection.connectToBus(session_bus, "digest-logind")
    assert watch.connected and logind.registerService(LOGIND)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: any(r.status is RunStatus.SUCCEEDED for r in runs_of(service, saved.id)), timeout=15_000)  # first fire 2 s after the add; slow under load
    for going in (True, False):
        signal = QDBusMessage.createSignal(LOGIND_PATH, LOGIND_MANAGER, "PrepareForSleep")
        signal.setArguments([going])
        assert logind.send(signal)
        if going:
            qtbot.wait(300)
            time.sleep(3)  # asleep
    qtbot.waitUntil(lambda: len(server.calls) == 1, timeout=10_000)
    service.set_paused(saved.id, True)
    call = server.calls[0]
    assert call["summary"] == "Missed runs"
    assert call["body"].startswith("While the computer was asleep (") and "of 1 job" in call["body"]
    window.showMinimized()
    server.click(call, "default")
    qtbot.waitUntil(lambda: window.isVisible() and not window.isMinimized(), timeout=5000)
    qtbot.wait(500)
    assert len(server.calls) == 1  # one notification for the digest
    logind.disconnectFromBus("digest-logind")
    QDBusConnection.disconnectFromBus("digest-listener")


def test_a_row_s_tooltip_lists_the_newest_missed_slots_and_counts_the_rest():
    """A week away from an every-minute job is 10,000 slots: the tooltip names the newest ones
    (listing all of them froze the window ~300 ms per reload with 100 such jobs)."""
    from datetime import datetime, timedelta, timezone

    from desktop.digest_rows import TOOLTIP_SLOTS, slots_tooltip
    from jobs.digest_store import DigestEntry, MissedSlot

    start = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
    slots = tuple(MissedSlot(i, start + timedelta(minutes=i), "the computer was asleep", 1) for i in range(40))
    lines = slots_tooltip(DigestEntry("j1", "Prices", slots, None)).splitlines()
    newest = [f"{slot.scheduled_at.astimezone():%a %d %b %H:%M}: the computer was asleep" for slot in slots[-TOOLTIP_SLOTS:]]
    assert lines == ["Prices", f"… and {40 - TOOLTIP_SLOTS} earlier", *newest]
    few = slots_tooltip(DigestEntry("j1", "Prices", slots[:3], None)).splitlines()
    assert few == ["Prices", *(f"{slot.scheduled_at.astimezone():%a %d %b %H:%M}: the computer was asleep" for slot in slots[:3])]
