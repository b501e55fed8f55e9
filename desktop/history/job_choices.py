"""The rows of the history's job combo: "All jobs", then one per job, answered from Python lists.

At 10,000 jobs filling a QComboBox item by item (`addItem` and a tooltip each) took 64-190 ms
of the GUI thread on the first jobs snapshot (issue 10). This model takes the whole list in one
reset; the combo asks only for the rows it shows.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex


class JobChoices(QAbstractListModel):
    """Rows of (text, job id or None for all jobs, tooltip)."""

    def __init__(self, first: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[str, str | None, str]] = [(first, None, "")]
        self._row_of: dict[str | None, int] = {None: 0}

    def set_rows(self, rows: list[tuple[str, str | None, str]]) -> None:
        self.beginResetModel()
        self._rows = rows
        self._row_of = {}
        for row, (_text, job_id, _tip) in enumerate(rows):
            self._row_of.setdefault(job_id, row)
        self.endResetModel()

    def append(self, text: str, job_id: str) -> int:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append((text, job_id, ""))
        self._row_of.setdefault(job_id, row)
        self.endInsertRows()
        return row

    def row_of(self, job_id: str | None) -> int:
        """The row of `job_id`, -1 if none (QComboBox.findData without asking every row)."""
        return self._row_of.get(job_id, -1)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        text, job_id, tip = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return text
        if role == Qt.ItemDataRole.UserRole:
            return job_id
        if role == Qt.ItemDataRole.ToolTipRole:
            return tip or None
        return None
