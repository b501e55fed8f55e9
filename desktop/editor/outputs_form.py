"""The editor's Outputs tab: files each run must write (jobs.expected_outputs).

One path per line; globs (`out/*.csv`) and placeholders (`{date}`, `{scheduled:%Y-%m-%d}`)
allowed; relative paths are relative to the run's working folder. After exit 0 a missing, empty
or untouched file makes the run failed. Readers raise ValueError("outputs: reason").
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from desktop.editor.field_marks import set_invalid
from desktop.naming import named
from jobs.expected_outputs import placeholder_problem

HELP = ("One file per line, e.g. <code>reports/sales-{date}.pdf</code> or <code>out/*.csv</code>; "
        "<code>{scheduled:%Y-%m-%d}</code> takes any strftime format. After exit 0 each must exist, be "
        "written by the run and not be empty, or the run is failed.")


class OutputsForm(QWidget):
    """Emits `edited` on any change."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outputsForm")
        self.expect_edit = named(QPlainTextEdit(self), "expectEdit")
        self.expect_edit.setPlaceholderText("sales-{date}.pdf")
        self.expect_edit.setTabChangesFocus(True)
        self.expect_edit.setToolTip("Expected outputs, one per line (relative to the working folder)")
        self.expect_edit.setMaximumHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        caption = QLabel("&Expected outputs", self)
        caption.setBuddy(self.expect_edit)
        note = named(QLabel(HELP, self, wordWrap=True), "expectHelp")
        note.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(caption)
        layout.addWidget(self.expect_edit)
        layout.addWidget(note)
        self.expect_edit.textChanged.connect(self.edited)

    def load(self, expect: tuple[str, ...]) -> None:
        self.expect_edit.setPlainText("\n".join(expect))

    def state(self) -> str:
        return self.expect_edit.toPlainText()

    def expect(self) -> tuple[str, ...]:
        lines = tuple(dict.fromkeys(line.strip() for line in self.expect_edit.toPlainText().splitlines() if line.strip()))
        for number, line in enumerate(lines, 1):
            problem = placeholder_problem(line)
            if problem:
                raise ValueError(f"outputs: line {number}: {problem}")
        return lines

    def focus_widgets(self) -> list[QWidget]:
        return [self.expect_edit]

    def mark(self, problem: str | None) -> None:
        set_invalid(self.expect_edit, problem)
