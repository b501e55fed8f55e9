"""`HistoryPanel`: the filter bar, the run history table and the selected run's output.

The table (objectName ``historyTable``) shows `HistoryModel`, which loads pages as the user
scrolls; live events from the service update it and the output viewer (all connected to methods
of QObjects parented here, so the connections die with the panel; the service emits from worker
threads and Qt queues the calls onto the GUI thread). The job filter's names come from the
window's jobs snapshots (loaded on a worker thread), never from the store on the GUI thread:
every fire changes the jobs, and re-reading every definition each time stalled the window.
"""

from __future__ import annotations

from typing import cast

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QMenu, QSplitter, QTableView, QVBoxLayout, QWidget

from desktop.history.history_filter import HistoryFilter, HistoryFilterBar
from desktop.history.history_model import (
    CAUSE,
    DURATION,
    ERROR,
    RAN_ON,
    EXIT_CODE,
    JOB,
    SCHEDULED,
    STARTED,
    STATUS,
    HistoryModel,
)
from desktop.history.output_view import RunOutputPanel
from desktop.history.run_facts_view import RunFactsPanel
from desktop.table_helpers import cover_viewport
from desktop.icons import icon
from desktop.joblist.snapshot import Snapshot, SnapshotLoader
from desktop.naming import named
from jobs.model import RunRecord, RunStatus
from jobs.service import JobService

SHOW_RUN_MAX_PAGES = 10  # show_run loads at most this many pages looking for a run


class HistoryPanel(QWidget):
    """Signals: run_selected(RunRecord | None): the run shown in the output viewer changed."""

    run_selected = Signal(object)

    def __init__(self, service: JobService, parent: QWidget | None = None, *, jobs: SnapshotLoader | None = None) -> None:
        """`jobs` (the window's loader) keeps the job filter's names current; without it the
        combo lists only what `set_jobs` is given."""
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self._service = service
        self._reselect: int | None = None
        self._load_error = ""
        self.filter_bar = HistoryFilterBar(self)
        self.model = HistoryModel(service.query_history, self)
        self.table = named(QTableView(self), "historyTable", "Run history")
        self.table.setModel(self.model)
        self.output = RunOutputPanel(service.data_dir, self)
        # What the run wrote and, if it failed, what changed since the last success (issue 13)
        self.facts = RunFactsPanel(service.history, self.output)
        output_layout = cast(QVBoxLayout, self.output.layout())
        output_layout.insertWidget(output_layout.indexOf(self.output.header_label), self.facts)
        self.empty_label = named(QLabel(self.table.viewport()), "historyEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setEnabled(False)  # drawn in the palette's disabled (dimmed) text colour
        self._setup_table()

        self.splitter = named(QSplitter(Qt.Orientation.Vertical, self), "historySplitter")
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.output)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.splitter, 1)

        events = service.events
        # One slot per signal: each delivery is an entry into Python that, during a burst of
        # runs, may wait for the GIL behind the runs' threads (three connections were three).
        for signal in (events.run_queued, events.run_waiting, events.run_started, events.run_recorded,
                       events.run_alerted):  # fmt: skip
            signal.connect(self._on_run_event)
        events.run_finished.connect(self._on_run_finished)
        events.runs_recorded.connect(self._on_runs_recorded)
        events.run_output.connect(self.output.on_output)
        self.run_selected.connect(self.facts.show_record)
        if jobs is not None:
            jobs.loaded.connect(self._on_jobs_loaded)
        self.filter_bar.filter_changed.connect(self._on_filter_changed)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        for signal in (self.model.modelReset, self.model.rowsInserted, self.model.rowsRemoved, self.model.loading_changed):
            signal.connect(self._update_empty_state)
        self.model.page_loaded.connect(self._after_page)
        self.model.load_failed.connect(self._on_load_failed)
        cover_viewport(self.table, self.empty_label)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._show_context_menu)
        self.stop_action = named(QAction(icon("stop"), "Stop run", self), "stopRunAction")
        self.stop_action.setToolTip("Stop this run: its whole process tree is killed (a waiting run is dropped)")
        self.stop_action.triggered.connect(self.stop_current_run)
        self.run_anyway_action = named(QAction(icon("run-now"), "Run anyway", self), "runAnywayAction")
        self.run_anyway_action.setToolTip("Start this waiting run now, whatever its conditions say")
        self.run_anyway_action.triggered.connect(self.run_current_anyway)
        self.copy_action = named(QAction(icon("copy"), "Copy command", self), "copyCommandAction")
        self.copy_action.triggered.connect(self.output.copy_command)

        self.model.set_palette(self.palette())
        self.model.set_filter(self.filter_bar.current)

    def _setup_table(self) -> None:
        table = self.table
        table.setSortingEnabled(False)  # the order is the run id (keyset paging), newest first
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.setShowGrid(False)
        table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        rows = table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(table.fontMetrics().height() + 6)
        header = table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)  # as the other tables
        header.setStretchLastSection(True)
        metrics = table.fontMetrics()
        time_width = metrics.horizontalAdvance("Wed 30 Nov 2099 07:30") + 16
        widths = {
            JOB: metrics.averageCharWidth() * 30, CAUSE: metrics.horizontalAdvance("Catch-up") + 20,
            SCHEDULED: time_width, STARTED: time_width, DURATION: metrics.horizontalAdvance("1h 30m 20s") + 16,
            STATUS: metrics.horizontalAdvance("Retry pending") + 44, EXIT_CODE: metrics.horizontalAdvance("Exit code") + 16,
            RAN_ON: metrics.horizontalAdvance("This computer") + 16,
        }
        for column, width in widths.items():
            header.resizeSection(column, width)
        header.setMinimumSectionSize(40)
        assert ERROR == self.model.columnCount() - 1  # the stretching last section

    # --- public API --------------------------------------------------------------------------

    @property
    def current_record(self) -> RunRecord | None:
        return self.output.record

    def set_job_filter(self, job_id: str | None) -> None:
        """Show only `job_id`'s runs (None: all jobs)."""
        self.filter_bar.set_job(job_id)

    def show_run(self, run_id: int) -> bool:
        """Select run `run_id`, loading up to SHOW_RUN_MAX_PAGES pages to find it.

        Returns True when it is selected in the table; otherwise (filtered out, too old, or gone)
        the output viewer shows it alone, without a table row, and this returns False.
        """
        self.model.apply_pending()  # a run that just started may wait there
        row = self.model.row_of(run_id)
        if row is None:
            record = self._service.get_run(run_id)
            if record is not None and self.model.filter.matches(record):
                pages = 0
                while row is None and not self.model.exhausted and pages < SHOW_RUN_MAX_PAGES:
                    self.model.load_page_now()
                    pages += 1
                    row = self.model.row_of(run_id)
            if row is None:
                self.table.selectionModel().clear()
                self._show(record)
                return False
        index = self.model.index(row, JOB)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.table.scrollTo(index)
        return True

    def set_jobs(self, jobs: list[tuple[str, str]]) -> None:
        """The job filter's choices: (id, name) pairs."""
        self.filter_bar.set_jobs(jobs)

    @Slot(object)
    def _on_jobs_loaded(self, snapshot: Snapshot) -> None:
        if snapshot.name_choices or not snapshot.specs:  # in name order already (made on the loader's worker)
            self.filter_bar.set_jobs(snapshot.name_choices, in_order=True)
        else:
            self.set_jobs([(spec.id, spec.name) for spec in snapshot.specs])

    @Slot(object)
    def _on_run_event(self, record: RunRecord) -> None:
        self.model.queue_run_changed(record)  # applied in batches (a burst of runs)
        self.output.update_record(record)

    @Slot(object)
    def _on_runs_recorded(self, records: tuple[RunRecord, ...]) -> None:
        for record in records:  # new rows: no output or facts shown for them yet
            self.model.queue_run_changed(record)

    @Slot(object)
    def _on_run_finished(self, record: RunRecord) -> None:
        self._on_run_event(record)
        self.facts.update_record(record)

    @Slot()
    def stop_current_run(self) -> bool:
        """Stop the run shown (selected), if it is running or waiting; True if it was."""
        record = self.output.record
        if record is None or record.status.is_final:
            return False
        return self._service.cancel_run(record.id)

    @Slot()
    def run_current_anyway(self) -> bool:
        """Start the run shown if it waits for its conditions; True if it did."""
        record = self.output.record
        return record is not None and record.status is RunStatus.WAITING and self._service.run_anyway(record.id)

    @Slot(QPoint)
    def _show_context_menu(self, pos: QPoint) -> None:
        """Stop, Run anyway and Copy command for the run under `pos` (which a right-click selected)."""
        record = self.model.record_at(self.table.indexAt(pos).row())
        if record is None:
            return
        if self.output.record is None or self.output.record.id != record.id:
            self.show_run(record.id)
        menu = QMenu(self.table)
        menu.setObjectName("historyContextMenu")
        self.stop_action.setEnabled(not record.status.is_final)
        self.copy_action.setEnabled(bool(record.command))
        if record.status is RunStatus.WAITING:
            menu.addAction(self.run_anyway_action)
        menu.addAction(self.stop_action)
        menu.addAction(self.copy_action)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    # --- reactions ---------------------------------------------------------------------------

    @Slot(object)
    def _on_filter_changed(self, new_filter: HistoryFilter) -> None:
        shown = self.output.record
        self._reselect = shown.id if shown is not None else None
        self.model.set_filter(new_filter)  # the first page may come later (a search)
        self._after_page()

    @Slot()
    def _after_page(self) -> None:
        """Select the run shown before the filter changed, once the first page is in."""
        if self._reselect is None or self.model.loading:
            return
        run_id, self._reselect = self._reselect, None
        if self.model.row_of(run_id) is not None:
            self.show_run(run_id)

    @Slot(QModelIndex, QModelIndex)
    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        record = self.model.record_at(current.row()) if current.isValid() else None
        if record is not None and (self.output.record is None or self.output.record.id != record.id):
            self._show(record)

    def _show(self, record: RunRecord | None) -> None:
        self.output.show_record(record)
        self.run_selected.emit(record)

    @Slot()
    def _update_empty_state(self) -> None:
        empty = self.model.rowCount() == 0
        if empty:
            filtered = self.model.filter != HistoryFilter()
            if self.model.loading:
                self.empty_label.setText("Searching…")
            elif self._load_error:
                self.empty_label.setText(self._load_error)
            else:
                self.empty_label.setText("No runs match these filters" if filtered else "No runs yet")
        self.empty_label.setVisible(empty)

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self._load_error = message
        self._update_empty_state()
        self._load_error = ""

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            # Sent to the panel before its children get the new palette: read the panel's own.
            self.model.set_palette(self.palette())
        super().changeEvent(event)
