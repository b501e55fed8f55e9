"""The window during and after a burst of runs: the status bar, tray and banner end right though
their refreshes are throttled or skipped when nothing changed; the digest card lists every job
of a long digest, keeps its rows through reloads, and its buttons work by mouse and keyboard."""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import Qt

from desktop.throttle import Throttle
from jobs.model import CronSpec, JobSpec, Notify, RunStatus
from jobs import triggers
from tests.conftest import py
from tests.desktop.test_digest_card import click, opened  # noqa: F401  (the fixture)
from tests.jobs.test_wake_digest import close_for, job

TZ = triggers.local_timezone_name()


def test_throttle_runs_at_once_then_once_per_interval(qtbot):
    calls: list[float] = []
    throttle = Throttle(lambda: calls.append(time.monotonic()), 100)
    for _ in range(50):
        throttle.request()
    assert len(calls) == 1  # the first at once: a single event shows without delay
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=1000)  # the other 49 merged into one
    qtbot.wait(250)
    assert len(calls) == 2  # nothing more was asked
    throttle.request()
    assert len(calls) == 3


def add_jobs(window, qtbot, count: int, code: str, notify: Notify = Notify.NEVER) -> list[JobSpec]:
    specs = [JobSpec(name=f"Burst {n:02d}", command=py(code), trigger=CronSpec("0 3 * * *", TZ), notify=notify)
             for n in range(count)]  # fmt: skip
    saved = window.service.import_jobs(specs)
    qtbot.waitUntil(lambda: all(window.jobs_model.row_of(spec.id) is not None for spec in saved), timeout=5000)
    return saved


def test_status_and_tray_end_right_after_a_burst_and_pause_all(window, qtbot):
    saved = add_jobs(window, qtbot, 8, "pass")
    window.show()
    finished: set[int] = set()
    window.service.events.run_finished.connect(lambda record: finished.add(record.id))
    run_ids = [window.service.run_now(spec.id) for spec in saved]
    qtbot.waitUntil(lambda: "in progress" in window.status.runs_label.text()
                    and window.status.runs_label.text() != "No runs in progress", timeout=5000)  # fmt: skip
    qtbot.waitUntil(lambda: set(run_ids) <= finished, timeout=30_000)
    qtbot.waitUntil(lambda: window.status.runs_label.text() == "No runs in progress", timeout=1000)
    assert window.tray.icon.toolTip() == "Jobdesk: idle" and window.tray.state == "idle"
    assert not window.tray.stop_menu.isEnabled()
    assert window.status.state_label.text() == "Scheduling"

    window.job_actions.pause_all.trigger()  # the tray's and the Jobs menu's "Pause all"
    qtbot.waitUntil(lambda: window.status.state_label.text() == "Paused all", timeout=3000)
    run_id = window.service.run_now(saved[0].id)  # a run by hand of a paused job
    qtbot.waitUntil(lambda: run_id in finished, timeout=10_000)
    window.loader.load_now()  # a snapshot after the run
    qtbot.wait(300)
    assert window.status.state_label.text() == "Paused all"
    assert window.status.runs_label.text() == "No runs in progress"
    window.job_actions.resume_all.trigger()
    qtbot.waitUntil(lambda: window.status.state_label.text() == "Scheduling", timeout=3000)


def test_the_banner_shows_the_last_of_a_burst_of_failures_and_opens_it(window, qtbot):
    saved = add_jobs(window, qtbot, 5, "raise SystemExit(3)", Notify.FAILURE)
    window.resize(1180, 760)
    window.show()
    qtbot.waitExposed(window)
    finished: dict[int, RunStatus] = {}  # in the order the window heard of them
    window.service.events.run_finished.connect(lambda record: finished.__setitem__(record.id, record.status))
    run_ids = [window.service.run_now(spec.id) for spec in saved]
    qtbot.waitUntil(lambda: set(run_ids) <= set(finished), timeout=30_000)
    last = list(finished)[-1]  # the last to end (five runs at once end in any order)
    qtbot.waitUntil(lambda: window.notifier.last is not None and window.banner.run_id == last, timeout=5000)
    name = next(spec.name for spec in saved if spec.id == window.service.get_run(last).job_id)
    assert window.banner.isVisible() and window.notifier.last[0] == "banner"
    assert window.banner.text_label.full_text().startswith(f"{name} failed")
    assert window.banner.geometry().width() >= 300 and window.banner.view_button.isVisible()
    qtbot.mouseClick(window.banner.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.history.current_record is not None and window.history.current_record.id == last,
                    timeout=5000)  # fmt: skip
    assert not window.banner.isVisible()


def test_a_digest_of_many_jobs_shows_every_row_and_its_buttons_work(data_dir, qapp, qtbot, opened):  # noqa: F811
    names = [f"many {n:02d}" for n in range(24)]  # far more rows than the card shows at once
    ids = close_for(data_dir, qapp, qtbot, *(job(name, misfire_grace=0.5) for name in names))
    window = opened(data_dir)
    card, view = window.digest_card, window.digest_card.rows
    qtbot.waitUntil(lambda: card.isVisible() and card.digest is not None and len(card.digest.entries) == 24,
                    timeout=10_000)  # fmt: skip
    rows = view.model()
    assert {rows.index(row, 0).data() for row in range(rows.rowCount())} == set(names)
    for name in names:
        for choice in ("run-latest", "run-all", "skip"):
            assert card.choice_index(ids[name], choice).isValid(), (name, choice)
    first, last = card.digest.entries[0].job_id, card.digest.entries[-1].job_id
    assert not view.viewport().rect().contains(view.visualRect(card.choice_index(last, "skip")).center())
    # A run of a job in the digest starts: the card reloads; the same jobs keep their rows
    resets: list[int] = []
    rows.modelReset.connect(lambda: resets.append(1))
    before = card.digest
    window.service.run_now(ids[names[3]])
    qtbot.waitUntil(lambda: card.digest is not before, timeout=5000)
    assert resets == [] and rows.rowCount() == 24
    # To the last row with the keyboard, as a person without a mouse would, and Skip it with Space
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(rows.index(0, 0)).center())
    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert card.rows.currentIndex() == card.choice_index(last, "skip")
    assert view.viewport().rect().contains(view.visualRect(card.choice_index(last, "skip")).center())
    qtbot.keyClick(view, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: card.digest is not None and card.digest.entry(last) is None, timeout=5000)
    # Back to the top (Ctrl+Home), and the first row's Skip with the mouse
    qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    click(qtbot, card, first, "skip")
    qtbot.waitUntil(lambda: card.digest is not None and card.digest.entry(first) is None, timeout=5000)
    assert len(card.digest.entries) == 22 and rows.rowCount() == 22


def test_the_tray_run_menu_lists_the_first_jobs_by_name_of_many(window, qtbot):
    names = [f"job {n:03d}" for n in range(60)]
    specs = [JobSpec(name=name.upper() if n % 2 else name, command=py("pass"), trigger=CronSpec("0 3 * * *", TZ),
                     notify=Notify.NEVER) for n, name in enumerate(reversed(names))]  # fmt: skip
    window.service.import_jobs(specs)
    qtbot.waitUntil(lambda: window.jobs_model.rowCount() == 60, timeout=5000)
    qtbot.waitUntil(lambda: len(window.tray.run_actions()) == 40, timeout=5000)
    shown = [action.text() for action in window.tray.run_actions()]
    assert [text.casefold() for text in shown] == names[:40]  # by name, case-blind
    more = [a.text() for a in window.tray.run_menu.actions() if not a.data()]
    assert more == ["20 more in the window…"]


def test_the_history_job_filter_follows_a_rename(window, qtbot):
    saved = add_jobs(window, qtbot, 3, "pass")
    combo = window.history.filter_bar.job_combo
    qtbot.waitUntil(lambda: combo.count() == 4, timeout=5000)
    assert [combo.itemText(i) for i in range(4)] == ["All jobs", "Burst 00", "Burst 01", "Burst 02"]
    window.service.update_job(replace(saved[0], name="Aardvark"))
    qtbot.waitUntil(lambda: combo.itemText(1) == "Aardvark", timeout=5000)
    window.loader.load_now()  # the same jobs again: nothing changes
    qtbot.wait(200)
    assert [combo.itemText(i) for i in range(4)] == ["All jobs", "Aardvark", "Burst 01", "Burst 02"]
