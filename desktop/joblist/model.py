"""The jobs table's model and proxy over a `Snapshot`.

`JobsModel` is a QAbstractTableModel over the snapshot. A run event updates its job's row in
place at once, without touching the database; views hear of a turn's run events together.
Countdowns are refreshed by the window's one clock, which emits dataChanged for the countdown
cells on screen only.

The model sorts itself (`JobsModel.sort`, desktop.joblist.row_order): its rows are kept in the
shown order and the proxy only filters (on `FILTER_ROLE`). A QSortFilterProxyModel sorting
10,000 rows called a Python `lessThan` ~150,000 times (~1 s of the GUI thread at start-up);
one Python sort over keys made once per row is a few milliseconds, and a changed row is put in
its place only when it is out of order.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import (QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt,
                            QTimer, Slot)
from PySide6.QtGui import QGuiApplication, QPalette

from desktop.formatting import status_icon
from desktop.icons import icon
from desktop.joblist.cells import cell_text, cell_tooltip
from desktop.joblist.packed_bars import unpack_bars
from desktop.joblist.row_order import SortState, moved_rows, sorted_positions
from desktop.joblist.rows import (COUNTDOWN, HEADERS, LAST_RUN, NAME, NEXT_RUN, RECENT, SCHEDULE, STATE, USUAL, JobRow,
                                  TableRows, cached_key, row_key, row_runs, sort_key_of)
from desktop.joblist.snapshot import Snapshot
from desktop.joblist.usual_text import running_progress, strip_with_live_run
from jobs.after_next import upstream_words
from jobs.job_state import ACTIVE, JobState
from jobs.model import JobSpec, RunRecord, RunStatus
from jobs.release_later import release_later
from jobs.run_stats import DurationStats

Index = QModelIndex | QPersistentModelIndex

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 3
STRIP_ROLE = Qt.ItemDataRole.UserRole + 4  # RECENT: the runs to paint (desktop.joblist.strip_delegate)
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 5  # USUAL: fraction of the usual time a running run is at
# What a run event changes in a row (never its filter text or the proxy's sort: a span of rows
# told without roles made the proxy test each row of it against the filter)
RUN_ROLES = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole,
             Qt.ItemDataRole.ForegroundRole, STRIP_ROLE, PROGRESS_ROLE]  # fmt: skip
SPANS_TOLD = 8  # run-event rows told as this many runs of neighbours at most, else as one span


class JobsModel(QAbstractTableModel):
    """One row per job, in the shown order (see the module docstring; load order until sorted)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[JobRow] = []
        self._by_id: dict[str, int] = {}
        self.order = SortState()
        self._sorted_as: SortState | None = None  # the order the rows are known to be in
        self.loaded = False  # a first snapshot arrived (the empty state waits for it)
        self._live: set[str] = set()  # jobs whose row got a run event the snapshots may not have yet
        self._table_serial: int | None = None  # the worker's TableRows shown (desktop.joblist.rows)
        self._first_screen_only = False  # the rows are the table's first screen alone (apply_first_screen)
        self._runs_to_tell: set[str] = set()  # jobs whose run cells changed since views were told
        self._tell_timer = QTimer(self)  # (a child: it goes with the model)
        self._tell_timer.setSingleShot(True)
        self._tell_timer.setInterval(0)
        self._tell_timer.timeout.connect(self._tell_run_changes)

    # --- feeding -------------------------------------------------------------------------------

    def apply_first_screen(self, table: TableRows | None) -> None:
        """Show the table's first rows before the first snapshot (jobs.first_screen: at 10,000 jobs
        they are read ~0.3 s sooner than all jobs). The first snapshot adds the rest below them."""
        if table is None or self.loaded or self._rows or table.sorted_as != self.order:  # too late, or sorted otherwise meanwhile
            return
        self._take_ordered(table)
        self._first_screen_only = True

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Take a new snapshot, keeping rows (and so the selection) of jobs that still exist."""
        self.loaded = True
        table = snapshot.table
        first_screen, self._first_screen_only = self._first_screen_only, False
        if table is not None and table.sorted_as == self.order and (snapshot.complete or not self._rows or first_screen):
            if table.same_as is not None and table.same_as == self._table_serial:
                self._table_serial = table.serial  # the rows shown already (and their live runs)
                return
            if table.changed is not None and table.positions is self._by_id:  # the shown jobs, in the shown order
                self._take_changed(table)
                return
            if first_screen and self._take_below_first_screen(table):
                return
            if first_screen and self._by_id.keys() <= table.positions.keys():
                self._add_below(table)  # the rest of the jobs, below the first screen's rows
            if not self._rows or table.positions.keys() == self._by_id.keys():  # the same jobs: rows only move
                self._take_ordered(table)
                return
        self._table_serial = None
        complete_rows = snapshot.rows if snapshot.complete else None
        fresh = self._with_live_runs(complete_rows) if complete_rows is not None else self._rows_of(snapshot)
        gone = [row for row, item in enumerate(self._rows) if item.spec.id not in fresh]
        if len(gone) > 50 or not self._rows:  # (the first fill too) sorted before the view sees a row
            self.beginResetModel()
            self._rows = self._in_order(list(fresh.values()))
            self._sorted_as = self.order
            self._reindex()
            self.endResetModel()
            return
        for row in reversed(gone):
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self.endRemoveRows()
        self._reindex()
        changed = []
        for row, item in enumerate(self._rows):
            new = fresh.pop(item.spec.id)
            if new is not item and new != item:  # the same object: a row the worker found unchanged
                self._rows[row] = new
                changed.append(row)
        for top, bottom in row_runs(changed):  # only what changed: every dataChanged costs a re-sort
            self.dataChanged.emit(self.index(top, 0), self.index(bottom, len(HEADERS) - 1))
        if fresh:
            end = len(self._rows)
            self.beginInsertRows(QModelIndex(), end, end + len(fresh) - 1)
            self._rows.extend(fresh.values())
            self._reindex()
            self.endInsertRows()
        if changed or fresh:
            self._resort()

    def _take_below_first_screen(self, table: TableRows) -> bool:
        """When the first screen's rows are `table`'s first rows (the usual case), take `table`
        whole: one insert below them and its own numbering (making and comparing 10,000 ids here
        was ~20 of the ~30 ms this load froze the window). False: nothing done."""
        shown = self._rows
        if len(table.ordered) < len(shown) or any(new.spec.id != old.spec.id for new, old in zip(table.ordered, shown)):
            return False
        old_by_id = self._live_rows()
        if len(table.ordered) > len(shown):
            self.beginInsertRows(QModelIndex(), len(shown), len(table.ordered) - 1)
        self._rows, self._by_id, self._sorted_as, self._table_serial = list(table.ordered), table.positions, self.order, table.serial
        if len(table.ordered) > len(shown):
            self.endInsertRows()
        kept_live = self._keep_live_runs(old_by_id)
        if shown:
            self.dataChanged.emit(self.index(0, 0), self.index(len(shown) - 1, len(HEADERS) - 1))
        for job_id in kept_live:
            self._keep_in_place(self._by_id[job_id])
        return True

    def _add_below(self, table: TableRows) -> None:
        """Insert the rows of `table` this model lacks after its own (the first screen's rows are
        the table's first rows, so they usually land where `table` has them)."""
        added = [item for item in table.ordered if item.spec.id not in self._by_id]
        if not added:
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
        self._rows.extend(added)
        self._reindex()
        self.endInsertRows()

    def _take_changed(self, table: TableRows) -> None:
        """Show rows of the jobs shown, in the order shown (`table.positions` is this model's): the
        worker listed which rows are new objects; rows that show a live run are told too, as they
        may now show the worker's row (or keep their live run: `_keep_live_runs`)."""
        old_by_id = self._live_rows()
        shown, self._table_serial, self._rows, self._sorted_as = self._rows, table.serial, list(table.ordered), self.order
        release_later(shown)  # (freeing 10,000 rows here was 7 ms of the GUI thread)
        kept_live = self._keep_live_runs(old_by_id)
        assert table.changed is not None
        for top, bottom in table.changed:
            self.dataChanged.emit(self.index(top, 0), self.index(bottom, len(HEADERS) - 1))
        for row in sorted(self._by_id[job_id] for job_id in old_by_id):
            if not any(top <= row <= bottom for top, bottom in table.changed):
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
        for job_id in kept_live:
            self._keep_in_place(self._by_id[job_id])

    def _take_ordered(self, table: TableRows) -> None:
        """Show rows the snapshot's worker made, sorted and numbered as this model is sorted (at
        10,000 jobs, making, comparing, sorting and numbering them here froze the window 70-150
        ms a load); a live run newer than what the worker read stays. The selection follows its jobs."""
        self._table_serial = table.serial
        if not self._rows:
            self.beginResetModel()
            self._rows, self._by_id, self._sorted_as = list(table.ordered), table.positions, self.order
            self._live.clear()
            self.endResetModel()
            return
        old_by_id = self._live_rows()
        if table.positions == self._by_id:  # the same jobs in the same order: only rows changed
            shown, self._rows, self._sorted_as = self._rows, list(table.ordered), self.order
            self._by_id = table.positions  # (equal: the next table built on this one finds it is, by identity)
            kept_live = self._keep_live_runs(old_by_id)
            changed = [row for row, (new, old) in enumerate(zip(self._rows, shown)) if new is not old]
            release_later(shown)
            for top, bottom in row_runs(changed):  # no layout change: the proxy keeps its mapping and filter
                self.dataChanged.emit(self.index(top, 0), self.index(bottom, len(HEADERS) - 1))
            for job_id in kept_live:
                self._keep_in_place(self._by_id[job_id])
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        persistent_ids = [self._rows[index.row()].spec.id for index in persistent]
        release_later(self._rows)
        self._rows, self._by_id, self._sorted_as = list(table.ordered), table.positions, self.order
        kept_live = self._keep_live_runs(old_by_id)
        self.changePersistentIndexList(persistent, [self.index(self._by_id[job_id], index.column())
                                                    for job_id, index in zip(persistent_ids, persistent)])  # fmt: skip
        self.layoutChanged.emit()
        for job_id in kept_live:
            self._keep_in_place(self._by_id[job_id])

    def _live_rows(self) -> dict[str, JobRow]:
        """The rows shown now of the jobs that got a live run (before new rows replace them)."""
        return {job_id: self._rows[self._by_id[job_id]] for job_id in self._live if job_id in self._by_id}

    def _keep_live_runs(self, old_rows: dict[str, JobRow]) -> list[str]:
        """Put back the live runs (on_run_event) newer than the new rows' last runs; forget the
        ones the new rows caught up with. Returns the jobs whose row got its live run back."""
        kept = []
        for job_id, old in old_rows.items():
            row = self._by_id.get(job_id)
            if row is None or old.last_run is None:
                continue
            new = self._rows[row]
            if new.last_run is not None and new.last_run.id >= old.last_run.id:
                continue
            self._rows[row] = replace(new, last_run=old.last_run, keys={})
            kept.append(job_id)
        self._live = set(kept)
        return kept

    def _rows_of(self, snapshot: Snapshot) -> dict[str, JobRow]:
        """Each job's row, made here: a first, quick snapshot lacks parts the rows shown have."""
        fresh: dict[str, JobRow] = {}
        names = {spec.id: spec.name for spec in snapshot.specs}
        for spec in snapshot.specs:
            last = snapshot.last_runs.get(spec.id)
            old = self._row_for(spec.id)
            if old is not None and old.last_run is not None and (last is None or old.last_run.id > last.id):
                last = old.last_run  # a live event newer than what the worker read
            schedule = snapshot.schedules.get(spec.id, old.schedule if old is not None else "")
            usual = snapshot.durations.get(spec.id, old.usual if old is not None and not snapshot.complete else None)
            strip = snapshot.strips.get(spec.id, old.strip if old is not None and not snapshot.complete else b"")
            expected = snapshot.expected_after.get(spec.id)
            upstream = upstream_words(expected, names) if expected is not None else ""
            fresh[spec.id] = JobRow(spec, schedule, snapshot.next_runs.get(spec.id), last, usual, strip, expected, upstream)
        return fresh

    def _with_live_runs(self, rows: dict[str, JobRow]) -> dict[str, JobRow]:
        """A complete snapshot's rows (made on its worker: desktop.joblist.rows.fresh_rows), each
        with the last run this model was told of live when that is newer than what was read."""
        fresh = dict(rows)  # consumed by apply_snapshot; the snapshot's own stay as read
        for job_id, new in rows.items():
            old = self._row_for(job_id)
            if old is not None and old.last_run is not None and (new.last_run is None or old.last_run.id > new.last_run.id):
                fresh[job_id] = replace(new, last_run=old.last_run, keys={})
        return fresh

    @Slot(object)
    def on_run_event(self, record: RunRecord) -> None:
        """A run was queued, started, finished or recorded: it may be its job's newest run."""
        row = self._by_id.get(record.job_id)
        if row is None:
            return
        item = self._rows[row]
        if item.last_run is None or record.id >= item.last_run.id:
            item.last_run = record
            item.keys.clear()
            self._live.add(record.job_id)
            if not self._runs_to_tell:
                self._tell_timer.start()
            self._runs_to_tell.add(record.job_id)
            self._keep_in_place(row)

    @Slot()
    def _tell_run_changes(self) -> None:
        """Tell views about the rows run events changed, once per turn of the event loop.

        The data changes at once (`on_run_event`); views hear of it here, from the last run to
        the strip. During the minute's burst at 10,000 jobs (100 runs starting and ending), two
        dataChanged per event cost the GUI thread ~0.7 ms an event, each call into Qt waiting for
        the GIL the run threads held; told once a turn, the burst's events arrive in a few turns."""
        rows = sorted(row for job_id in self._runs_to_tell if (row := self._by_id.get(job_id)) is not None)
        self._runs_to_tell.clear()
        spans = row_runs(rows)
        if len(spans) > SPANS_TOLD:  # a view repaints only the part of a span it shows
            spans = [(rows[0], rows[-1])]
        for top, bottom in spans:
            self.dataChanged.emit(self.index(top, LAST_RUN), self.index(bottom, RECENT), RUN_ROLES)

    def set_paused(self, job_id: str, paused: bool) -> None:
        """Show a pause/resume at once; the next snapshot brings the new next run time."""
        row = self._by_id.get(job_id)
        if row is not None and self._rows[row].spec.paused != paused:
            item = self._rows[row]
            item.spec = replace(item.spec, paused=paused)
            item.keys.clear()
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))
            self._keep_in_place(row)

    def tick(self) -> None:
        """Countdowns moved on: repaint that column only (no sort, no filter)."""
        if self._rows:
            self.dataChanged.emit(
                self.index(0, COUNTDOWN), self.index(len(self._rows) - 1, COUNTDOWN), [Qt.ItemDataRole.DisplayRole]
            )

    def tick_running(self) -> int:
        """Elapsed time and ETA of the running jobs moved on: their Usual and strip cells only."""
        rows = [row for row, item in enumerate(self._rows) if item.last_run is not None
                and item.last_run.status is RunStatus.RUNNING]  # fmt: skip
        for top, bottom in row_runs(rows):
            self.dataChanged.emit(self.index(top, USUAL), self.index(bottom, RECENT),
                                  [Qt.ItemDataRole.DisplayRole, PROGRESS_ROLE, STRIP_ROLE])  # fmt: skip
        return len(rows)

    def usual(self, job_id: str) -> DurationStats | None:
        item = self._row_for(job_id)
        return item.usual if item is not None else None

    # --- reading -------------------------------------------------------------------------------

    def spec(self, job_id: str) -> JobSpec | None:
        item = self._row_for(job_id)
        return item.spec if item is not None else None

    def specs(self) -> list[JobSpec]:
        return [item.spec for item in self._rows]

    def job_count(self) -> int:
        return len(self._rows)

    def all_paused(self) -> bool:
        """True if there are jobs and every one is paused. Stops at the first active job: the
        status bar asks on every run event and every second (a list of 10,000 specs each time
        was ~3 ms of the GUI thread per call)."""
        return bool(self._rows) and not self._first_screen_only and all(item.spec.paused for item in self._rows)

    def row_of(self, job_id: str) -> int | None:
        return self._by_id.get(job_id)

    def job_id_at(self, row: int) -> str | None:
        return self._rows[row].spec.id if 0 <= row < len(self._rows) else None

    def last_run(self, job_id: str) -> RunRecord | None:
        item = self._row_for(job_id)
        return item.last_run if item is not None else None

    def next_run(self, job_id: str) -> datetime | None:
        item = self._row_for(job_id)
        return item.next_run if item is not None else None

    def state(self, job_id: str) -> JobState | None:
        """ACTIVE, PAUSED or FINISHED (None: not listed)."""
        item = self._row_for(job_id)
        return item.state if item is not None else None

    def sort_key(self, row: int, column: int) -> Any:
        return cached_key(self._rows[row], column)

    # --- sorting (see the module docstring) ----------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort by `column` (ties by name), as a click on its header asks; the selection stays."""
        self.order = SortState(column, order)
        if self._sorted_as != self.order:  # the view asks twice a click (header, then table)
            self._resort()

    def _sort_keys(self, rows: list[JobRow]) -> list[tuple[Any, Any]]:
        column = self.order.column
        return [item.keys.get(column) or row_key(item, column) for item in rows]

    def _in_order(self, rows: list[JobRow]) -> list[JobRow]:
        if self.order.column < 0:
            return rows
        return [rows[i] for i in sorted_positions(self._sort_keys(rows), self.order.descending)]

    def _resort(self) -> None:
        """Put the rows in the sort order, telling views (and so the proxy) only when a row moved."""
        if self.order.column < 0 or len(self._rows) < 2:
            return
        positions = sorted_positions(self._sort_keys(self._rows), self.order.descending)
        self._sorted_as = self.order
        if positions == list(range(len(positions))):
            return
        self.layoutAboutToBeChanged.emit()
        self._rows = [self._rows[i] for i in positions]
        self._reindex()
        persistent = self.persistentIndexList()  # the selection, the current row
        if persistent:
            new_row = moved_rows(positions)
            self.changePersistentIndexList(persistent, [self.index(new_row[index.row()], index.column())
                                                        for index in persistent])  # fmt: skip
        self.layoutChanged.emit()

    def _keep_in_place(self, row: int) -> None:
        """One row changed: sort again only if it is now out of order (a burst of run events
        costs a comparison with two neighbours each, not a sort of every row)."""
        if self.order.column < 0:
            return
        around = self._rows[max(0, row - 1):row + 2]
        if around != self._in_order(list(around)):
            self._resort()

    def _row_for(self, job_id: str) -> JobRow | None:
        row = self._by_id.get(job_id)
        return self._rows[row] if row is not None else None

    def _reindex(self) -> None:
        self._by_id = {item.spec.id: row for row, item in enumerate(self._rows)}

    # --- QAbstractTableModel -------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        item, column = self._rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(item, column)
        if role == SORT_ROLE:
            return sort_key_of(item, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell_tooltip(item, column)
        if role == Qt.ItemDataRole.DecorationRole:
            if column == LAST_RUN and item.last_run is not None:
                return status_icon(item.last_run.status)
            if column == STATE and item.spec.paused:
                return icon("pause")
            return None
        if role == FILTER_ROLE:
            return " ".join((item.spec.name, *item.spec.tags))
        if role == JOB_ID_ROLE:
            return item.spec.id
        if role == STRIP_ROLE and column == RECENT:
            return strip_with_live_run(unpack_bars(item.strip), item.last_run)
        if role == PROGRESS_ROLE and column == USUAL:
            return running_progress(item.last_run, item.usual)
        if role == Qt.ItemDataRole.ForegroundRole and item.state != ACTIVE and column in (NEXT_RUN, COUNTDOWN, STATE):
            return QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        return None


class JobsProxy(QSortFilterProxyModel):
    """Filters on name or tag (case-insensitive substring); sorting is the source model's.

    `sort` (a header click, `sortByColumn`) is handed to the `JobsModel`, which keeps its rows
    in that order; this proxy stays unsorted (its own sort column -1) and so keeps the source's
    order. `sortColumn`/`sortOrder` answer with what was asked.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._order = SortState()
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(NAME)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)  # a renamed job is filtered again

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._order = SortState(column, order)
        source = self.sourceModel()
        if isinstance(source, JobsModel):
            source.sort(column, order)
        else:
            super().sort(column, order)

    def sortColumn(self) -> int:
        return self._order.column

    def sortOrder(self) -> Qt.SortOrder:
        return self._order.order

    def set_filter_text(self, text: str) -> None:
        self.setFilterFixedString(text.strip())
