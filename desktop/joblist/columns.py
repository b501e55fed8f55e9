"""The jobs table's column widths: sensible defaults, and columns that give way when narrow.

Name stretches over whatever the other columns leave. In a narrow window (~820 px) that used
to be ~45 px of name and a horizontal scrollbar. `ColumnFitter` keeps Name at least
`NAME_MIN_CHARS` wide: first Schedule shrinks (it elides; its tooltip has the words), then the
least important columns are hidden (State, Next run, Last run, Schedule: the countdown says
when, "paused" and the full time in its tooltip), and they come back when there is room.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QHeaderView, QTableView

from desktop.joblist.model import COUNTDOWN, HEADERS, LAST_RUN, NAME, NEXT_RUN, RECENT, SCHEDULE, STATE, USUAL

NAME_MIN_CHARS = 30
SCHEDULE_MIN_CHARS = 20
GIVE_WAY = (RECENT, STATE, NEXT_RUN, USUAL, LAST_RUN, SCHEDULE)  # least important first
ZONED_TIME_SAMPLE = "Wed 30 Nov 07:30 (08:30 CEST)"


def default_widths(table: QTableView) -> dict[int, int]:
    """Widths of the columns other than Name, for the table's font."""
    metrics = table.fontMetrics()
    # A job in another zone adds its own clock: "Wed 30 Nov 07:30 (08:30 CEST)".
    next_width = metrics.horizontalAdvance(ZONED_TIME_SAMPLE) + 16
    last_width = metrics.horizontalAdvance("Wed 30 Nov 2099 07:30") + 44  # and the status icon
    return {SCHEDULE: metrics.horizontalAdvance("M") * 20, NEXT_RUN: next_width,
            COUNTDOWN: metrics.horizontalAdvance("in 59 min") + 24, LAST_RUN: last_width,
            STATE: metrics.horizontalAdvance("Finished") + 48,
            USUAL: metrics.horizontalAdvance("1m 20s of ~2m 5s") + 16, RECENT: 20 * 7 + 8}  # fmt: skip


class ColumnFitter(QObject):
    """Fits the jobs table's columns to its viewport on every resize (see the module docstring).

    `natural` holds each column's width when there is room: the defaults, then whatever the
    person drags a column to.
    """

    def __init__(self, table: QTableView) -> None:
        super().__init__(table)
        self._table = table
        self._header = table.horizontalHeader()
        self._fitting = False
        self.natural = default_widths(table)
        metrics = table.fontMetrics()
        self.name_min = metrics.averageCharWidth() * NAME_MIN_CHARS
        self.schedule_min = metrics.averageCharWidth() * SCHEDULE_MIN_CHARS
        for column, width in self.natural.items():
            self._header.resizeSection(column, width)
        self._header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)  # names get what is left
        # Refit when the table is resized (an event filter on the table, not on its viewport,
        # which gets every paint and would run Python each time) and when a column was dragged.
        # The fit waits for the next turn of the event loop: resizing sections from inside the
        # header's own resize pass corrupted its section sizes, and the viewport takes its new
        # size after the table's resize event.
        self._refit = QTimer(self, singleShot=True, interval=0)
        self._refit.timeout.connect(self.fit)
        self._header.sectionResized.connect(self._resized)
        table.installEventFilter(self)

    def adopt_current_widths(self) -> None:
        """Take the shown widths as natural (after the saved window state was restored)."""
        for column in self.natural:
            if not self._header.isSectionHidden(column) and self._header.sectionSize(column) > 0:
                self.natural[column] = self._header.sectionSize(column)
        self.fit()

    @Slot(int, int, int)
    def _resized(self, column: int, _old: int, new: int) -> None:
        if self._fitting:
            return
        if column in self.natural and new > 0:
            self.natural[column] = new  # dragged by hand
            self._refit.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show, QEvent.Type.LayoutRequest):
            self._refit.start()
        return False
    def fit(self) -> None:
        available = self._table.viewport().width()
        if available <= 0:
            return
        hidden: set[int] = set()
        room = 0
        for step in (None, *GIVE_WAY):
            if step is not None:
                hidden.add(step)
            others = sum(width for column, width in self.natural.items() if column not in hidden and column != SCHEDULE)
            room = available - self.name_min - others
            if SCHEDULE in hidden or room >= self.schedule_min:
                break
        self._fitting = True
        try:
            for column in range(len(HEADERS)):
                if column == NAME:
                    continue
                self._header.setSectionHidden(column, column in hidden)
                if column not in hidden:
                    width = min(self.natural[column], room) if column == SCHEDULE else self.natural[column]
                    if self._header.sectionSize(column) != width:
                        self._header.resizeSection(column, width)
        finally:
            self._fitting = False

    def hidden_columns(self) -> list[int]:
        return [column for column in range(len(HEADERS)) if self._header.isSectionHidden(column)]


def size_upcoming_columns(table: QTableView, time_column: int, countdown: int, job: int, schedule: int) -> None:
    metrics = table.fontMetrics()
    header = table.horizontalHeader()
    header.resizeSection(time_column, metrics.horizontalAdvance(ZONED_TIME_SAMPLE) + 16)
    header.resizeSection(countdown, metrics.horizontalAdvance("in 59 min") + 24)
    header.resizeSection(schedule, metrics.horizontalAdvance("M") * 24)
    header.setSectionResizeMode(job, QHeaderView.ResizeMode.Stretch)
