"""The command of a job: a command line, the argv it splits into, the shell switch and pickers.

Without "Shell" the line is split with `shlex.split` (POSIX quoting) and run without a shell;
the argv is shown under it. With "Shell" the line runs through the system shell as written.
The interpreter menu lists python3, Rscript, bash, sh and node where `shutil.which` finds them
(full paths: the scheduler may not share the PATH of a terminal, NOTES 32).
"""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
)

from desktop.editor.field_marks import set_invalid
from desktop.elided_label import ElidedLabel

INTERPRETERS = ("python3", "Rscript", "bash", "sh", "node")
# argv[0] names treated as an interpreter: the script goes after them
_INTERPRETER_NAMES = {"python", "python3", "py", "rscript", "r", "bash", "sh", "zsh", "node", "perl", "ruby", "pwsh"}


def parse_command(text: str, shell: bool) -> tuple[str, ...]:
    """The command tuple for `text`; ValueError with the reason when it cannot be split."""
    line = text.strip()
    if not line:
        raise ValueError("command: must not be empty")
    if shell:
        return (line,)
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        reason = {"No closing quotation": "a quote is not closed", "No escaped character": "it ends with a lone \\"}
        raise ValueError(f"command: {reason.get(str(exc), str(exc))}") from None
    if not argv:
        raise ValueError("command: must not be empty")
    return tuple(argv)


def command_text(command: tuple[str, ...], shell: bool) -> str:
    """The line that `parse_command` turns back into `command`."""
    if shell and len(command) == 1:
        return command[0]
    return shlex.join(command)


def _is_interpreter(token: str) -> bool:
    name = Path(token).name.lower().removesuffix(".exe")
    return name in _INTERPRETER_NAMES or name.startswith("python3")


def program_caution(command: tuple[str, ...], shell: bool, cwd: str | None) -> str | None:
    """A warning (not an error) when the program cannot be found from here."""
    if shell or not command:
        return None
    program = command[0]
    if os.sep in program or (os.altsep and os.altsep in program):
        path = Path(program).expanduser()
        if not path.is_absolute() and cwd:
            path = Path(cwd) / path
        return None if path.exists() else f"command: {program} does not exist"
    if shutil.which(program) is None:
        return f"command: {program!r} is not on the PATH; give its full path if the run cannot find it"
    return None


class CommandField(QWidget):
    """Emits `edited` when the line or the shell switch changes."""

    edited = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.line_edit = QLineEdit(self)
        self.line_edit.setObjectName("commandEdit")
        self.line_edit.setAccessibleName("commandEdit")
        self.line_edit.setPlaceholderText("python3 ~/reports/daily.py --send")
        self.line_edit.setToolTip("The command line; quote arguments with spaces like in a terminal")
        self.interpreter_button = QToolButton(self)
        self.interpreter_button.setObjectName("interpreterButton")
        self.interpreter_button.setAccessibleName("interpreterButton")
        self.interpreter_button.setText("Interpreter")
        self.interpreter_button.setToolTip("Put an interpreter (python3, Rscript, ...) first in the command")
        self.interpreter_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.interpreter_menu = QMenu(self.interpreter_button)
        self.interpreter_menu.setObjectName("interpreterMenu")
        self.interpreter_menu.aboutToShow.connect(self.fill_interpreter_menu)
        self.interpreter_button.setMenu(self.interpreter_menu)
        self.script_button = QToolButton(self)
        self.script_button.setObjectName("scriptButton")
        self.script_button.setAccessibleName("scriptButton")
        self.script_button.setText("Script…")
        self.script_button.setToolTip("Choose the script or program file to run")
        self.shell_check = QCheckBox("Shell", self)
        self.shell_check.setObjectName("shellCheck")
        self.shell_check.setAccessibleName("shellCheck")
        self.shell_check.setToolTip("Run the line through the system shell (pipes, redirects, $VARIABLES)")
        self.argv_label = ElidedLabel(self, mode=Qt.TextElideMode.ElideMiddle, selectable=True, shrinkable=False)
        self.argv_label.setObjectName("commandArgvHint")
        self.argv_label.setAccessibleName("commandArgvHint")
        self.argv_label.setEnabled(False)  # secondary text colour in both palettes

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.line_edit, 1)
        row.addWidget(self.interpreter_button)
        row.addWidget(self.script_button)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        grid.addLayout(row, 0, 0, 1, 2)
        grid.addWidget(self.argv_label, 1, 0)
        grid.addWidget(self.shell_check, 1, 1, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(0, 1)

        self.line_edit.textChanged.connect(self._changed)
        self.shell_check.toggled.connect(self._changed)
        self.script_button.clicked.connect(self.choose_script)
        self._update_hint()

    # --- public API ---------------------------------------------------------------------------
    def load(self, command: tuple[str, ...], shell: bool) -> None:
        self.shell_check.setChecked(shell)
        self.line_edit.setText(command_text(command, shell) if command else "")

    def command(self) -> tuple[str, ...]:
        """Raises ValueError("command: ...") when the line is empty or cannot be split."""
        return parse_command(self.line_edit.text(), self.shell_check.isChecked())

    def shell(self) -> bool:
        return self.shell_check.isChecked()

    def state(self) -> tuple[str, bool]:
        return self.line_edit.text(), self.shell_check.isChecked()

    def focus_widgets(self) -> list[QWidget]:
        return [self.line_edit, self.interpreter_button, self.script_button, self.shell_check]

    def mark(self, message: str | None) -> None:
        set_invalid(self.line_edit, message)

    def use_interpreter(self, path: str) -> None:
        """Put `path` first, replacing an interpreter that is already there."""
        tokens = self._tokens()
        if tokens and _is_interpreter(tokens[0]):
            tokens = tokens[1:]
        self._set_tokens([path, *tokens])

    def use_script(self, path: str) -> None:
        """Put `path` after the interpreter (or first), replacing what was in that place."""
        tokens = self._tokens()
        place = 1 if tokens and _is_interpreter(tokens[0]) else 0
        tokens[place : place + 1] = [path]
        self._set_tokens(tokens)

    # --- menus and pickers ---------------------------------------------------------------------
    def fill_interpreter_menu(self) -> None:
        self.interpreter_menu.clear()
        for name in INTERPRETERS:
            path = shutil.which(name)
            if path:
                action = self.interpreter_menu.addAction(f"{name}  —  {path}")
                action.setData(path)
                action.triggered.connect(self._interpreter_chosen)
        if self.interpreter_menu.isEmpty():
            self.interpreter_menu.addAction("No interpreter found on the PATH").setEnabled(False)
        self.interpreter_menu.addSeparator()
        browse = self.interpreter_menu.addAction("Browse…")
        browse.triggered.connect(self.browse_interpreter)

    def browse_interpreter(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose an interpreter", self._start_dir("/usr/bin"))
        if path:
            self.use_interpreter(path)

    def choose_script(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a script", self._start_dir(str(Path.home())))
        if path:
            self.use_script(path)

    def _interpreter_chosen(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.use_interpreter(str(action.data()))

    def _start_dir(self, fallback: str) -> str:
        tokens = self._tokens()
        for token in reversed(tokens):
            folder = Path(token).expanduser().parent
            if os.sep in token and folder.is_dir():
                return str(folder)
        return fallback

    # --- text <-> tokens -----------------------------------------------------------------------
    def _tokens(self) -> list[str]:
        try:
            return shlex.split(self.line_edit.text())
        except ValueError:
            return self.line_edit.text().split()

    def _set_tokens(self, tokens: list[str]) -> None:
        self.line_edit.setText(shlex.join(tokens))
        self.line_edit.setFocus()

    def _changed(self, *_args: object) -> None:
        self._update_hint()
        self.edited.emit()

    def _update_hint(self) -> None:
        if self.shell_check.isChecked():
            self.argv_label.set_full_text("Runs through the shell as written")
            return
        try:
            argv = self.command()
        except ValueError:
            self.argv_label.set_full_text("Quote arguments that contain spaces")
            return
        self.argv_label.set_full_text(f"Runs as: {list(argv)!r}")
