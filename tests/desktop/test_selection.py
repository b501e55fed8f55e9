"""Selecting a job as a person does (a mouse click on its row, arrow keys) enables every action
that applies to it: toolbar and menu actions, the detail strip's buttons, the context menu and
the keys (Ctrl+R, Return, Space, Delete). Qt sends `currentRowChanged` on mouse press, before
the row is selected; the actions follow the selection model instead (NOTES item 35)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from desktop.joblist.model import NAME
from tests.desktop.clicks import menu_entries, open_context_menu
from jobs import triggers
from jobs.model import CronSpec, JobSpec, RunStatus

TZ = triggers.local_timezone_name()


def add_jobs(window, qtbot, *names: str) -> list[JobSpec]:
    saved = window.service.import_jobs(
        [JobSpec(name=name, command=(sys.executable, "-c", "pass"), trigger=CronSpec("0 3 * * *", TZ)) for name in names]
    )
    qtbot.waitUntil(lambda: window.jobs_proxy.rowCount() == len(names) and not window.loader.busy, timeout=5000)
    return saved


def shown(window, qtbot) -> None:
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()


def row_point(window, name: str) -> QPoint:
    """The centre of `name`'s row in the jobs table's viewport."""
    proxy = window.jobs_proxy
    row = next(r for r in range(proxy.rowCount()) if proxy.index(r, NAME).data() == name)
    return window.jobs_table.visualRect(proxy.index(row, NAME)).center()


def click_row(window, qtbot, name: str, button=Qt.MouseButton.LeftButton) -> None:
    qtbot.mouseClick(window.jobs_table.viewport(), button, pos=row_point(window, name))


def per_job_actions(window) -> dict[str, bool]:
    a = window.job_actions
    return {"edit": a.edit.isEnabled(), "duplicate": a.duplicate.isEnabled(), "delete": a.delete.isEnabled(),
            "run now": a.run_now.isEnabled(), "pause": a.pause.isEnabled(), "toggle": a.toggle_pause.isEnabled(),
            "history": a.show_history.isEnabled(), "run now button": window.run_now_button.isEnabled(),
            "history button": window.history_button.isEnabled()}  # fmt: skip


def test_a_mouse_click_on_a_row_enables_every_per_job_action(window, qtbot):
    add_jobs(window, qtbot, "Alpha", "Beta")
    shown(window, qtbot)
    assert not any(per_job_actions(window).values())
    click_row(window, qtbot, "Beta")
    assert window.current_spec() is not None and window.current_spec().name == "Beta"
    assert all(per_job_actions(window).values()), per_job_actions(window)
    assert window.detail.label.full_text().startswith("Beta — ")


def test_after_a_click_the_keys_act_on_the_clicked_job(window, qtbot, monkeypatch):
    alpha, beta = add_jobs(window, qtbot, "Alpha", "Beta")
    shown(window, qtbot)
    click_row(window, qtbot, "Alpha")
    qtbot.waitUntil(window.jobs_table.hasFocus, timeout=2000)

    qtbot.keyClick(window.jobs_table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Ctrl+R: run now
    qtbot.waitUntil(lambda: window.service.last_runs([alpha.id]).get(alpha.id) is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.service.last_runs([alpha.id])[alpha.id].status is RunStatus.SUCCEEDED, timeout=10_000)

    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Space)  # pause
    qtbot.waitUntil(lambda: window.service.list_jobs()[0].paused, timeout=3000)
    assert window.job_actions.resume.isEnabled() and not window.job_actions.pause.isEnabled()
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Space)  # resume
    qtbot.waitUntil(lambda: not window.service.list_jobs()[0].paused, timeout=3000)

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: asked.append(args[2]) or QMessageBox.StandardButton.Cancel)
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Delete)
    assert asked and "“Alpha”" in asked[0]

    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Return)  # edit
    editor = window.job_actions.editor
    assert editor is not None and editor.ui.name_edit.text() == "Alpha"
    editor.reject()


def test_the_context_menu_of_a_clicked_row_offers_its_actions(window, qtbot):
    add_jobs(window, qtbot, "Alpha")
    shown(window, qtbot)
    menu = open_context_menu(qtbot, window.jobs_table, window.jobs_proxy.index(0, NAME), "jobsContextMenu")
    entries = {text: action.isEnabled() for text, action in menu_entries(menu).items()}
    menu.close()
    assert entries["Run now"] and entries["Edit…"] and entries["Delete"] and entries["Pause"], entries
    assert entries["Show history"]


def test_keyboard_selection_still_works_and_a_click_elsewhere_keeps_state_right(window, qtbot):
    add_jobs(window, qtbot, "Alpha", "Beta")
    shown(window, qtbot)
    window.jobs_table.setFocus()
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Down)
    assert window.current_spec() is not None and all(per_job_actions(window).values())
    click_row(window, qtbot, "Alpha")
    assert window.current_spec().name == "Alpha" and all(per_job_actions(window).values())
    window.jobs_table.clearSelection()  # whatever deselects, the actions follow at once
    assert window.current_spec() is None and not any(per_job_actions(window).values())


def test_the_detail_strip_stays_one_line_for_a_multi_line_command(window, qtbot):
    spec = window.service.add_job(JobSpec(name="Indexer", command=(sys.executable, "-c", "import time\nfor n in range(3):\n    print(n)"),
                                          trigger=CronSpec("0 3 * * *", TZ)))  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_proxy.rowCount() == 1, timeout=5000)
    shown(window, qtbot)
    height = window.detail.height()
    qtbot.mouseClick(window.jobs_table.viewport(), Qt.MouseButton.LeftButton, pos=row_point(window, "Indexer"))
    qtbot.wait(50)  # a relayout, if any
    text = window.detail.label.full_text()
    assert "\n" not in text and "import time for n in range(3): print(n)" in text, text
    assert window.detail.height() == height
    assert "\n" in window.detail.label.toolTip()  # the command as written, on hover
    assert window.current_spec().id == spec.id
