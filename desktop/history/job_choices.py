"""The History filter's job choices as one list model.

Filling a QComboBox item by item (`addItem` + `setItemData`) was ~0.4 s of the GUI thread for
10,000 jobs, on the first snapshot, before the Jobs table got its rows. This model takes the
whole list at once; the combo asks only for the rows it shows.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt

ALL_JOBS = "All jobs"


class JobChoices(QAbstractListModel):
    """"All jobs" first, then (id, name) pairs; the item data (UserRole) is the job id."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # (shown text, job id or None, tooltip names the id)
        self._rows: list[tuple[str, str | None, bool]] = [(ALL_JOBS, None, False)]

    def set_jobs(self, jobs: Sequence[tuple[str, str]], *, removed: str | None = None) -> None:
        """All jobs, the (id, name) pairs, and `removed` (an id still filtered by) at the end."""
        self.beginResetModel()
        self._rows = [(ALL_JOBS, None, False), *((name, job_id, True) for job_id, name in jobs)]
        if removed is not None:
            self._rows.append((f"{removed} (removed)", removed, False))
        self.endResetModel()

    def add(self, text: str, job_id: str) -> int:
        """Append one choice; its row."""
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append((text, job_id, False))
        self.endInsertRows()
        return row

    def row_of(self, job_id: str | None) -> int:
        """The row of `job_id` (None: "All jobs"); -1 if it is not a choice."""
        return next((row for row, (_, known, _tip) in enumerate(self._rows) if known == job_id), -1)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        text, job_id, named_job = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return text
        if role == Qt.ItemDataRole.UserRole:
            return job_id
        if role == Qt.ItemDataRole.ToolTipRole and named_job:
            return f"{text} ({job_id})"
        return None
