"""The history panel's filter: a value object (`HistoryFilter`) and the bar that edits it.

`HistoryFilter` turns into the core's `HistoryQuery` for a page, and answers whether a live run
(from an event) belongs in the current view, with the same rules the database applies. The bar
has a job combo, a status combo ("Failures" = failed, timed out, killed, interrupted), optional
from/to dates (a date edit at its minimum reads "Any") and a job-name search debounced by
`SEARCH_DELAY_MS`. Every change emits `filter_changed(HistoryFilter)`; an impossible date range
is refused with a message, and the last valid filter stays in force.
"""

from __future__ import annotations

from collections.abc import Sequence

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate, QEvent, QObject, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from desktop.formatting import FAILURE_STATUSES, status_icon, status_text
from desktop.history.job_choices import JobChoices
from desktop.naming import named
from jobs.history import HistoryQuery
from jobs.model import RunRecord, RunStatus

SEARCH_DELAY_MS = 300
ALL_STATUSES = "All statuses"
FAILURES = "Failures"
_ANY_DATE = QDate(2000, 1, 1)  # the date edits' minimum, shown as "Any"


@dataclass(frozen=True)
class HistoryFilter:
    job_id: str | None = None
    statuses: tuple[RunStatus, ...] = ()
    since: date | None = None  # local day, inclusive
    until: date | None = None  # local day, inclusive
    text: str = ""

    @property
    def since_moment(self) -> datetime | None:
        return None if self.since is None else datetime.combine(self.since, time()).astimezone()

    @property
    def until_moment(self) -> datetime | None:
        """The start of the day after `until` (the query's bound is exclusive)."""
        return None if self.until is None else datetime.combine(self.until + timedelta(days=1), time()).astimezone()

    @property
    def may_scan(self) -> bool:
        """A name search or a date range cannot follow the id index: the query may read every row."""
        return bool(self.text.strip()) or self.since is not None or self.until is not None

    def query(self, *, before_id: int | None = None, limit: int = 200) -> HistoryQuery:
        return HistoryQuery(
            job_id=self.job_id, statuses=self.statuses, since=self.since_moment, until=self.until_moment,
            text=self.text.strip() or None, before_id=before_id, limit=limit,
        )

    def matches(self, record: RunRecord) -> bool:
        """The rules of `HistoryQuery.where`, applied to a record in memory."""
        if self.job_id and record.job_id != self.job_id:
            return False
        if self.statuses and record.status not in self.statuses:
            return False
        queued, since, until = record.queued_at, self.since_moment, self.until_moment
        if since is not None and (queued is None or queued < since):
            return False
        if until is not None and (queued is None or queued >= until):
            return False
        text = self.text.strip().casefold()
        return not text or text in record.job_name.casefold()


class HistoryFilterBar(QWidget):
    """Signals: filter_changed(HistoryFilter): the user changed a filter (search: after a pause)."""

    filter_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filter = HistoryFilter()
        self._jobs: Sequence[tuple[str, str]] = ()
        self.job_combo = named(QComboBox(self), "historyJobFilter", "Job")
        self.job_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.job_combo.setMinimumContentsLength(22)
        self.job_choices = JobChoices(self.job_combo)
        self.job_combo.setModel(self.job_choices)
        self.status_combo = named(QComboBox(self), "historyStatusFilter", "Status")
        self._fill_statuses()
        self.since_edit = self._date_edit("historySinceFilter", "From date")
        self.until_edit = self._date_edit("historyUntilFilter", "To date")
        self.search_edit = named(QLineEdit(self), "historySearch", "Search job names")
        self.search_edit.setPlaceholderText("Search job names")
        self.search_edit.setClearButtonEnabled(True)
        self.message = named(QLabel(self), "historyFilterMessage")
        self.message.setVisible(False)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        layout = QHBoxLayout()
        outer.addLayout(layout)
        outer.addWidget(self.message)
        layout.addWidget(self.job_combo)
        layout.addWidget(self.status_combo)
        layout.addWidget(_buddy_label("From", self.since_edit))
        layout.addWidget(self.since_edit)
        layout.addWidget(_buddy_label("To", self.until_edit))
        layout.addWidget(self.until_edit)
        layout.addWidget(self.search_edit, 1)

        self.job_combo.currentIndexChanged.connect(self._apply)
        self.status_combo.currentIndexChanged.connect(self._apply)
        self.since_edit.dateChanged.connect(self._apply)
        self.until_edit.dateChanged.connect(self._apply)
        self.search_edit.textChanged.connect(self._search_timer.start)
        self._search_timer.timeout.connect(self._apply)

    def _fill_statuses(self) -> None:
        combo = self.status_combo
        combo.addItem(ALL_STATUSES, ())
        combo.addItem(FAILURES, FAILURE_STATUSES)
        for status in RunStatus:
            combo.addItem(status_icon(status), status_text(status), (status,))
        combo.setItemData(1, "Failed, timed out, killed or interrupted", Qt.ItemDataRole.ToolTipRole)

    def _date_edit(self, name: str, accessible: str) -> QDateEdit:
        edit = named(QDateEdit(self), name, accessible)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("ddd d MMM yyyy")
        edit.setMinimumDate(_ANY_DATE)
        edit.setSpecialValueText("Any")
        edit.setDate(_ANY_DATE)
        edit.calendarWidget().installEventFilter(self)  # "Any" must not open the calendar on Jan 2000
        return edit

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Show:
            for edit in (self.since_edit, self.until_edit):
                if watched is edit.calendarWidget() and edit.date() == _ANY_DATE:
                    today = QDate.currentDate()
                    edit.calendarWidget().setCurrentPage(today.year(), today.month())
        return super().eventFilter(watched, event)

    # --- reading and writing --------------------------------------------------------------

    @property
    def current(self) -> HistoryFilter:
        """The filter in force (the last valid one)."""
        return self._filter

    def set_jobs(self, jobs: Sequence[tuple[str, str]], *, in_order: bool = False) -> None:
        """Fill the job combo with (id, name) pairs, keeping the selection when it still exists.
        Nothing happens when the pairs did not change (snapshots come after every fire).
        `in_order`: already sorted by name, case aside, then id."""
        if not in_order:
            jobs = sorted(jobs, key=lambda pair: (pair[1].casefold(), pair[0]))
        if jobs is self._jobs or list(jobs) == list(self._jobs):
            return
        self._jobs = jobs
        selected = self.job_combo.currentData()
        with QSignalBlocker(self.job_combo):
            gone = selected is not None and selected not in {job_id for job_id, _ in jobs}
            self.job_choices.set_jobs(jobs, removed=selected if gone else None)  # still filtering by it
            self.job_combo.setCurrentIndex(max(0, self.job_choices.row_of(selected)))

    def set_job(self, job_id: str | None) -> None:
        """Select `job_id` (None: all jobs) and apply at once."""
        index = self.job_choices.row_of(job_id)
        if index < 0 and job_id is not None:
            index = self.job_choices.add(job_id, job_id)
        with QSignalBlocker(self.job_combo):
            self.job_combo.setCurrentIndex(index)
        self._apply()

    def set_statuses(self, statuses: tuple[RunStatus, ...]) -> None:
        index = self.status_combo.findData(tuple(statuses))
        with QSignalBlocker(self.status_combo):
            self.status_combo.setCurrentIndex(max(0, index))
        self._apply()

    def set_search(self, text: str) -> None:
        """Set the search text and apply without waiting for the debounce."""
        self.search_edit.setText(text)
        self._search_timer.stop()
        self._apply()

    def set_dates(self, since: date | None, until: date | None) -> None:
        for edit, value in ((self.since_edit, since), (self.until_edit, until)):
            with QSignalBlocker(edit):
                edit.setDate(QDate(value.year, value.month, value.day) if value is not None else _ANY_DATE)
        self._apply()

    def _read_date(self, edit: QDateEdit) -> date | None:
        value = edit.date()
        return None if value == edit.minimumDate() else date(value.year(), value.month(), value.day())

    def _apply(self) -> None:
        self._search_timer.stop()
        since, until = self._read_date(self.since_edit), self._read_date(self.until_edit)
        if since is not None and until is not None and since > until:
            self._show_message(
                f"“From” ({since:%a %d %b %Y}) is after “To” ({until:%a %d %b %Y}): pick a From date on or before To."
            )
            return
        self._show_message("")
        new = replace(
            self._filter,
            job_id=self.job_combo.currentData(),
            statuses=tuple(self.status_combo.currentData() or ()),
            since=since, until=until, text=self.search_edit.text().strip(),
        )
        if new != self._filter:
            self._filter = new
            self.filter_changed.emit(new)

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setToolTip(text)
        self.message.setVisible(bool(text))


def _buddy_label(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text, buddy.parentWidget())
    label.setBuddy(buddy)
    return label
