"""`RunFactsPanel` (objectName ``runFactsPanel``): what a run wrote and, for a failed run, what
changed since its job's last success. Shown in the History panel above the run's output.

Each expected output the run wrote is a row with its size and time and two buttons, "Open"
(the desktop's application for it) and "Show in folder" (its parent folder), both through
QDesktopServices. The outputs of a run on another machine (a pool's worker) are paths there: they
are listed with the worker's host and their buttons are off. For a failed run the "Changed since the last success (run #38)" block is
computed on a worker thread (a database query and a comparison, jobs.changed_since) and comes
back through a queued signal; a late answer for a run no longer shown is dropped.
"""

from __future__ import annotations

import html
import os
import socket
from datetime import datetime, timezone

from PySide6.QtCore import QObject, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.formatting import format_size
from desktop.gui_bridge import ensure_bridge, post
from desktop.icons import icon
from desktop.naming import named
from jobs.changed_since import ChangesSince, changes_since_success
from jobs.history import HistoryRepository
from jobs.model import RunRecord
from jobs.run_facts import OutputFile
from jobs.quick_thread import start_soon


CHECKING_TEXT = "Looking for what changed since the last success…"
THIS_HOST = socket.gethostname()


class ChangesLoader(QObject):
    """Signals: loaded(int, object): (run id, ChangesSince or the Exception raised)."""

    loaded = Signal(int, object)

    def __init__(self, history: HistoryRepository, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._history = history

    def load(self, record: RunRecord) -> None:
        ensure_bridge()
        start_soon(self._run, record)  # the GUI thread does not wait for it (jobs.quick_thread)

    def _run(self, record: RunRecord) -> None:
        result: object
        try:
            result = changes_since_success(self._history, record)
        except Exception as exc:  # the database went away (quit) or a real error: say so
            result = exc
        post(self, lambda: self.loaded.emit(record.id, result))  # dropped if the panel closed meanwhile


class RunFactsPanel(QFrame):
    """Outputs with Open / Show in folder, and the changed-since block of a failed run."""

    def __init__(self, history: HistoryRepository | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runFactsPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._record: RunRecord | None = None
        self._loader = ChangesLoader(history, self) if history is not None else None
        if self._loader is not None:
            self._loader.loaded.connect(self._on_changes)
        self.outputs_title = named(QLabel("<b>Outputs</b>", self), "outputsTitle")
        self.outputs_box = QWidget(self)
        self.outputs_grid = QGridLayout(self.outputs_box)
        self.outputs_grid.setContentsMargins(0, 0, 0, 0)
        self.changes_label = named(QLabel(self, wordWrap=True), "changesSince")
        self.changes_label.setTextFormat(Qt.TextFormat.RichText)
        self.changes_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.changes: ChangesSince | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addWidget(self.outputs_title)
        layout.addWidget(self.outputs_box)
        layout.addWidget(self.changes_label)
        self.show_record(None)

    @property
    def record(self) -> RunRecord | None:
        return self._record

    @Slot(object)
    def show_record(self, record: RunRecord | None) -> None:
        self._record = record
        self.changes = None
        self._fill_outputs(record.outputs if record is not None else (), record.ran_on if record is not None else None)
        # A failed run with no environment on record (it never started, or ran before Jobdesk
        # recorded them) has nothing to compare: its error says enough, so no block at all.
        wants_changes = (record is not None and record.status.is_failure and record.environment is not None
                         and self._loader is not None)  # fmt: skip
        self.changes_label.setVisible(wants_changes)
        if wants_changes and record is not None and self._loader is not None:
            self.changes_label.setText(html.escape(CHECKING_TEXT))
            self._loader.load(record)
        self.setVisible(bool(record is not None and (record.outputs or wants_changes)))

    @Slot(object)
    def update_record(self, record: RunRecord) -> None:
        """A newer state of the shown run (it ended); other runs are ignored."""
        if self._record is not None and record.id == self._record.id and record != self._record:
            self.show_record(record)

    def _fill_outputs(self, outputs: tuple[OutputFile, ...], ran_on: str | None) -> None:
        away = ran_on if ran_on and ran_on != THIS_HOST else None  # a worker's files are not here
        while self.outputs_grid.count():
            item = self.outputs_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for row, output in enumerate(outputs):
            name = named(QLabel(self.outputs_box), "outputFile")
            when = datetime.fromtimestamp(output.modified, timezone.utc).astimezone().strftime("%Y-%m-%d %H:%M")
            where = f", on {html.escape(away)}" if away else ""
            name.setText(f"{html.escape(os.path.basename(output.path))} <span>— {format_size(output.bytes)}, {when}{where}</span>")
            name.setToolTip(output.path)
            name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            open_button = named(QPushButton(icon("open-log"), "Open", self.outputs_box), "openOutput")
            open_button.setToolTip(f"Open {output.path}")
            folder_button = named(QPushButton("Show in folder", self.outputs_box), "showOutputFolder")
            folder_button.setToolTip(f"Open the folder {os.path.dirname(output.path)}")
            open_button.setProperty("target", output.path)
            folder_button.setProperty("target", os.path.dirname(output.path))
            open_button.clicked.connect(self._open_clicked)
            folder_button.clicked.connect(self._open_clicked)
            if away:
                for button in (open_button, folder_button):
                    button.setEnabled(False)
                    button.setToolTip(f"{output.path} is on {away}, not on this computer")
            self.outputs_grid.addWidget(name, row, 0)
            self.outputs_grid.addWidget(open_button, row, 1)
            self.outputs_grid.addWidget(folder_button, row, 2)
        self.outputs_grid.setColumnStretch(0, 1)
        self.outputs_title.setVisible(bool(outputs))
        self.outputs_box.setVisible(bool(outputs))

    @Slot()
    def _open_clicked(self) -> None:
        """Open what the clicked button points at: the file, or its folder (Show in folder)."""
        button = self.sender()
        if button is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(button.property("target"))))

    @Slot(int, object)
    def _on_changes(self, run_id: int, result: object) -> None:
        if self._record is None or self._record.id != run_id:
            return  # the user moved on to another run meanwhile
        if isinstance(result, ChangesSince):
            self.changes = result
            head, *items = result.text.splitlines()
            bullets = "".join(f"<li>{html.escape(item.strip().lstrip('•').strip())}</li>" for item in items)
            self.changes_label.setText(f"<b>{html.escape(head)}</b>" + (f"<ul style='margin:0'>{bullets}</ul>" if bullets else ""))
        else:
            self.changes_label.setText(html.escape(f"Cannot tell what changed: {result}"))
