"""The schedule in words and its next fire times, as real instants in the chosen zone.

`NextRunsModel` holds (time, "in 3 h 12 min") rows; `SchedulePreview` shows the words
(`scheduleDescription`), the list (`nextRunsPreview`) or a line saying why it is empty.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

_Index = QModelIndex | QPersistentModelIndex
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PREVIEW_COUNT = 10


def format_fire_time(moment: datetime, *, seconds: bool = False) -> str:
    """"Mon 30 Nov 2026 07:30 CET", in English whatever the C locale says; when this machine's
    clock shows another time then: "Mon 30 Nov 2026 07:30 CET (06:30 local)"."""
    clock = f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}"
    zone = moment.tzname() or ""
    text = f"{_DAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year} {clock}"
    text = f"{text} {zone}".rstrip()
    here = moment.astimezone()
    if here.utcoffset() == moment.utcoffset():
        return text
    local_clock = f"{here:%H:%M:%S}" if seconds else f"{here:%H:%M}"
    day = f"{_DAYS[here.weekday()]} " if here.date() != moment.date() else ""
    return f"{text} ({day}{local_clock} local)"


def format_relative(seconds: float) -> str:
    """"in 45 s", "in 12 min", "in 3 h 12 min", "in 2 d 4 h", "now" (rounded down)."""
    whole = int(seconds)
    if whole <= 0:
        return "now"
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"in {days} d {hours} h" if hours and days < 30 else f"in {days} d"
    if hours:
        return f"in {hours} h {minutes} min" if minutes else f"in {hours} h"
    if minutes:
        return f"in {minutes} min"
    return f"in {secs} s"


class NextRunsModel(QAbstractTableModel):
    """Read-only rows of the next fire times."""

    HEADERS = ("Next runs", "From now")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._times: list[datetime] = []
        self._rows: list[tuple[str, str]] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self._rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.UserRole:
            return self._times[index.row()]
        return None

    def set_times(self, times: list[datetime], now: datetime) -> None:
        seconds = any(moment.second for moment in times)
        self.beginResetModel()
        self._times = list(times)
        self._rows = [
            (format_fire_time(moment, seconds=seconds), format_relative((moment - now).total_seconds()))
            for moment in times
        ]
        self.endResetModel()

    def times(self) -> list[datetime]:
        return list(self._times)

    def texts(self) -> list[str]:
        return [when for when, _ in self._rows]


class SchedulePreview(QWidget):
    """Words over a list of the next runs; the list gives way to a reason when there are none."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.description_label = QLabel(self)
        self.description_label.setObjectName("scheduleDescription")
        self.description_label.setAccessibleName("scheduleDescription")
        self.description_label.setWordWrap(True)
        self.description_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.description_label.font()
        font.setBold(True)
        self.description_label.setFont(font)

        self.model = NextRunsModel(self)
        self.view = QTreeView(self)
        self.view.setObjectName("nextRunsPreview")
        self.view.setAccessibleName("nextRunsPreview")
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setItemsExpandable(False)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        row_height = self.fontMetrics().height() + 6
        self.view.setMinimumHeight(row_height * PREVIEW_COUNT + header.sizeHint().height() + 6)

        self.empty_label = QLabel(self)
        self.empty_label.setObjectName("nextRunsEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setEnabled(False)  # the disabled text colour: readable, clearly secondary

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.description_label)
        layout.addWidget(self.stack, 1)
        self.show_nothing("")

    def show_runs(self, description: str, times: list[datetime], now: datetime, empty_reason: str) -> None:
        self.description_label.setText(description)
        self.description_label.setToolTip(description)
        self.model.set_times(times, now)
        if times:
            self.stack.setCurrentWidget(self.view)
        else:
            self.empty_label.setText(empty_reason)
            self.stack.setCurrentWidget(self.empty_label)

    def show_nothing(self, reason: str) -> None:
        """No valid schedule: no words, no runs, just why."""
        self.description_label.setText("")
        self.description_label.setToolTip("")
        self.model.set_times([], datetime.now())
        self.empty_label.setText(reason or "No runs to show yet.")
        self.stack.setCurrentWidget(self.empty_label)
