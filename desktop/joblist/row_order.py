"""The Jobs table's order, worked out in plain Python (desktop.joblist.model sorts itself).

Kept apart from the model so the order rules (ties by name, descending keeps equal rows in
their order, as Qt's stable sort did) read in one place and can be checked without Qt views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt


@dataclass(frozen=True)
class SortState:
    """The column the rows are sorted by (-1: unsorted, load order) and the direction."""

    column: int = -1
    order: Qt.SortOrder = Qt.SortOrder.AscendingOrder

    @property
    def descending(self) -> bool:
        return self.order == Qt.SortOrder.DescendingOrder


def sorted_positions(keys: list[Any], descending: bool) -> list[int]:
    """The current positions of the rows, in sorted order (`keys[i]` is row i's key).

    Python's sort is stable also with `reverse=True`: rows with equal keys keep their order
    either way, as QSortFilterProxyModel's std::stable_sort did."""
    return sorted(range(len(keys)), key=keys.__getitem__, reverse=descending)


def moved_rows(positions: list[int]) -> list[int]:
    """old row -> new row, from `positions` (new row -> old row)."""
    new_row = [0] * len(positions)
    for new, old in enumerate(positions):
        new_row[old] = new
    return new_row
