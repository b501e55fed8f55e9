"""Closing the window with no tray: asked once (stop scheduling, or keep running in the
background), the answer remembered and changeable in Settings. It used to quit and stop
scheduling without a word."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt

from desktop.app import create_window
from desktop.closing import BACKGROUND, STOP, close_choice
from jobs import triggers
from jobs.model import DateSpec, JobSpec, RunStatus
from tests.desktop.dialogs import answer_next_dialog

TZ = triggers.local_timezone_name()


def shown(window, qtbot) -> None:
    window.show()
    qtbot.waitExposed(window)


def test_keep_running_in_the_background_hides_and_keeps_scheduling(window, qtbot):
    assert not window.tray.available  # offscreen: no tray
    shown(window, qtbot)
    answer = answer_next_dialog(qtbot, "Keep running in the background")
    window.close()
    answer.stop()
    assert len(answer.texts) == 1 and "Stop scheduling?" in answer.texts[0]
    assert "Jobs will not run until Jobdesk starts again" in answer.texts[0]
    assert not window.isVisible()
    assert window.service.scheduling and window.lock.held
    assert close_choice() == BACKGROUND

    # Scheduling goes on with the window hidden: a one-off job due in 2 s runs.
    when = (datetime.now(timezone.utc) + timedelta(seconds=2)).astimezone()
    spec = window.service.add_job(JobSpec(name="Later", command=(sys.executable, "-c", "pass"), trigger=DateSpec(when, TZ)))
    qtbot.waitUntil(lambda: (r := window.service.last_runs([spec.id]).get(spec.id)) is not None
                    and r.status is RunStatus.SUCCEEDED, timeout=15_000)  # fmt: skip

    # Started again (the IPC "activate" request): the window comes back; closing asks no more.
    window.show_window()
    assert window.isVisible()
    unexpected = answer_next_dialog(qtbot, "Cancel")
    window.close()
    unexpected.stop()
    assert unexpected.texts == [] and not window.isVisible() and window.service.scheduling


def test_the_answer_can_be_changed_in_settings(window, qtbot):
    shown(window, qtbot)
    answer = answer_next_dialog(qtbot, "Keep running in the background")
    window.close()
    answer.stop()
    window.show_window()

    window.job_actions.settings.trigger()
    dialog = window.job_actions.settings_dialog
    assert dialog is not None and dialog.close_choice() == BACKGROUND
    combo = dialog.close_combo
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Up)  # from "Keep running…" to "Stop scheduling and quit"
    assert dialog.close_choice() == STOP
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert close_choice() == STOP

    unexpected = answer_next_dialog(qtbot, "Cancel")
    window.close()
    unexpected.stop()
    assert unexpected.texts == []  # remembered: no question
    assert not window.service.scheduling and not window.lock.held


def test_stop_scheduling_quits_and_is_remembered_for_the_next_start(window, qtbot, data_dir):
    shown(window, qtbot)
    answer = answer_next_dialog(qtbot, "Stop scheduling")
    window.close()
    answer.stop()
    assert answer.texts and not window.isVisible()
    assert not window.service.scheduling and not window.lock.held

    again = create_window(data_dir)
    qtbot.addWidget(again, before_close_func=lambda w: w.shutdown())
    shown(again, qtbot)
    unexpected = answer_next_dialog(qtbot, "Cancel")
    again.close()
    unexpected.stop()
    assert unexpected.texts == [] and not again.service.scheduling


def test_cancel_keeps_the_window_and_remembers_nothing(window, qtbot):
    shown(window, qtbot)
    answer = answer_next_dialog(qtbot, "Cancel")
    window.close()
    answer.stop()
    assert answer.texts and window.isVisible() and window.service.scheduling
    assert close_choice() == "ask"
