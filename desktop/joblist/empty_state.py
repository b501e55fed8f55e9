"""The jobs table's empty state: a message (and New/Import buttons) drawn over its viewport."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget
from desktop.naming import named

from desktop.icons import icon

EMPTY_TEXT = "No jobs yet — New job… or import a file"


class EmptyState(QWidget):
    """Centred over the jobs table's viewport while there is nothing to list."""

    def __init__(self, viewport: QWidget, new_action: QAction, import_action: QAction) -> None:
        super().__init__(viewport)
        self._viewport = viewport
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
        viewport.installEventFilter(self)
        self.resize(viewport.size())
        self.hide()

    def show_text(self, text: str, with_buttons: bool) -> None:
        self.label.setText(text)
        self.new_button.setVisible(with_buttons)
        self.import_button.setVisible(with_buttons)
        self.resize(self._viewport.size())
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.resize(watched.size())  # type: ignore[attr-defined]
        return False
