"""The Upcoming table: the next fire times across all active jobs, soonest first.

Fed from the jobs snapshot (`Snapshot.upcoming`, computed by the core's
`FireTimes.upcoming` on the loader's thread): every active job's next run, however frequent the
other jobs are, then the nearest further runs within 7 days, up to 200 rows. Paused and finished
jobs have no next run and are not listed. The window's clock calls
`tick()` once a second: the countdown column repaints, and when the first row has become due the
caller asks for a fresh snapshot (the scheduler moved that job's next time).

An after-job (run after other jobs) is listed at the fire of its upstream jobs that completes
its set ("after 3 h": not before then; jobs.chain_plan).

Runs that are due but wait for a condition of their job (AC power, a network) come first, one
row each: their due time, "waiting", the job, and what they wait for; then pending retries
(jobs.retries): when they are due, the countdown, the job, which attempt. The window keeps
them current from the service's run events (`set_waiting`).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from desktop.formatting import format_relative, format_time, format_time_with_relative, status_colour, status_icon
from jobs.model import AfterSpec, JobSpec, RunRecord, RunStatus

Index = QModelIndex | QPersistentModelIndex

TIME, COUNTDOWN, JOB, SCHEDULE = range(4)
HEADERS = ("Time", "Countdown", "Job", "Schedule")
JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 3


def upcoming_empty_text(specs: list[JobSpec]) -> str:
    """Why the Upcoming table is empty, for the line shown over it."""
    if not specs:
        return "Nothing scheduled: there are no jobs yet (Job ▸ New job…)"
    if all(spec.paused for spec in specs):
        return "Nothing scheduled: every job is paused"
    return "Nothing scheduled: no job has a run to come (finished or paused)"


def shown_digest(fires: list[tuple[datetime, JobSpec]] | tuple, schedules: dict[str, str]) -> int:
    """A hash of what the Upcoming rows show (times, names, descriptions, zones, schedule words)."""
    return hash(tuple((when, spec.id, spec.name, spec.description, spec.trigger.timezone, schedules.get(spec.id))
                      for when, spec in fires))  # fmt: skip


class UpcomingModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[datetime, JobSpec]] = []
        self._digest: int | None = None  # of what the rows show (see set_fires)
        self._schedules: dict[str, str] = {}
        self._due_reported: datetime | None = None
        self._waiting: list[RunRecord] = []  # shown first

    def set_waiting(self, records: list[RunRecord]) -> None:
        """The runs waiting for a condition now (oldest first); rows change only if they did."""
        records = list(records)
        if [(r.id, r.waiting_for) for r in records] == [(r.id, r.waiting_for) for r in self._waiting]:
            return
        self.beginResetModel()
        self._waiting = records
        self.endResetModel()

    def waiting(self) -> list[RunRecord]:
        return list(self._waiting)

    def set_fires(self, fires: list[tuple[datetime, JobSpec]] | tuple, schedules: dict[str, str],
                  digest: int | None = None) -> bool:  # fmt: skip
        """Show `fires`; False (and no reset) when nothing shown would change. `digest`: the
        rows' `shown_digest`, computed where the rows were made (the loader's thread): at
        10,000 jobs, comparing the rows here cost the GUI thread 0.07-0.2 s per load."""
        fires = list(fires)
        if digest is None:
            digest = shown_digest(fires, schedules)
        if digest == self._digest:
            return False
        self.beginResetModel()
        self._rows = fires
        self._digest = digest
        self._schedules = dict(schedules)
        self.endResetModel()
        return True

    def fires(self) -> list[tuple[datetime, JobSpec]]:
        return list(self._rows)

    def first(self) -> tuple[datetime, JobSpec] | None:
        return self._rows[0] if self._rows else None

    def job_ids(self) -> set[str]:
        return {spec.id for _, spec in self._rows}

    def job_id_at(self, row: int) -> str | None:
        if 0 <= row < len(self._waiting):
            return self._waiting[row].job_id
        row -= len(self._waiting)
        return self._rows[row][1].id if 0 <= row < len(self._rows) else None

    def tick(self, now: datetime | None = None, *, repaint: bool = True) -> bool:
        """Repaint the countdowns; True once when the first row has become due (time to reload)."""
        if repaint and self.rowCount():
            self.dataChanged.emit(  # pending retries' countdowns (at the top) tick too
                self.index(0, COUNTDOWN), self.index(self.rowCount() - 1, COUNTDOWN), [Qt.ItemDataRole.DisplayRole],
            )
        if not self._rows:
            return False
        first = self._rows[0][0]
        if first <= (now or datetime.now(timezone.utc)) and first != self._due_reported:
            self._due_reported = first
            return True
        return False

    # --- QAbstractTableModel -------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._waiting) + len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if index.row() < len(self._waiting):
            return self._waiting_data(self._waiting[index.row()], index.column(), role)
        row = index.row() - len(self._waiting)
        if not 0 <= row < len(self._rows):
            return None
        when, spec = self._rows[row]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == TIME:
                return format_time(when, zone=spec.trigger.timezone)
            if column == COUNTDOWN:
                relative = format_relative(when) or "now"
                return relative.replace("in ", "after ", 1) if _follows(spec) else relative
            if column == JOB:
                return spec.name
            if column == SCHEDULE:
                return self._schedules.get(spec.id, "")
        elif role == Qt.ItemDataRole.ToolTipRole:
            if column in (TIME, COUNTDOWN) and _follows(spec):
                return (f"{self._schedules.get(spec.id, '')}: expected when those runs end, not before "
                        f"{format_time_with_relative(when, zone=spec.trigger.timezone)}")  # fmt: skip
            if column in (TIME, COUNTDOWN):
                return format_time_with_relative(when, zone=spec.trigger.timezone)
            if column == JOB:
                return spec.name if not spec.description else f"{spec.name}\n{spec.description}"
            if column == SCHEDULE:
                return self._schedules.get(spec.id, "")
        elif role == Qt.ItemDataRole.TextAlignmentRole and column == COUNTDOWN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        elif role == JOB_ID_ROLE:
            return spec.id
        return None

    def _retry_data(self, record: RunRecord, column: int, role: int) -> Any:
        """A pending retry's row: when it is due, the countdown, the job, which attempt."""
        due = record.retry_at or record.queued_at
        what = f"Retry: attempt {record.attempt} of {record.attempts}"
        if role == Qt.ItemDataRole.DisplayRole:
            countdown = format_relative(due) or "now" if due is not None else ""
            return (format_time(due), countdown, record.job_name, what)[column] if 0 <= column < 4 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Run #{record.id}: {record.error or what}"
        if role == Qt.ItemDataRole.DecorationRole and column == COUNTDOWN:
            return status_icon(RunStatus.RETRY_PENDING)
        if role == Qt.ItemDataRole.ForegroundRole and column in (COUNTDOWN, SCHEDULE):
            return status_colour(RunStatus.RETRY_PENDING)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == COUNTDOWN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == JOB_ID_ROLE:
            return record.job_id
        return None

    def _waiting_data(self, record: RunRecord, column: int, role: int) -> Any:
        """A waiting run's row: when it was due, "waiting", the job, what it waits for."""
        if record.status is RunStatus.RETRY_PENDING:
            return self._retry_data(record, column, role)
        due = record.scheduled_at or record.queued_at
        waits = f"Waiting for {record.waiting_for or 'its conditions'}"
        if role == Qt.ItemDataRole.DisplayRole:
            return (format_time(due), "waiting", record.job_name, waits)[column] if 0 <= column < 4 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Run #{record.id}, due {format_time(due, seconds=True)}: {waits.lower()}; it starts as soon as that holds"
        if role == Qt.ItemDataRole.DecorationRole and column == COUNTDOWN:
            return status_icon(RunStatus.WAITING)
        if role == Qt.ItemDataRole.ForegroundRole and column in (COUNTDOWN, SCHEDULE):
            return status_colour(RunStatus.WAITING)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == COUNTDOWN:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == JOB_ID_ROLE:
            return record.job_id
        return None


def _follows(spec: JobSpec) -> bool:
    """An after-job's row (jobs.chain_plan): expected when its upstream runs end, not at a set time."""
    return isinstance(spec.trigger, AfterSpec)
