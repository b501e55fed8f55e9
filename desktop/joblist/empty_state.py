"""The jobs table's empty state: a message (and New/Import buttons) drawn over its viewport."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from desktop.icons import icon
from desktop.naming import named
from desktop.table_helpers import cover_viewport

EMPTY_TEXT = "No jobs yet — New job… or import a file"


class EmptyState(QWidget):
    """Centred over the jobs table's viewport while there is nothing to list."""

    def __init__(self, table: QTableView, new_action: QAction, import_action: QAction) -> None:
        super().__init__(table.viewport())
        self.setObjectName("jobsEmptyState")
        self.label = named(QLabel(EMPTY_TEXT, self), "jobsEmptyText")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        font = self.label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.label.setFont(font)
        self.label.setForegroundRole(self.label.foregroundRole())
        self.new_button = named(QPushButton(icon("new"), "New job…", self), "emptyNewJobButton")
        self.import_button = named(QPushButton(icon("import"), "Import…", self), "emptyImportButton")
        self.new_button.clicked.connect(new_action.trigger)
        self.import_button.clicked.connect(import_action.trigger)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        layout.addStretch(1)
        cover_viewport(table, self)
        self.hide()

    def show_text(self, text: str, with_buttons: bool) -> None:
        self.label.setText(text)
        self.new_button.setVisible(with_buttons)
        self.import_button.setVisible(with_buttons)
        self.show()
        self.raise_()
