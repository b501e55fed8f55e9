"""The notice a damaged database gets: it stays at the top of the window until Jobdesk quits.

The background integrity check (`JobService`, `jobs.dbcheck.full_check`) can find damage after
the window is up; from then on the core starts no run, scheduled or by hand, so that nothing is
written into a broken file. That must not go unnoticed as a log line: the notice says so, names
the file and how to recover it (the check's own message), and offers the data folder. It cannot
be dismissed: scheduling stays stopped until Jobdesk is restarted with a sound database. It is
a row above the tabs: it appears once, while a dialog that says the same holds the pointer, so
the one shift of the layout cannot turn into a click on the wrong job.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

from desktop.formatting import status_colour, status_icon
from desktop.naming import named
from desktop.tray import Tray
from jobs.model import RunStatus

log = logging.getLogger(__name__)

TITLE = "The database is damaged: Jobdesk has stopped starting runs"
STOPPED = ("No scheduled run and no run by hand starts until Jobdesk is restarted with a sound "
           "database. Runs going on now finish.")  # fmt: skip


class DamageNotice(QFrame):
    """Signals: open_folder_requested(): the user wants to see the data folder."""

    open_folder_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("databaseDamaged")
        self.setAccessibleName("Database damaged")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.problem: str | None = None
        self.dialog: QMessageBox | None = None
        self.icon_label = named(QLabel(self), "databaseDamagedIcon")
        self.text_label = named(QLabel(self), "databaseDamagedText")
        self.text_label.setWordWrap(True)
        self.text_label.setTextFormat(Qt.TextFormat.RichText)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_button = named(QPushButton("Open data folder", self), "databaseDamagedOpenFolder")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self.icon_label, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text_label, 1)
        layout.addWidget(self.folder_button, 0, Qt.AlignmentFlag.AlignTop)
        self.folder_button.clicked.connect(self.open_folder_requested)
        self.hide()

    def show_problem(self, problem: str) -> bool:
        """Show `problem` (the check's message: the file and how to recover). False if shown already."""
        if self.problem is not None:
            return False
        self.problem = problem
        colour = status_colour(RunStatus.FAILED, self.palette()).name()
        self.icon_label.setPixmap(status_icon(RunStatus.FAILED).pixmap(20, 20))
        self.text_label.setText(f'<b style="color: {colour}">{html.escape(TITLE)}</b><br>{html.escape(STOPPED)}'
                                f"<br>{html.escape(problem)}")  # fmt: skip
        self.setToolTip(f"{TITLE}\n{problem}")
        self.show()
        return True

    def announce(self, problem: str, window: QWidget, tray: Tray) -> bool:
        """Show `problem` here, once in a dialog over `window` and in the tray's balloon (when
        there is a tray). False if it was said already."""
        if not self.show_problem(problem):
            return False
        log.error("database damaged; told the user: %s", problem)
        self.dialog = tell_once(window, problem)
        if tray.available:
            tray.show_message("Jobdesk has stopped starting runs", problem, failed=True)
        return True

    def plain_text(self) -> str:
        return f"{TITLE}\n{STOPPED}\n{self.problem or ''}"


def tell_once(parent: QWidget, problem: str) -> QMessageBox:
    """A window-modal message that says the same (shown without a nested event loop)."""
    box = QMessageBox(QMessageBox.Icon.Critical, "Jobdesk has stopped starting runs", TITLE,
                      QMessageBox.StandardButton.Ok, parent)  # fmt: skip
    box.setObjectName("databaseDamagedDialog")
    box.setInformativeText(f"{STOPPED}\n\n{problem}")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
