"""An editable, searchable time-zone selector over `zoneinfo.available_timezones()`.

Typing filters the list by any part of the name ("paris", "new_y"), case-insensitively.
The text is the zone name; `problem()` says why it is not a known zone.
"""

from __future__ import annotations

import functools
import zoneinfo

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import QComboBox, QCompleter


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Sorted IANA zone names (without the legacy "posix/" and "right/" copies)."""
    names = {name for name in zoneinfo.available_timezones() if not name.startswith(("posix/", "right/"))}
    names.add("UTC")
    return tuple(sorted(names))


class TimezoneCombo(QComboBox):
    """Emits `timezone_edited(str)` when the person picks or types a zone."""

    timezone_edited = Signal(str)

    def __init__(self, timezone: str, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("timezoneCombo")
        self.setAccessibleName("timezoneCombo")
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMaxVisibleItems(15)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(18)
        self.setToolTip("Time zone of the schedule: type part of a name, like \"paris\" or \"new_york\"")
        names = zone_names()
        self._names = frozenset(names)
        self.addItems(list(names))
        completer = QCompleter(QStringListModel(list(names), self), self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setMaxVisibleItems(12)
        self.setCompleter(completer)
        line = self.lineEdit()
        assert line is not None  # editable
        line.setPlaceholderText("Time zone, like Europe/Paris")
        self.set_timezone(timezone)
        line.textEdited.connect(self._text_edited)
        self.activated.connect(self._activated)
        completer.activated.connect(self._completed)  # the str overload (the only one in Qt 6)

    def timezone(self) -> str:
        return self.currentText().strip()

    def set_timezone(self, name: str) -> None:
        index = self.findText(name, Qt.MatchFlag.MatchExactly)
        if index >= 0:
            self.setCurrentIndex(index)
        self.setEditText(name)

    def problem(self) -> str | None:
        name = self.timezone()
        if not name:
            return "time zone: choose a time zone"
        if name in self._names:
            return None
        try:
            zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, OSError, ValueError):
            return f"time zone: {name!r} is not a known time zone (type part of a name, like \"paris\")"
        return None

    def _text_edited(self, text: str) -> None:
        self.timezone_edited.emit(text.strip())

    def _activated(self, _index: int) -> None:
        self.timezone_edited.emit(self.timezone())

    def _completed(self, text: str) -> None:
        self.setEditText(text)
        self.timezone_edited.emit(text)
