"""Helpers shared by the window's tables: one look, countdown ticks, throttled repaints, and a
message over an empty table."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QHeaderView,
    QLabel,
    QLayout,
    QTableView,
    QVBoxLayout,
    QWidget,
)


def setup_table(table: QTableView, *, sortable: bool) -> None:
    """The window's look for a read-only table: whole rows, one at a time, no grid, eliding."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setSortingEnabled(sortable)
    table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    rows = table.verticalHeader()
    rows.hide()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(max(22, table.fontMetrics().height() + 8))
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setMinimumSectionSize(48)
    header.setSectionsMovable(True)


def tick_visible_rows(table: QTableView, column: int, shown: dict[int, str]) -> int:
    """dataChanged for the cells of `column` on screen whose text changed; returns how many.

    Emitted on the model the view shows (the proxy for the jobs table), not on the source:
    a source dataChanged makes QSortFilterProxyModel re-check the sort order of every row
    (measured: 1,000 jobs -> ~20,000 calls into Python a second, 3.5 % of a core while idle).
    `shown` remembers each row's text from the last tick: "in 3 h" repaints once an hour.
    """
    model = table.model()
    rows = model.rowCount()
    top = table.rowAt(0) if rows else -1
    if top < 0:
        shown.clear()
        return 0
    bottom = table.rowAt(table.viewport().height() - 1)
    bottom = rows - 1 if bottom < 0 else bottom
    changed = 0
    for row in range(top, bottom + 1):
        index = model.index(row, column)
        text = index.data()
        if shown.get(row) != text:
            shown[row] = text
            model.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])
            changed += 1
    return changed


class RepaintThrottle(QObject):
    """At most one repaint of `view` per `interval_ms` while its model keeps changing.

    A burst of runs changes the history model hundreds of times a second; each change would
    repaint the whole visible table, ~2,000 calls into Python (measured: 40 repaints, 80,000
    `data()` calls and 50-100 ms GUI stalls during 100 runs). The first change paints at once;
    further changes within the interval are held back (updates disabled) and painted together
    when it ends.
    """

    def __init__(self, view: QAbstractItemView, interval_ms: int = 150) -> None:
        super().__init__(view)
        self._viewport = view.viewport()
        self._held = False
        self._timer = QTimer(self, singleShot=True, interval=interval_ms)
        self._timer.timeout.connect(self._release)
        model = view.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.dataChanged, model.layoutChanged):
            signal.connect(self._changed)

    @Slot()
    def _changed(self, *_args: object) -> None:
        if not self._timer.isActive():
            self._timer.start()  # this change paints now; the interval starts
        elif not self._held:
            self._held = True
            self._viewport.setUpdatesEnabled(False)

    @Slot()
    def _release(self) -> None:
        if self._held:
            self._held = False
            self._viewport.setUpdatesEnabled(True)  # one repaint for all that was held back
            self._timer.start()


def cover_viewport(view: QAbstractScrollArea, widget: QWidget) -> None:
    """Lay `widget` over the whole of `view`'s viewport (an empty-state message).

    A layout keeps it sized in C++. An event filter on the viewport did the same but ran Python
    for every event the viewport got, paints included, each one waiting for the GIL while the
    runs' threads held it.
    """
    layout = QVBoxLayout(view.viewport())
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)  # never a minimum size for the view
    layout.addWidget(widget)


class ViewportMessage(QLabel):
    """A dimmed line centred over an empty table ("Nothing scheduled…")."""

    def __init__(self, table: QTableView, name: str) -> None:
        super().__init__(table.viewport())
        self.setObjectName(name)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setEnabled(False)  # the palette's disabled (dimmed) text colour
        cover_viewport(table, self)
        self.hide()

    def show_text(self, text: str | None) -> None:
        """Show `text` over the table (None or "": hide)."""
        if text:
            self.setText(text)
        self.setVisible(bool(text))
