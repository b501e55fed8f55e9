"""The run output viewer: the tail of a run's log, live while the run goes on.

`OutputView` (desktop.history.stream_view, objectName ``runOutput``) shows the text with
stderr set apart. `RunOutputPanel` puts a summary, the run's error, a "cut" header and the
"Copy command" / "Open log file" buttons around it.

Only the last 256 KiB of a log are ever read (`log_tail.read_tail`, NOTES item 31). While the
selected run is running, each `run_output` chunk marks the view dirty and a 100 ms timer flushes
once: the new bytes are read from the log file from where the last read ended, and split into
stdout and stderr by the runner's sidecar (desktop.history.log_streams). The file is the same
stream the chunks come from (the runner writes it first), so the tail read at selection time and
the live part join without a gap or a repeated line; the chunks' own text (with their stream) is
used only when the file cannot be read.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget

from desktop.formatting import format_size, status_colour, status_icon
from desktop.icons import icon
from desktop.history.log_streams import LogStreams
from desktop.history.log_tail import TAIL_BYTES, read_more, read_tail
from desktop.history.run_text import alerts_text, copyable_command, error_text, never_started, summary
from desktop.history.stream_view import MAX_LINES, OutputView
from desktop.elided_label import ElidedLabel
from desktop.naming import named
from jobs.events import OutputChunk
from jobs.model import RunRecord, RunStatus
from jobs.paths import DataDir

__all__ = ["MAX_LINES", "NO_OUTPUT_TEXT", "NO_RUN_TEXT", "OutputView", "RunOutputPanel"]

FLUSH_MS = 100
NO_RUN_TEXT = "Select a run to see its output"
NO_OUTPUT_TEXT = "This run produced no output"


class RunOutputPanel(QWidget):
    """Summary, error, header and buttons over an `OutputView`, for one run at a time."""

    def __init__(self, data_dir: DataDir | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runOutputPanel")
        self._data_dir = data_dir
        self._record: RunRecord | None = None
        self._log_path: Path | None = None
        self._streams: LogStreams | None = None  # the shown log, split into stdout and stderr
        self._file_size = 0
        self._cut = False  # the view starts after the beginning of the log
        self._chunks: list[tuple[str, str]] = []  # (stream, text) of live output not shown yet
        self._flush_timer = QTimer(self, singleShot=True, interval=FLUSH_MS)
        self._flush_timer.timeout.connect(self.flush)

        self.status_icon = named(QLabel(self), "runStatusIcon")
        self.summary_label = ElidedLabel(self, selectable=True, objectName="runSummary")
        self.copy_button = named(QPushButton(icon("copy"), "Copy command", self), "copyCommand")
        self.copy_button.setToolTip("Copy the command line, with its directory and environment, to the clipboard")
        self.open_button = named(QPushButton(icon("open-log"), "Open log file", self), "openLogFile")
        self.error_label = named(QLabel(self, wordWrap=True), "runError")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.alerts_label = named(QLabel(self, wordWrap=True), "runAlerts")
        self.alerts_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.alerts_label.setToolTip("E-mails and webhooks about this run (Job ▸ Settings: SMTP and webhook)")
        self.header_label = named(QLabel(self, wordWrap=True), "runOutputHeader")
        self.header_label.setTextFormat(Qt.TextFormat.RichText)
        self.view = OutputView(self)
        self.view.setPlaceholderText(NO_RUN_TEXT)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.status_icon)
        top.addWidget(self.summary_label, 1)
        top.addWidget(self.copy_button)
        top.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.error_label)
        layout.addWidget(self.alerts_label)
        layout.addWidget(self.header_label)
        layout.addWidget(self.view, 1)

        self.copy_button.clicked.connect(self.copy_command)
        self.open_button.clicked.connect(self.open_log_file)
        self.header_label.linkActivated.connect(self.open_log_file)
        self.show_record(None)

    # --- what is shown -----------------------------------------------------------------------

    @property
    def record(self) -> RunRecord | None:
        return self._record

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    def show_record(self, record: RunRecord | None) -> None:
        """Show `record`'s output (None: the empty state)."""
        self._flush_timer.stop()
        self._chunks.clear()
        self._record = record
        self._load()
        self._refresh_labels()

    @Slot(object)
    def update_record(self, record: RunRecord) -> None:
        """A newer state of the shown run (it started, ended...); other runs are ignored."""
        old = self._record
        if old is None or record.id != old.id or (old.status.is_final and not record.status.is_final):
            return
        self._record = record
        if self._log_path is None and self._find_log(record) is not None:
            self._load()  # it started: its log exists now
        elif record.status.is_final and not old.status.is_final:
            self.flush()  # the runner's last output and notes
        self._refresh_labels()

    @Slot(object)
    def on_output(self, chunk: OutputChunk) -> None:
        """Live output of some run: collected for the shown one, flushed by the timer."""
        if self._record is None or chunk.run_id != self._record.id:
            return
        self._chunks.append((chunk.stream, chunk.text))
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    @Slot()
    def flush(self) -> None:
        """Add what the run wrote since the last read, in one append."""
        self._flush_timer.stop()
        chunks, self._chunks = self._chunks, []
        if self._record is None:
            return
        path = self._log_path or self._find_log(self._record)
        if path is None:
            if chunks:  # no file to read (yet): the events' text is all there is
                self.view.add(chunks)
            return
        if self._log_path is None or self._streams is None:
            self._load()
            self._refresh_labels()
            return
        more = read_more(path, self._streams.end)
        if more is None:
            if chunks:
                self.view.add(chunks)
            return
        data, self._file_size = more
        if len(data) >= TAIL_BYTES or self._file_size < self._streams.end:  # far behind, or a new file
            self._load()
            self._refresh_labels()
            return
        split = self._streams.feed(data, final=self._record.status.is_final)
        if split.text or split.replace or data:
            self.view.add(split.text, split.provisional, replace=split.replace)
        self._refresh_header()

    def _find_log(self, record: RunRecord) -> Path | None:
        if record.log_path is not None:
            return record.log_path
        # WORKAROUND: a run whose program could not start has a log (with the error) but no
        # log_path in its row; the path is derived the way the runner derives it.
        if self._data_dir is not None:
            guess = self._data_dir.run_log(record.job_id, record.id)
            if guess.is_file():
                return guess
        return None

    def _load(self) -> None:
        """Read the tail of the shown run's log into the view."""
        record = self._record
        self._log_path = path = self._find_log(record) if record is not None else None
        self._streams = None
        self._file_size = 0
        self._cut = False
        if record is None:
            self.view.setPlaceholderText(NO_RUN_TEXT)
            self.view.set_content("")
            return
        tail = read_tail(path)
        self._file_size, self._cut = tail.total_bytes, tail.end_offset > tail.shown_bytes
        self.view.setPlaceholderText(tail.error or self._empty_text(record, missing=tail.missing))
        if path is None or tail.missing or tail.error:
            self.view.set_content(tail.text)
            return
        self._streams = LogStreams(path, tail.end_offset - tail.shown_bytes)
        split = self._streams.feed(tail.data, final=record.status.is_final)
        self.view.set_pieces(split.text, split.provisional)

    def _empty_text(self, record: RunRecord, *, missing: bool) -> str:
        if record.status is RunStatus.QUEUED:
            return "Waiting for a free slot to start…"
        if record.status is RunStatus.WAITING:
            return f"Waiting for {record.waiting_for or 'its conditions'} to start…"
        if record.status is RunStatus.RUNNING:
            return "No output yet"
        if never_started(record):
            return "This run did not start, so it has no output"
        if missing and record.output_bytes:
            return f"The log file is gone (history retention removes old logs): {record.log_path}"
        return NO_OUTPUT_TEXT

    # --- labels ------------------------------------------------------------------------------

    def _refresh_labels(self) -> None:
        record = self._record
        if record is None:
            self.status_icon.clear()
            self.status_icon.hide()
            self.summary_label.set_full_text("", "")
            self.error_label.hide()
            self.alerts_label.hide()
        else:
            icon = status_icon(record.status)
            self.status_icon.setPixmap(icon.pixmap(16, 16))
            self.status_icon.setVisible(not icon.isNull())
            text = summary(record)
            self.summary_label.set_full_text(f"{record.job_name} — {text}", f"{record.job_name} ({record.job_id})\n{text}")
            error = error_text(record)
            self.error_label.setText(error)
            self.error_label.setVisible(bool(error))
            alerts = alerts_text(record)
            self.alerts_label.setText(alerts)
            self.alerts_label.setVisible(bool(alerts))
            self._colour_error()
        self.copy_button.setEnabled(record is not None and bool(record.command))
        self.open_button.setEnabled(self._log_path is not None and self._log_path.is_file())
        self.open_button.setToolTip(str(self._log_path) if self._log_path else "This run has no log file")
        self._refresh_header()

    def _colour_error(self) -> None:
        if self._record is None:
            return
        font = self.error_label.font()
        font.setBold(self._record.status.is_failure or never_started(self._record))
        self.error_label.setFont(font)
        colour = status_colour(self._record.status, self.palette())
        self.error_label.setStyleSheet(f"color: {colour.name()};")

    def _refresh_header(self) -> None:
        parts = []
        if self._cut:
            lines = f" (its last {MAX_LINES:,} lines)" if self.view.line_cap_reached else ""
            parts.append(f"Showing the last {format_size(TAIL_BYTES)} of {format_size(self._file_size)}{lines}")
        elif self.view.line_cap_reached:
            parts.append(f"Showing the last {MAX_LINES:,} lines of {format_size(self._file_size)}")
        record = self._record
        if record is not None and record.truncated:
            parts.append(f"the run wrote {format_size(record.output_bytes)}; the log kept only its beginning")
        if not parts:
            self.header_label.hide()
            return
        text = html.escape("; ".join(parts))
        # The anchor's colour is explicit: QLabel keeps the default blue in a dark palette.
        colour = self.palette().color(QPalette.ColorRole.Link).name()
        link = f' — <a href="open" style="color: {colour}">Open log file</a>' if self._log_path is not None else ""
        self.header_label.setText(text[:1].upper() + text[1:] + link)
        self.header_label.show()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "view"):  # not while building
            self._colour_error()
            self._refresh_header()
            if self._record is not None:  # the stderr colour follows: once the view has the palette too
                QTimer.singleShot(0, self, self._load)
        super().changeEvent(event)

    # --- actions -----------------------------------------------------------------------------

    @Slot()
    def copy_command(self) -> None:
        if self._record is not None and self._record.command:
            QGuiApplication.clipboard().setText(copyable_command(self._record))

    @Slot()
    def copy_log_path(self) -> None:
        if self._log_path is not None:
            QGuiApplication.clipboard().setText(str(self._log_path))

    @Slot()
    def open_log_file(self) -> None:
        """Open the log in the desktop's viewer; when nothing opens it, say so and offer its path."""
        path = self._log_path
        if path is None or not path.is_file():
            return
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self._cannot_open(path)

    def _cannot_open(self, path: Path) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Cannot open the log file",
                          "No application on this desktop opened the log file.", QMessageBox.StandardButton.Close, self)  # fmt: skip
        box.setObjectName("cannotOpenLog")
        box.setInformativeText(f"It is here:\n{path}\n\nCopy the path to open it in an editor or a terminal.")
        copy = box.addButton("Copy path", QMessageBox.ButtonRole.ActionRole)
        copy.clicked.connect(self.copy_log_path)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.cannot_open_box = box
        box.open()  # window-modal, no nested event loop
