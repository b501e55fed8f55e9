"""The editor's "Run with" menu as a person uses it: interpreters found off the GUI thread (a real
venv made in the test's home), chosen with the mouse or the keyboard, "Other…" through the file
dialog, and "As written" back."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit

from desktop.editor.run_with_combo import AS_WRITTEN, OTHER
from jobs.model import CronSpec, JobSpec
from tests.desktop.test_editor import fill_basics, open_editor, type_text
from tests.jobs.test_run_with import make_venv


@pytest.fixture
def venv_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    python = make_venv(home / ".venvs" / "reports")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PYENV_ROOT", str(home / ".pyenv"))
    monkeypatch.delenv("CONDA_EXE", raising=False)
    return home, python


def wait_listed(qtbot, combo, path) -> int:
    qtbot.waitUntil(lambda: combo.findData(str(path)) >= 0, timeout=10_000)
    return combo.findData(str(path))


def pick_with_mouse(qtbot, combo, index: int) -> None:
    """Click the combo, then the entry in its popup (after Qt's double-click interval: a release
    that soon after opening is taken as the end of the opening click)."""
    qtbot.mouseClick(combo, Qt.MouseButton.LeftButton)
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=2000)
    qtbot.wait(QApplication.doubleClickInterval() + 50)
    item = view.model().index(index, 0)
    view.scrollTo(item)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(item).center())
    qtbot.waitUntil(lambda: not view.isVisible(), timeout=2000)


def test_a_found_venv_is_chosen_with_the_mouse_and_as_written_with_the_keyboard(qtbot, venv_home, tmp_path):
    _home, python = venv_home
    script = tmp_path / "report.py"
    script.write_text("print('hi')\n")
    editor = open_editor(qtbot)
    combo = editor.ui.run_with_combo
    assert combo.currentText() == AS_WRITTEN
    fill_basics(qtbot, editor, command=str(script))
    index = wait_listed(qtbot, combo, python)
    assert combo.itemText(index).startswith("reports (venv")

    pick_with_mouse(qtbot, combo, index)
    qtbot.waitUntil(lambda: editor.is_valid() and editor.current_spec().run_with == str(python), timeout=3000)
    assert editor.current_spec().command == (str(script),)
    assert "not on the PATH" not in editor.ui.validation_label.text()  # the script runs with the venv

    qtbot.keyClick(editor, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)  # "Run wit&h"
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    qtbot.keyClick(combo, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: editor.is_valid() and editor.current_spec().run_with is None, timeout=3000)
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # past the disabled placeholder, if still there
    qtbot.waitUntil(lambda: combo.currentIndex() != 0, timeout=2000)
    assert combo.run_with() is not None


def test_a_command_that_names_its_interpreter_is_an_error_with_run_with(qtbot, venv_home):
    _home, python = venv_home
    editor = open_editor(qtbot)
    fill_basics(qtbot, editor, command="python3 report.py")
    pick_with_mouse(qtbot, editor.ui.run_with_combo, wait_listed(qtbot, editor.ui.run_with_combo, python))
    qtbot.waitUntil(lambda: "starts with the interpreter" in editor.ui.validation_label.text(), timeout=3000)
    assert not editor.ui.ok_button.isEnabled()
    type_text(qtbot, editor.ui.command_field.line_edit, "report.py")
    qtbot.waitUntil(editor.ui.ok_button.isEnabled, timeout=3000)


def test_other_opens_the_file_dialog_and_an_edited_job_shows_its_interpreter(qtbot, venv_home, tmp_path):
    _home, python = venv_home
    spec = JobSpec(name="r", command=("report.py",), trigger=CronSpec("0 7 * * *", "UTC"), run_with=sys.executable)
    editor = open_editor(qtbot, spec)
    combo = editor.ui.run_with_combo
    assert combo.run_with() == sys.executable  # at once, before discovery answers
    assert editor.result_spec() == spec

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog) or not dialog.isVisible():
            return
        timer.stop()
        line = dialog.findChild(QLineEdit, "fileNameEdit")
        line.selectAll()
        qtbot.keyClicks(line, str(python))
        qtbot.keyClick(line, Qt.Key.Key_Return)

    timer = QTimer(interval=20)
    timer.timeout.connect(answer)
    timer.start()
    pick_with_mouse(qtbot, combo, combo.findText(OTHER))
    qtbot.waitUntil(lambda: combo.run_with() == str(python), timeout=5000)
    timer.stop()
    qtbot.waitUntil(lambda: editor.is_valid() and editor.current_spec().run_with == str(python), timeout=3000)
