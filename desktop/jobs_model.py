"""The jobs table: a snapshot of the definitions loaded off the GUI thread, its model, its proxy
and its two view helpers (an eliding label, the empty state drawn over the viewport).

`SnapshotLoader` reads everything the window shows about jobs (definitions, next run times,
last runs, the upcoming fire times and the schedules in words) on a worker thread and hands a
frozen `Snapshot` back through a queued signal. Requests are debounced (~200 ms) and coalesced:
a burst of `jobs_changed` events costs one load, and never more than one load runs at a time.

`JobsModel` is a QAbstractTableModel over the snapshot. Run events update one row in place
(the last-run column) without touching the database. Countdowns are refreshed by the window's
one clock calling `tick()`, which emits dataChanged for the countdown column only. Sorting and
filtering use dedicated roles (`SORT_ROLE`, `FILTER_ROLE`) so that a tick (DisplayRole) never
makes the proxy re-sort or re-filter.
"""

from __future__ import annotations

import heapq
import logging
import math
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QAction, QGuiApplication, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.formatting import NO_VALUE, format_relative, format_time, format_time_with_relative, status_icon, status_text
from desktop.icons import icon
from jobs import triggers
from jobs.model import IntervalSpec, JobSpec, RunRecord
from jobs.repository import BrokenRow

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex

NAME, SCHEDULE, NEXT_RUN, COUNTDOWN, LAST_RUN, STATE = range(6)
HEADERS = ("Name", "Schedule", "Next run", "Countdown", "Last run", "State")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 3

UPCOMING_LIMIT = 200
UPCOMING_HORIZON = timedelta(days=7)
DEBOUNCE_MS = 200
EMPTY_TEXT = "No jobs yet — New job… or import a file"
MAX_WAIT_MS = 1500


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    specs: tuple[JobSpec, ...] = ()
    next_runs: dict[str, datetime] = field(default_factory=dict)
    last_runs: dict[str, RunRecord] = field(default_factory=dict)
    upcoming: tuple[tuple[datetime, JobSpec], ...] = ()
    schedules: dict[str, str] = field(default_factory=dict)  # job id -> schedule in words
    broken: tuple[BrokenRow, ...] = ()
    took: float = 0.0  # seconds the load took
    complete: bool = True  # False: a first, quick snapshot without last runs and schedule words


def describe_schedule(spec: JobSpec, cache: dict[Any, str]) -> str:
    """The schedule in words; cron words are cached (cron-descriptor costs ~0.1 ms a call)."""
    key = spec.trigger
    cacheable = not hasattr(key, "start")  # an interval's words depend on now (its start)
    if cacheable and key in cache:
        return cache[key]
    try:
        words = triggers.describe(spec.trigger)
    except Exception as exc:  # a stored trigger that no longer validates: show it, never fail
        words = f"Invalid schedule: {exc}"
    if cacheable:
        cache[key] = words
    return words


def upcoming_fires(specs: tuple[JobSpec, ...], next_runs: dict[str, datetime], triggers_cache: dict[Any, Any],
                   *, limit: int = UPCOMING_LIMIT, horizon: timedelta = UPCOMING_HORIZON) -> list[tuple[datetime, JobSpec]]:
    """What `JobService.upcoming()` returns, from data already loaded.

    WORKAROUND: `JobService.upcoming()` reads every definition again (twice: once more through
    `next_run_times()`) and builds a fresh APScheduler trigger per job on every call; here the
    snapshot's own definitions and next run times are reused and triggers are cached by spec.
    """
    by_id = {spec.id: spec for spec in specs}
    end = datetime.now(timezone.utc) + horizon
    streams = [_fire_stream(by_id[job_id], first, triggers_cache) for job_id, first in next_runs.items() if job_id in by_id]
    out: list[tuple[datetime, JobSpec]] = []
    for when, job_id in heapq.merge(*streams):
        if when > end or len(out) >= limit:
            break
        out.append((when, by_id[job_id]))
    return out


def _fire_stream(spec: JobSpec, first: datetime, cache: dict[Any, Any]) -> Iterator[tuple[datetime, str]]:
    trigger = spec.trigger
    if isinstance(trigger, IntervalSpec) and trigger.jitter:
        trigger = replace(trigger, jitter=None)  # previews show the planned slots
    aps = cache.get(trigger)
    if aps is None:
        aps = cache[trigger] = triggers.to_aps_trigger(trigger)
    when: datetime | None = first
    while when is not None:
        yield when.astimezone(timezone.utc), spec.id
        when = aps.get_next_fire_time(when, when)


class SnapshotLoader(QObject):
    """Loads `Snapshot`s on a worker thread; `loaded(Snapshot)` arrives on the GUI thread.

    Requests are debounced with a quiet period: a load starts `debounce_ms` after the last
    request, but no later than `max_wait_ms` after the first one. During a burst of runs (a
    hundred events a second) that is one load every `max_wait_ms`, not one every 200 ms: each
    load is Python work on a worker thread, and every bit of it makes the GUI thread wait for
    the GIL on its own calls into Python (measured: 100-150 ms stalls while painting).

    Signals:
        loaded(Snapshot): a load finished.
    """

    loaded = Signal(object)
    _done = Signal(object)  # emitted by the worker; queued to this (GUI-thread) object
    _partial = Signal(object)  # the quick first snapshot, from the worker

    def __init__(self, service: Any, parent: QObject | None = None, *, debounce_ms: int = DEBOUNCE_MS,
                 max_wait_ms: int = MAX_WAIT_MS) -> None:  # fmt: skip
        super().__init__(parent)
        self._service = service
        self._debounce = QTimer(self, singleShot=True, interval=debounce_ms)
        self._debounce.timeout.connect(self.load_now)
        self._max_wait = QTimer(self, singleShot=True, interval=max_wait_ms)
        self._max_wait.timeout.connect(self.load_now)
        self._thread: threading.Thread | None = None
        self._again = False
        self._closed = False
        self._words: dict[Any, str] = {}
        self._triggers: dict[Any, Any] = {}
        self._partial_applied = threading.Event()
        self.loads = 0  # finished loads (tests, benchmark)
        self._done.connect(self._on_done)
        self._partial.connect(self._on_partial)

    @Slot()
    @Slot(object)
    def request(self, _payload: object = None) -> None:
        """Load once requests pause for the debounce interval (or the longest wait passed)."""
        if self._closed:
            return
        self._debounce.start()  # (re)start: wait for a quiet moment
        if not self._max_wait.isActive():
            self._max_wait.start()

    @Slot()
    def load_now(self) -> None:
        self._debounce.stop()
        self._max_wait.stop()
        if self._closed:
            return
        if self._thread is not None:
            self._again = True  # one more load once this one ends: it may have read stale data
            return
        self._thread = threading.Thread(target=self._work, name="jobs-snapshot", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        return self._thread is not None or self._debounce.isActive() or self._max_wait.isActive()

    def close(self, timeout: float = 10.0) -> None:
        """Stop loading and wait for a load in progress (before the database closes)."""
        self._closed = True
        self._partial_applied.set()
        self._debounce.stop()
        self._max_wait.stop()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _work(self) -> None:
        started = time.perf_counter()
        snapshot = None
        try:
            snapshot = self._load(quick_first=self.loads == 0)
        except Exception:
            if not self._closed:
                log.exception("loading the jobs failed")
        if snapshot is not None:
            snapshot = replace(snapshot, took=time.perf_counter() - started)
        if not self._closed:
            self._done.emit(snapshot)

    def _load(self, *, quick_first: bool = False) -> Snapshot:
        """Everything the window shows about jobs. With `quick_first` (the first load, at
        start-up) a quick snapshot goes out before the slow parts: last runs are one query per
        job and the schedule words cost ~0.4 ms each the first time (0.6 s for 1,000 jobs)."""
        service = self._service
        specs = tuple(service.jobs.all())
        broken = tuple(service.jobs.broken)
        next_runs = service.next_run_times()
        if len(self._triggers) > 4 * len(specs) + 64:
            self._triggers.clear()  # forget triggers of edited or deleted jobs
        upcoming = tuple(upcoming_fires(specs, next_runs, self._triggers))
        if quick_first and not self._closed:
            self._partial_applied.clear()
            self._partial.emit(Snapshot(specs, next_runs, {}, upcoming, {}, broken, complete=False))
            # Let the GUI thread show it without this thread competing for the GIL: filling
            # the table is ~10,000 calls into Python, each one waiting for the GIL otherwise.
            self._partial_applied.wait(2.0)
        last_runs = service.history.last_runs([spec.id for spec in specs])
        schedules = {spec.id: describe_schedule(spec, self._words) for spec in specs}
        return Snapshot(specs, next_runs, last_runs, upcoming, schedules, broken)

    @Slot(object)
    def _on_partial(self, snapshot: Snapshot) -> None:
        try:
            if not self._closed:
                self.loaded.emit(snapshot)
        finally:
            self._partial_applied.set()

    @Slot(object)
    def _on_done(self, snapshot: Snapshot | None) -> None:
        self._thread = None
        if self._closed:
            return
        if snapshot is not None:
            self.loads += 1
            self.loaded.emit(snapshot)
        if self._again:
            self._again = False
            self.load_now()


# --- the model -------------------------------------------------------------------------------


@dataclass
class _Row:
    spec: JobSpec
    schedule: str
    next_run: datetime | None
    last_run: RunRecord | None


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: list[tuple[int, int]] = []
    for row in rows:
        if out and out[-1][1] == row - 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


def last_run_time(record: RunRecord | None) -> datetime | None:
    if record is None:
        return None
    return record.ended_at or record.started_at or record.queued_at or record.scheduled_at


class JobsModel(QAbstractTableModel):
    """One row per job, in load order (the proxy sorts)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[_Row] = []
        self._by_id: dict[str, int] = {}
        self.loaded = False  # a first snapshot arrived (the empty state waits for it)

    # --- feeding -------------------------------------------------------------------------------

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Take a new snapshot, keeping rows (and so the selection) of jobs that still exist."""
        self.loaded = True
        fresh: dict[str, _Row] = {}
        for spec in snapshot.specs:
            last = snapshot.last_runs.get(spec.id)
            old = self._row_for(spec.id)
            if old is not None and old.last_run is not None and (last is None or old.last_run.id > last.id):
                last = old.last_run  # a live event newer than what the worker read
            schedule = snapshot.schedules.get(spec.id, old.schedule if old is not None else "")
            fresh[spec.id] = _Row(spec, schedule, snapshot.next_runs.get(spec.id), last)
        gone = [row for row, item in enumerate(self._rows) if item.spec.id not in fresh]
        if len(gone) > 50:
            self.beginResetModel()
            self._rows = list(fresh.values())
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
            if new != item:
                self._rows[row] = new
                changed.append(row)
        for first, last in _runs(changed):  # only what changed: every dataChanged costs a re-sort
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(HEADERS) - 1))
        if fresh:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
            self._rows.extend(fresh.values())
            self._reindex()
            self.endInsertRows()

    @Slot(object)
    def on_run_event(self, record: RunRecord) -> None:
        """A run was queued, started, finished or recorded: it may be its job's newest run."""
        row = self._by_id.get(record.job_id)
        if row is None:
            return
        item = self._rows[row]
        if item.last_run is None or record.id >= item.last_run.id:
            item.last_run = record
            self.dataChanged.emit(self.index(row, LAST_RUN), self.index(row, LAST_RUN))

    def set_paused(self, job_id: str, paused: bool) -> None:
        """Show a pause/resume at once; the next snapshot brings the new next run time."""
        row = self._by_id.get(job_id)
        if row is not None and self._rows[row].spec.paused != paused:
            item = self._rows[row]
            item.spec = replace(item.spec, paused=paused)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(HEADERS) - 1))

    def tick(self) -> None:
        """Countdowns moved on: repaint that column only (no sort, no filter)."""
        if self._rows:
            self.dataChanged.emit(
                self.index(0, COUNTDOWN), self.index(len(self._rows) - 1, COUNTDOWN), [Qt.ItemDataRole.DisplayRole]
            )

    # --- reading -------------------------------------------------------------------------------

    def spec(self, job_id: str) -> JobSpec | None:
        item = self._row_for(job_id)
        return item.spec if item is not None else None

    def specs(self) -> list[JobSpec]:
        return [item.spec for item in self._rows]

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

    def sort_key(self, row: int, column: int) -> Any:
        return _sort_key(self._rows[row], column)

    def _row_for(self, job_id: str) -> _Row | None:
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
            return _display(item, column)
        if role == SORT_ROLE:
            return _sort_key(item, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return _tooltip(item, column)
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
        if role == Qt.ItemDataRole.ForegroundRole and item.spec.paused and column in (NEXT_RUN, COUNTDOWN, STATE):
            return QGuiApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        return None


def _display(item: _Row, column: int) -> str:
    spec = item.spec
    if column == NAME:
        return spec.name
    if column == SCHEDULE:
        return item.schedule
    if column == NEXT_RUN:
        return NO_VALUE if spec.paused or item.next_run is None else format_time(item.next_run)
    if column == COUNTDOWN:
        if spec.paused:
            return "paused"
        return format_relative(item.next_run) if item.next_run is not None else NO_VALUE
    if column == LAST_RUN:
        return format_time(last_run_time(item.last_run)) if item.last_run is not None else "never"
    if column == STATE:
        return "Paused" if spec.paused else "Active"
    return ""


def _sort_key(item: _Row, column: int) -> Any:
    if column == NAME:
        return item.spec.name.casefold()
    if column == SCHEDULE:
        return item.schedule.casefold()
    if column in (NEXT_RUN, COUNTDOWN):
        return math.inf if item.spec.paused or item.next_run is None else item.next_run.timestamp()
    if column == LAST_RUN:
        moment = last_run_time(item.last_run)
        return moment.timestamp() if moment is not None else -math.inf
    if column == STATE:
        return int(item.spec.paused)
    return None


def _tooltip(item: _Row, column: int) -> str | None:
    spec = item.spec
    if column == NAME:
        lines = [spec.name]
        if spec.description:
            lines.append(spec.description)
        if spec.tags:
            lines.append("Tags: " + ", ".join(spec.tags))
        return "\n".join(lines)
    if column == SCHEDULE:
        return item.schedule
    if column in (NEXT_RUN, COUNTDOWN):
        if spec.paused:
            return "Paused: no runs until it is resumed"
        return format_time_with_relative(item.next_run) if item.next_run is not None else "No more runs"
    if column == LAST_RUN:
        record = item.last_run
        if record is None:
            return "Has not run yet"
        parts = [f"Run #{record.id}: {status_text(record.status)}", format_time(last_run_time(record), seconds=True)]
        if record.exit_code is not None:
            parts.append(f"exit code {record.exit_code}")
        if record.error:
            parts.append(record.error.splitlines()[0][:200])
        return "\n".join(parts)
    if column == STATE:
        return "Paused: scheduled runs do not happen" if spec.paused else "Active: runs on schedule"
    return None


class JobsProxy(QSortFilterProxyModel):
    """Sorts by `SORT_ROLE` and filters on name or tag (case-insensitive substring).

    `lessThan` reads the sort keys straight from the source rows: one call into Python per
    comparison instead of two `data()` calls through QVariant (sorting 1,000 jobs is ~10,000
    comparisons).
    """

    def lessThan(self, left: Index, right: Index) -> bool:
        source = self.sourceModel()
        if isinstance(source, JobsModel):
            a, b = source.sort_key(left.row(), left.column()), source.sort_key(right.row(), right.column())
            if a != b:
                return bool(a < b)
            return source.sort_key(left.row(), NAME) < source.sort_key(right.row(), NAME)
        return super().lessThan(left, right)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(NAME)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setDynamicSortFilter(True)

    def set_filter_text(self, text: str) -> None:
        self.setFilterFixedString(text.strip())


# --- view helpers of the jobs table ----------------------------------------------------------


class EmptyState(QWidget):
    """Centred over the jobs table's viewport while there is nothing to list."""

    def __init__(self, viewport: QWidget, new_action: QAction, import_action: QAction) -> None:
        super().__init__(viewport)
        self.setObjectName("jobsEmptyState")
        self.label = QLabel(EMPTY_TEXT, self, objectName="jobsEmptyText")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        font = self.label.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.label.setFont(font)
        self.label.setForegroundRole(self.label.foregroundRole())
        self.new_button = QPushButton(icon("new"), "New job…", self, objectName="emptyNewJobButton")
        self.import_button = QPushButton(icon("import"), "Import…", self, objectName="emptyImportButton")
        self.new_button.clicked.connect(new_action.trigger)
        self.import_button.clicked.connect(import_action.trigger)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        layout.addStretch(1)
        viewport.installEventFilter(self)
        self.resize(viewport.size())
        self.hide()

    def show_text(self, text: str, with_buttons: bool) -> None:
        self.label.setText(text)
        self.new_button.setVisible(with_buttons)
        self.import_button.setVisible(with_buttons)
        self.resize(self.parentWidget().size())
        self.show()
        self.raise_()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.resize(watched.size())  # type: ignore[attr-defined]
        return False
