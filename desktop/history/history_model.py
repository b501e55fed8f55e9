"""`HistoryModel`: run history as a table, newest first, loaded a page at a time.

Rows come from `HistoryRepository.query` with keyset paging (`before_id` = the oldest id loaded),
so the first page of a million rows costs one indexed query and scrolling down loads the next
page through `canFetchMore`/`fetchMore`. Pages that may scan the table (a name search, a date
range) load on a worker thread (`PageLoader`); the rest are index seeks and load at once. Live
events update rows by run id, never by event order (NOTES item 7): a "finished" may arrive
before the "queued" it follows, and a stale non-final record never overwrites a final one.

It is a QStandardItemModel: each cell's text, tooltip, icon and colour are worked out once, when
its run changes, and painting reads them in C++. A Python `data()` made every repaint ~1,000
calls into Python, each waiting for the GIL while runs' worker threads held it: a 200-row
table took ~320 ms to paint under that load against ~35 ms from C++ (measured), and that was
most of the window's stalls during a burst of runs (tests/bench/bench_responsiveness.py).

The panel feeds live events through `queue_run_changed`: they are applied together at the next
event-loop turn, and during a burst (a turn brought BURST_EVENTS or more) after LIVE_BATCH_MS, so
a short run's queued, started and finished collapse into one row written once and new runs go
in with one insertRows; at most LIVE_SLICE_S of them per turn. At 10,000 jobs a burst of 100
runs gave each event its own insert and refill, 8-31 ms each, back to back.
"""

from __future__ import annotations

import bisect
import logging
from datetime import datetime, timezone
from typing import Callable

import time

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSignalBlocker, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication, QPalette, QStandardItemModel

from desktop.formatting import (
    NO_VALUE,
    format_duration,
    format_relative,
    format_time,
    status_colour,
    status_icon,
    status_text,
)
from desktop.history.history_filter import HistoryFilter
from desktop.history.page_loader import PageLoader, PageQuery
from desktop.history.run_text import failure_words, never_started, with_attempt
from desktop.joblist.usual_text import LONG_WORDS, MARKS, running_words
from jobs.history import HistoryQuery
from jobs.run_stats import DurationStats
from jobs.model import RunCause, RunRecord, RunStatus

log = logging.getLogger(__name__)

PAGE_SIZE = 200
RUN_ID_ROLE = Qt.ItemDataRole.UserRole + 1  # the run id, on the Job column (records: `record_at`)
ERROR_DISPLAY_CHARS = 120

COLUMNS = ("Job", "Cause", "Scheduled", "Started", "Duration", "Status", "Exit code", "Ran on", "Error")
(JOB, CAUSE, SCHEDULED, STARTED, DURATION, STATUS, EXIT_CODE, RAN_ON, ERROR) = range(len(COLUMNS))
THIS_COMPUTER = "This computer"
_HEADER_TIPS = {
    SCHEDULED: "When the schedule wanted the run (empty for runs started by hand)",
    STARTED: "When its process started",
    EXIT_CODE: "The process's exit code (negative: ended by that signal)",
    RAN_ON: "This computer, or the worker (host) of the pool the run was sent to",
}
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
# Role numbers as plain ints: the keys of setItemData's map.
_DISPLAY, _TOOLTIP, _DECORATION, _FOREGROUND, _ALIGNMENT, _ACCESSIBLE = (
    role.value for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.DecorationRole,
                            Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.TextAlignmentRole,
                            Qt.ItemDataRole.AccessibleTextRole))  # fmt: skip
_RIGHT_INT = _RIGHT.value
RUN_ID_ROLE_INT = int(RUN_ID_ROLE)
LIVE_BATCH_MS = 50  # during a burst, live events this close together are applied as one update
BURST_EVENTS = 4  # events applied in one turn that make it a burst
BURST_S = 1.0  # how long a burst lasts after such a turn
LIVE_SLICE_S = 0.010  # of GUI-thread time per event-loop turn for them; the rest the next turn
LIVE_CHUNK = 4  # events applied between two looks at the clock
LIVE_CELLS = 500  # rows of live events whose cell roles are kept for the next comparison
# Rows kept when live events push the table past it (or past what was scrolled in, if more): a
# row costs ~6 KiB (its cells in C++, its record), and a window left open with 100 every-minute
# jobs gained 6,000 rows an hour, forever. The rows dropped at the bottom come back by paging.
KEEP_ROWS = 2000

Index = QModelIndex | QPersistentModelIndex


class HistoryModel(QStandardItemModel):
    """Signals:

    page_loaded(int): a page came in and that many new rows were appended.
    loading_changed(bool): a page is (no longer) being loaded in the background.
    load_failed(str): a page could not be read (the message); loading stops.
    """

    page_loaded = Signal(int)
    loading_changed = Signal(bool)
    load_failed = Signal(str)

    def __init__(self, query: PageQuery, parent: QObject | None = None, *, page_size: int = PAGE_SIZE) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self._query = query
        self._page_size = page_size
        self._filter = HistoryFilter()
        self._rows: list[RunRecord] = []
        self._keys: list[int] = []  # -id of each row: ascending, for bisect
        self._exhausted = False
        self._loading = False
        self._scrolled_in = 0  # rows the table held after its latest page: what was scrolled to
        self._generation = 0  # bumped by every reset: answers for an older filter are dropped
        self._loader = PageLoader(query, self)
        self._loader.loaded.connect(self._on_page_loaded)
        self._final_ids: set[int] = set()  # runs an event showed as final: later non-final events are stale
        self._running_ids: set[int] = set()  # rows whose elapsed time ticks
        self._palette: QPalette | None = None
        self._colours: dict[RunStatus, object] = {}  # status -> QColor on the current palette
        self._pending: dict[int, RunRecord] = {}  # live events not applied yet, by run id
        self._live_cells: dict[int, list[dict[int, object]]] = {}  # run id -> roles of its cells as written
        self._batch_timer = QTimer(self, singleShot=True)
        self._burst_until = 0.0  # monotonic time until which live events wait LIVE_BATCH_MS
        self._batch_timer.timeout.connect(self._apply_pending)
        self.usual: Callable[[str], DurationStats | None] = lambda _job_id: None  # set by desktop.insight
        for column, title in enumerate(COLUMNS):
            self.setHeaderData(column, Qt.Orientation.Horizontal, title)
            if column in _HEADER_TIPS:
                self.setHeaderData(column, Qt.Orientation.Horizontal, _HEADER_TIPS[column], Qt.ItemDataRole.ToolTipRole)
            if column in (DURATION, EXIT_CODE):
                self.setHeaderData(column, Qt.Orientation.Horizontal, _RIGHT, Qt.ItemDataRole.TextAlignmentRole)

    # --- loading -----------------------------------------------------------------------------

    @property
    def filter(self) -> HistoryFilter:
        return self._filter

    def set_filter(self, new_filter: HistoryFilter) -> None:
        """Show runs matching `new_filter`: reset and load the first page."""
        self._filter = new_filter
        self.reload()

    def reload(self) -> None:
        self._generation += 1
        self._set_loading(False)
        self._rows, self._keys, self._exhausted = [], [], False
        self._scrolled_in = 0
        self._running_ids.clear()
        self._live_cells.clear()
        if self.rowCount():
            self.removeRows(0, self.rowCount())
        self.fetchMore(QModelIndex())

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._exhausted and not self._loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        """Load the next page: at once when it is an index seek, else in the background."""
        if parent.isValid() or self._exhausted or self._loading:
            return
        query = self._next_query()
        if self._filter.may_scan:
            self._set_loading(True)
            self._loader.load((self._generation, query.before_id), query)
        else:
            self._append(self._query(query))

    def load_page_now(self) -> None:
        """Load the next page on this thread, whatever the filter (a bounded search by show_run)."""
        if not self._exhausted:
            self._append(self._query(self._next_query()))

    def _next_query(self) -> HistoryQuery:
        return self._filter.query(before_id=self._rows[-1].id if self._rows else None, limit=self._page_size)

    @Slot(object, object)
    def _on_page_loaded(self, ticket: tuple[int, int | None], result: object) -> None:
        generation, before = ticket
        if generation != self._generation:
            return  # for a filter that is no longer shown
        self._set_loading(False)
        if before != (self._rows[-1].id if self._rows else None):
            return  # load_page_now went further meanwhile
        if isinstance(result, Exception):
            log.error("cannot read run history: %s", result)
            self._exhausted = True
            self.load_failed.emit(f"Cannot read the run history: {result}")
            return
        self._append(result)  # type: ignore[arg-type]

    def _set_loading(self, loading: bool) -> None:
        if loading != self._loading:
            self._loading = loading
            self.loading_changed.emit(loading)

    def _append(self, page: list[RunRecord]) -> None:
        if len(page) < self._page_size:
            self._exhausted = True
        page = [record for record in page if self.row_of(record.id) is None]
        if page:
            self._insert(len(self._rows), page)
        self._scrolled_in = len(self._rows)
        self.page_loaded.emit(len(page))

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    @property
    def loading(self) -> bool:
        return self._loading

    # --- the cells ---------------------------------------------------------------------------

    def _insert(self, row: int, records: list[RunRecord], *, live: bool = False) -> None:
        """Insert rows for `records` at `row`: one rowsInserted, then their cells, then one
        dataChanged (not one per cell)."""
        self._rows[row:row] = records
        self._keys[row:row] = [-record.id for record in records]
        self._running_ids.update(record.id for record in records if record.status is RunStatus.RUNNING)
        self.insertRows(row, len(records))
        with QSignalBlocker(self):
            for offset, record in enumerate(records):
                self._fill(row + offset, record, live=live)
        self.dataChanged.emit(self.index(row, 0), self.index(row + len(records) - 1, len(COLUMNS) - 1))

    def _fill(self, row: int, record: RunRecord, previous: RunRecord | None = None, *, live: bool = False) -> None:
        """Write the cells of `row` (signals blocked by the caller): every one, or with
        `previous` (the record the row showed) those whose roles differ. The items are made in
        C++ (setItemData): a Python QStandardItem per cell would be a wrapper object per cell.
        `live`: a row of a live event, whose roles are kept (LIVE_CELLS of them) so that the
        run's next event compares with them instead of working out the old ones again."""
        written = self._live_cells.pop(record.id, None)
        cells = [self._roles(record, column) for column in range(len(COLUMNS))]
        for column, roles in enumerate(cells):
            if previous is not None:
                before = written[column] if written is not None else self._roles(previous, column)
                if roles == before:
                    continue  # a call into Qt saved: during a burst each can wait for the GIL
            self.setItemData(self.index(row, column), roles)
        if live:
            self._live_cells[record.id] = cells
            if len(self._live_cells) > LIVE_CELLS:
                del self._live_cells[next(iter(self._live_cells))]

    def _roles(self, record: RunRecord, column: int) -> dict[int, object]:
        text = self._duration_text(record) if column == DURATION else _display(record, column)
        roles: dict[int, object] = {
            _DISPLAY: text,
            _TOOLTIP: _tooltip(record, column) or "",
            _ACCESSIBLE: f"{COLUMNS[column]}: {text or NO_VALUE}",
        }
        if column == STATUS:
            roles[_DECORATION] = status_icon(record.status)
            roles[_FOREGROUND] = self._colour(record.status)
        elif column in (DURATION, EXIT_CODE):
            roles[_ALIGNMENT] = _RIGHT_INT
        elif column == JOB:
            roles[RUN_ID_ROLE_INT] = record.id
        return roles

    def _colour(self, status: RunStatus) -> object:
        colour = self._colours.get(status)
        if colour is None:
            colour = self._colours[status] = status_colour(status, self._palette or QGuiApplication.palette())
        return colour

    def _refill(self, row: int, record: RunRecord, previous: RunRecord | None = None) -> None:
        with QSignalBlocker(self):
            self._fill(row, record, previous, live=True)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    # --- live updates ------------------------------------------------------------------------

    @Slot(object)
    def on_run_changed(self, record: RunRecord) -> None:
        """A run was queued, started, finished or recorded: insert, update or drop its row."""
        if self._pending:  # they came first
            self.apply_pending()
        self._apply([record])

    @Slot(object)
    def queue_run_changed(self, record: RunRecord) -> None:
        """`on_run_changed`, applied within LIVE_BATCH_MS together with the events around it.
        A final state is never replaced by a later non-final one (NOTES item 7)."""
        waiting = self._pending.get(record.id)
        if waiting is None or record.status.is_final or not waiting.status.is_final:
            self._pending[record.id] = record
        if not self._batch_timer.isActive():
            self._batch_timer.start(LIVE_BATCH_MS if time.monotonic() < self._burst_until else 0)

    def apply_pending(self) -> None:
        """Apply every queued event now (before looking a run up, e.g. to show it)."""
        self._batch_timer.stop()
        records, self._pending = list(self._pending.values()), {}
        self._apply(records)

    @Slot()
    def _apply_pending(self) -> None:
        if len(self._pending) >= BURST_EVENTS:
            self._burst_until = time.monotonic() + BURST_S
        until = time.monotonic() + LIVE_SLICE_S
        while self._pending and time.monotonic() < until:
            ids = sorted(self._pending)[:LIVE_CHUNK]  # oldest first: a burst's rows fill in order
            self._apply([self._pending.pop(run_id) for run_id in ids])
        if self._pending:
            self._batch_timer.start(0)  # the rest after the event loop turned

    def _apply(self, records: list[RunRecord]) -> None:
        new: list[RunRecord] = []
        for record in records:
            if record.status.is_final:
                self._final_ids.add(record.id)
            elif record.id in self._final_ids:
                continue  # a late "queued"/"started" for a run we already saw end
            if record.status is RunStatus.RUNNING:
                self._running_ids.add(record.id)
            else:
                self._running_ids.discard(record.id)
            row = self.row_of(record.id)
            if row is not None:
                if self._filter.matches(record):
                    previous, self._rows[row] = self._rows[row], record
                    self._refill(row, record, previous)
                else:  # e.g. the "Running" filter and the run ended
                    del self._rows[row], self._keys[row]
                    self.removeRows(row, 1)
                continue
            if not self._filter.matches(record):
                continue
            if not self._exhausted and self._rows and record.id < self._rows[-1].id:
                continue  # older than what is loaded: a later page brings it
            new.append(record)
        self._insert_runs(new)

    def _insert_runs(self, records: list[RunRecord]) -> None:
        """Insert new rows, newest first, one insertRows per run of neighbours (a burst: one)."""
        groups: list[tuple[int, list[RunRecord]]] = []
        for record in sorted(records, key=lambda r: -r.id):
            row = bisect.bisect_left(self._keys, -record.id)
            if groups and groups[-1][0] == row:
                groups[-1][1].append(record)
            else:
                groups.append((row, [record]))
        for row, group in reversed(groups):  # from the bottom: the rows above keep their numbers
            self._insert(row, group, live=True)
        self._drop_below(max(KEEP_ROWS, self._scrolled_in))

    def _drop_below(self, keep: int) -> None:
        """Drop the rows past the first `keep` (the oldest): scrolling down pages them in again."""
        if len(self._rows) <= keep:
            return
        self.removeRows(keep, len(self._rows) - keep)
        for record in self._rows[keep:]:
            self._running_ids.discard(record.id)
            self._live_cells.pop(record.id, None)
        del self._rows[keep:], self._keys[keep:]
        self._exhausted = False
        oldest = self._rows[-1].id if self._rows else 0
        self._final_ids = {run_id for run_id in self._final_ids if run_id >= oldest}  # older ones are a page's

    def tick_running(self) -> int:
        """Move on the elapsed time in the Duration cell of each running row; returns how many."""
        rows = [row for run_id in self._running_ids if (row := self.row_of(run_id)) is not None]
        for row in rows:
            index = self.index(row, DURATION)
            text = self._duration_text(self._rows[row])
            if index.data() != text:
                self.setData(index, text)
        return len(rows)

    def _duration_text(self, record: RunRecord) -> str:
        """"42s of ~1m 20s" while it runs (its job's usual time); "2m 50s (long)" after a run marked longer than usual."""
        running = record.status is RunStatus.RUNNING
        usual = self.usual(record.job_id) if running else None
        if running and (usual is not None or record.slow == "long"):
            return running_words(record, usual) or _display(record, DURATION)
        text = _display(record, DURATION)
        return f"{text} ({MARKS[record.slow]})" if record.slow in MARKS else text

    # --- lookups -----------------------------------------------------------------------------

    def row_of(self, run_id: int) -> int | None:
        row = bisect.bisect_left(self._keys, -run_id)
        return row if row < len(self._keys) and self._keys[row] == -run_id else None

    def record_at(self, row: int) -> RunRecord | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def set_palette(self, palette: QPalette) -> None:
        """The palette status colours must read on (the view's; dark mode)."""
        self._palette = QPalette(palette)
        self._colours.clear()
        self._live_cells.clear()  # their colours are the old palette's
        for row, record in enumerate(self._rows):
            self.setData(self.index(row, STATUS), status_colour(record.status, self._palette), _FOREGROUND)


def _display(record: RunRecord, column: int) -> str:
    if column == JOB:
        return record.job_name
    if column == CAUSE:
        return record.cause.value.capitalize()
    if column == SCHEDULED and record.cause is RunCause.AFTER:  # no slot: the run whose end started it
        return f"after #{record.upstream_run_id}" if record.upstream_run_id else NO_VALUE
    if column == SCHEDULED:  # a run started by hand has no slot (older rows say when it was asked for)
        return NO_VALUE if record.cause is RunCause.MANUAL else format_time(record.scheduled_at)
    if column == STARTED:
        return NO_VALUE if never_started(record) else format_time(record.started_at)
    if column == DURATION:
        if record.status is RunStatus.RUNNING and record.started_at is not None:
            return format_duration(float(int(elapsed_seconds(record.started_at))))  # whole seconds, ticking
        return NO_VALUE if never_started(record) else format_duration(record.duration)
    if column == STATUS:
        return status_text(record.status)
    if column == EXIT_CODE:
        return NO_VALUE if record.exit_code is None else str(record.exit_code)
    if column == RAN_ON:
        return ran_on(record)
    if column == ERROR:
        if record.status is RunStatus.WAITING and record.waiting_for:
            return f"Waiting for {record.waiting_for}"
        return elide_error(with_attempt(record, failure_words(record)))
    return ""


def ran_on(record: RunRecord) -> str:
    """The worker's host, "pool gpu" while a remote run waits, or "This computer"."""
    if record.ran_on:
        return record.ran_on
    if record.pool:
        return f"pool {record.pool}"
    return NO_VALUE if never_started(record) else THIS_COMPUTER


def elapsed_seconds(since: datetime) -> float:
    return max(0.0, (datetime.now(timezone.utc) - since).total_seconds())


def elide_error(error: str | None) -> str:
    """The first line of `error`, at most ERROR_DISPLAY_CHARS, with "…" when anything was cut."""
    if not error:
        return ""
    lines = error.strip().splitlines() or [""]
    first = lines[0]
    if len(first) > ERROR_DISPLAY_CHARS:
        return first[: ERROR_DISPLAY_CHARS - 1] + "…"
    return first + (" …" if len(lines) > 1 else "")


def _tooltip(record: RunRecord, column: int) -> str | None:
    if column == JOB:
        return f"{record.job_name} ({record.job_id}), run #{record.id}"
    if column == SCHEDULED and record.cause is RunCause.AFTER:
        return f"Started when run #{record.upstream_run_id} ended (its jobs had finished)"
    if column in (SCHEDULED, STARTED):
        moment = record.scheduled_at if column == SCHEDULED else record.started_at
        if column == SCHEDULED and record.cause is RunCause.MANUAL:
            moment = None
        if moment is None or (column == STARTED and never_started(record)):
            return "Started by hand" if column == SCHEDULED else "The run never started"
        return f"{format_time(moment, seconds=True)} ({format_relative(moment)})"
    if column == DURATION and record.status is RunStatus.RUNNING and record.started_at is not None:
        return f"Running since {format_time(record.started_at, seconds=True)}"
    if column == DURATION and record.ended_at is not None:
        unusual = f"\n{LONG_WORDS[record.slow].capitalize()} for this job" if record.slow in LONG_WORDS else ""
        return f"Ended {format_time(record.ended_at, seconds=True)}{unusual}"
    if column == ERROR:
        if record.status is RunStatus.WAITING and record.waiting_for:
            return f"Waiting for {record.waiting_for}; it starts when that holds (right-click: Run anyway)"
        return with_attempt(record, failure_words(record)) or None
    if column == RAN_ON and record.pool:
        where = f"on {record.ran_on}" if record.ran_on else "waiting for a worker"
        return f"Sent to pool {record.pool}, {where}"
    if column == STATUS and record.truncated:
        return f"{status_text(record.status)}; its output was cut at the log size limit"
    return None
