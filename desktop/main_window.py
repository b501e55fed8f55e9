"""The main window: Jobs, Upcoming, Timeline and History tabs over one running `JobService`.

It wires objects, it does not compute: data comes from `SnapshotLoader` (a worker thread) and
the service's events (queued onto the GUI thread because every receiver here is a QObject of
this window). One QTimer (`clock`, 1 s) moves every countdown on: it emits dataChanged for the
countdown cells on screen whose text changed (never a reset, never the other columns), and does
nothing while the window is hidden. The actions are `JobActions` (placed by `desktop.menus`),
the tab pages `desktop.pages`, runs in progress `ActiveRuns`.

Per-job actions follow the jobs table's selection model (`selectionChanged`), never
`currentRowChanged`, which Qt sends on mouse press before the row is selected (NOTES item 35).

Closing (desktop.closing): with a real system tray the window hides to it (said once); without
one, the first close asks whether to stop scheduling or keep running in the background, and the
answer is remembered. `shutdown()` stops everything for good: window state saved, loader
joined, IPC closed, running process trees killed, service shut down, the instance lock released.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QShowEvent
from PySide6.QtWidgets import QApplication, QHeaderView, QMainWindow, QMessageBox, QSplitter, QTabWidget, QVBoxLayout, QWidget

from desktop.actions import JobActions
from desktop.active_runs import ActiveRuns
from desktop.closing import BACKGROUND, CANCEL, TRAY, close_action
from desktop.damage_notice import DamageNotice
from desktop.digest_card import install_digest_card
from desktop.history.history_panel import HistoryPanel
from desktop.icons import icon
from desktop.insight import Insight
from desktop.joblist.columns import ColumnFitter, size_upcoming_columns
from desktop.joblist.empty_state import EMPTY_TEXT, EmptyState
from desktop.joblist.model import COUNTDOWN, JOB_ID_ROLE, NAME, NEXT_RUN, JobsModel, JobsProxy
from desktop.joblist.snapshot import Snapshot, SnapshotLoader
from desktop.menus import build_menus, build_toolbar, show_about, show_jobs_context_menu
from desktop.naming import named
from desktop.notifications import Banner, Notifier
from desktop.pages import JobsPage, UpcomingPage
from desktop.status_bar import StatusBar
from desktop.workers_view import WorkersView
from desktop.style import restore_window_state, save_window_state, ui_settings
from desktop.table_helpers import RepaintThrottle, tick_visible_rows
from desktop.throttle import Throttle
from desktop.timeline import TimelineView, timeline_scroll_area
from desktop.tray import Tray, tray_available
from desktop.upcoming_model import COUNTDOWN as UPCOMING_COUNTDOWN, JOB as UPCOMING_JOB, SCHEDULE as UPCOMING_SCHEDULE
from desktop.upcoming_model import TIME as UPCOMING_TIME, UpcomingModel, upcoming_empty_text
from jobs.job_state import FINISHED
from jobs.model import JobSpec, RunRecord, RunStatus
from jobs.paths import DataDir
from jobs.service import JobService

if TYPE_CHECKING:  # imported where they are made (app.py): the window needs no QtNetwork to start
    from jobs.instance import InstanceLock
    from jobs.ipc import IpcServer

log = logging.getLogger(__name__)

JOBS_TAB, UPCOMING_TAB, TIMELINE_TAB, HISTORY_TAB = range(4)
TICK_MS = 1000
TRAY_NOTICE_KEY = "tray/closeNoticeShown"


class MainWindow(QMainWindow):
    def __init__(self, service: JobService, data_dir: DataDir, *, lock: InstanceLock | None = None) -> None:
        super().__init__()
        named(self, "mainWindow", "mainWindow")
        self.setWindowTitle("Jobdesk")
        self.setWindowIcon(icon("jobdesk"))
        self.service = service
        self.data_dir = data_dir
        self.lock = lock
        self.ipc_server: IpcServer | None = None
        self.quit_app_on_close = False  # run_window sets it: quitting ends the application
        self._closed_for_good = False
        self._pending_select: str | None = None
        self.active = ActiveRuns(service.active_runs())  # runs started before the window existed too
        self.complete_loaded = False  # a complete snapshot arrived (not kept: ~20 MiB at 10,000 jobs)
        self._shown_countdowns: dict[int, dict[int, str]] = {JOBS_TAB: {}, UPCOMING_TAB: {}}

        self.jobs_model = JobsModel(self)
        self.jobs_proxy = JobsProxy(self)
        self.jobs_proxy.setSourceModel(self.jobs_model)
        self.upcoming_model = UpcomingModel(self)
        self.upcoming_model.set_waiting(self.active.held)
        self.loader = SnapshotLoader(service, self)
        self.loader.sort_order = lambda: self.jobs_model.order  # a plain read: safe on its worker

        self._build_central()
        self.job_actions = JobActions(service, self, self, self.jobs_table)
        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        build_menus(self, self.job_actions, show_tab_action=self.show_tab_action, open_data_folder=self.open_data_folder,
                    show_about=lambda: show_about(self, self.data_dir))  # fmt: skip
        self.toolbar = build_toolbar(self, self.job_actions)
        self.empty_state = EmptyState(self.jobs_table, self.job_actions.new, self.job_actions.import_)
        self.tray = Tray(self, self.job_actions.pause_all, self.job_actions.resume_all, self.job_actions.quit)
        for record in self.active.all():
            self.tray.on_run_event(record)
        self.notifier = Notifier(self.banner, self.tray, tray_available=tray_available, parent=self)
        self.digest_card = install_digest_card(self)  # runs missed while asleep or closed (desktop.digest_card)
        self.clock = named(QTimer(self, interval=TICK_MS), "countdownClock")
        self.clock.timeout.connect(self.tick)
        self.status_throttle = Throttle(self.refresh_status, parent=self)  # a burst of run events: <= 10 refreshes/s
        self._connect()
        self.restore_state()
        self.refresh_status()
        self.clock.start()
        self.loader.load_now()
        self.workers = WorkersView(self)  # the Workers tab and status line (jobs on other machines)
        self.insight = Insight(self)  # usual durations, ETA, longer than usual, statistics (issue 13)
        if service.damage is not None:  # found before this window listened
            self.show_database_damage(service.damage)

    # --- building ------------------------------------------------------------------------------

    def _build_central(self) -> None:
        jobs_page = JobsPage(self.jobs_proxy, self)
        self.filter_edit, self.jobs_table, self.detail = jobs_page.filter_edit, jobs_page.table, jobs_page.detail
        self.run_now_button = self.detail.run_now_button
        self.history_button = self.detail.history_button
        self.stop_button = self.detail.stop_button
        upcoming_page = UpcomingPage(self.upcoming_model, self)
        self.upcoming_table, self.upcoming_empty = upcoming_page.table, upcoming_page.empty
        self.timeline = named(TimelineView(self), "timelineView", "timelineView")
        self.timeline_area = timeline_scroll_area(self.timeline, self)
        self.history = HistoryPanel(self.service, self, jobs=self.loader)
        self.history_throttle = RepaintThrottle(self.history.table)
        self.tabs = named(QTabWidget(self), "mainTabs", "mainTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(jobs_page, "&Jobs")
        self.tabs.addTab(upcoming_page, "&Upcoming")
        self.tabs.addTab(self.timeline_area, "&Timeline")
        self.tabs.addTab(self.history, "&History")

        self.banner = Banner(self.tabs)  # floats over the tab bar's empty part: moves nothing
        central = named(QWidget(self), "centralArea")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.damage_notice = DamageNotice(central)  # hidden unless the database turns out damaged
        layout.addWidget(self.damage_notice)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

    def _connect(self) -> None:
        events = self.service.events
        events.jobs_changed.connect(self.loader.request)
        for signal in (events.run_queued, events.run_waiting, events.run_started, events.run_recorded):
            signal.connect(self._on_run_event)
        events.run_finished.connect(self._on_run_finished)  # one delivery (into Python) per end, not two
        events.runs_recorded.connect(self._on_runs_recorded)
        events.database_damaged.connect(self.show_database_damage)
        self.damage_notice.open_folder_requested.connect(self.open_data_folder)
        self.loader.loaded.connect(self._on_snapshot)
        self.loader.first_screen.connect(self._on_first_screen)
        self.filter_edit.textChanged.connect(self._on_filter_text)
        self.tabs.currentChanged.connect(self.tick)
        # Not currentRowChanged: Qt sends it on mouse press, before the row is selected (NOTES 35).
        self.jobs_table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        self.jobs_table.doubleClicked.connect(self._on_double_clicked)
        self.jobs_table.customContextMenuRequested.connect(self._show_context_menu)
        self.job_actions.quit.triggered.connect(self.quit_app)
        self.job_actions.find.triggered.connect(self.focus_filter)
        self.job_actions.show_history.triggered.connect(self.show_job_history)
        self.upcoming_table.doubleClicked.connect(self._on_upcoming_double_clicked)
        self.timeline.job_clicked.connect(self.select_job)
        self.run_now_button.clicked.connect(self.job_actions.run_selected)
        self.stop_button.clicked.connect(self.job_actions.stop.trigger)
        self.detail.run_anyway_button.clicked.connect(self.job_actions.run_selected_anyway)
        self.tray.stop_requested.connect(self.job_actions.stop_run)
        self.history_button.clicked.connect(self.show_job_history)
        self.tray.toggle_requested.connect(self.toggle_visible)
        self.tray.run_requested.connect(self.job_actions.run_job)
        self.notifier.view_requested.connect(self.show_run)
        self.notifier.run_again_requested.connect(self.job_actions.run_job)
        for signal in (self.jobs_proxy.rowsInserted, self.jobs_proxy.rowsRemoved, self.jobs_proxy.modelReset,
                       self.jobs_proxy.layoutChanged):  # fmt: skip
            signal.connect(self._update_empty_state)

    # --- data ----------------------------------------------------------------------------------

    @Slot(object)
    def _on_first_screen(self, snapshot: Snapshot) -> None:  # start-up: the table's top rows before all jobs are read
        self.jobs_model.apply_first_screen(snapshot.table)  # (painted as usual: the loader gives way meanwhile)

    @Slot(object)
    def _on_snapshot(self, snapshot: Snapshot) -> None:
        if not self.complete_loaded and snapshot.complete:
            self.complete_loaded = True
            if snapshot.last_finished_failed is not None:
                self.tray.set_last_failed(snapshot.last_finished_failed)
        self.jobs_model.apply_snapshot(snapshot)
        self.upcoming_model.set_fires(snapshot.upcoming, snapshot.schedules, snapshot.upcoming_digest)
        if snapshot.complete:  # the quick first snapshot has no lanes yet
            self.timeline.set_lanes(snapshot.lanes)
        specs = snapshot.specs
        self.upcoming_empty.show_text(upcoming_empty_text(list(specs)) if not snapshot.upcoming else None)
        self.tray.set_jobs(snapshot.by_name or specs, in_order=bool(snapshot.by_name))
        self.job_actions.update_all_state(len(specs), snapshot.paused_count)
        if self._pending_select and self.jobs_model.row_of(self._pending_select) is not None:
            job_id, self._pending_select = self._pending_select, None
            self.select_job(job_id)
        self._update_selection_state()
        self._update_empty_state()
        self.refresh_status()
        if snapshot.broken:
            self.status.say(f"{len(snapshot.broken)} stored job(s) cannot be read; see jobdesk.log")

    @Slot(object)
    def _on_run_event(self, record: RunRecord) -> None:
        self.jobs_model.on_run_event(record)
        self.tray.on_run_event(record)
        self.active.update(record)
        self.upcoming_model.set_waiting(self.active.held)
        if record.status.is_final:
            self.loader.request()  # a one-off job may be over; next runs may have moved
        self.status_throttle.request()
        if record.job_id == self._current_job_id():
            self._update_selection_state()

    @Slot(object)
    def _on_runs_recorded(self, records: tuple[RunRecord, ...]) -> None:
        self._on_run_event(records[-1])  # one job's rows: the table shows its newest

    @Slot(object)
    def _on_run_finished(self, record: RunRecord) -> None:
        self._on_run_event(record)
        spec = self.jobs_model.spec(record.job_id)
        self.notifier.notify(record, spec)

    @Slot()
    def tick(self) -> None:
        """Once a second: countdowns, the status bar, and a reload when the first fire is due."""
        if not self.isVisible() or self.isMinimized():
            return
        tab = self.tabs.currentIndex()
        if tab == JOBS_TAB:  # hidden views need no repaint: they catch up when shown
            tick_visible_rows(self.jobs_table, COUNTDOWN, self._shown_countdowns[JOBS_TAB])
        elif tab == UPCOMING_TAB:
            tick_visible_rows(self.upcoming_table, UPCOMING_COUNTDOWN, self._shown_countdowns[UPCOMING_TAB])
        elif tab == HISTORY_TAB:
            self.history.model.tick_running()  # elapsed time of running rows
        if self.upcoming_model.tick(repaint=False):
            self.loader.load_now()
        self.refresh_status()
        self._update_detail()

    @Slot(str)
    def show_database_damage(self, problem: str) -> None:
        """No run starts any more: said for good (desktop.damage_notice)."""
        if self.damage_notice.announce(problem, self, self.tray):
            self.refresh_status()

    def refresh_status(self) -> None:
        self.status.show_state(scheduling=self.service.scheduling, job_count=self.jobs_model.job_count(),
                               all_paused=self.jobs_model.all_paused(), damaged=self.service.damage is not None)
        self.status.show_runs(self.active.running, self.active.queued, len(self.active.waiting))
        self.status.show_next(self.upcoming_model.first())

    # --- selection -----------------------------------------------------------------------------

    def _current_job_id(self) -> str | None:
        """The selected row's job, whatever selected it (mouse, keys, select_job, a filter)."""
        rows = self.jobs_table.selectionModel().selectedRows(NAME)
        return str(rows[0].data(JOB_ID_ROLE)) if rows else None

    def current_spec(self) -> JobSpec | None:
        job_id = self._current_job_id()
        return self.jobs_model.spec(job_id) if job_id else None

    def spec_of(self, job_id: str) -> JobSpec | None:
        return self.jobs_model.spec(job_id)

    def active_runs_of(self, job_id: str) -> list[RunRecord]:
        return self.active.of_job(job_id)

    @Slot(str)
    def select_job(self, job_id: str) -> bool:
        """Select `job_id` in the jobs table (now, or when it appears after a save)."""
        row = self.jobs_model.row_of(job_id)
        if row is None:
            self._pending_select = job_id
            return False
        proxy_index = self.jobs_proxy.mapFromSource(self.jobs_model.index(row, NAME))
        if not proxy_index.isValid():  # filtered out: clear the filter
            self.filter_edit.clear()
            proxy_index = self.jobs_proxy.mapFromSource(self.jobs_model.index(row, NAME))
        self.tabs.setCurrentIndex(JOBS_TAB)
        self.jobs_table.selectionModel().setCurrentIndex(
            proxy_index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.jobs_table.scrollTo(proxy_index)
        return True

    @Slot(QItemSelection, QItemSelection)
    def _on_selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        self._update_selection_state()

    def _update_selection_state(self) -> None:
        spec = self.current_spec()
        finished = spec is not None and self.jobs_model.state(spec.id) == FINISHED
        self.job_actions.update_for(spec, finished=finished, active=len(self.active.of_job(spec.id)) if spec else 0)
        self._update_detail()

    def _update_detail(self) -> None:
        spec = self.current_spec()
        if spec is None:
            self.detail.show_job(None, None)
        else:
            runs = self.active.of_job(spec.id)
            waiting = [r for r in runs if r.status is RunStatus.WAITING]
            self.detail.show_job(spec, self.jobs_model.next_run(spec.id), len(runs),
                                 waiting_for=waiting[0].waiting_for or "its conditions" if waiting else None)  # fmt: skip

    def note_paused(self, job_id: str, paused: bool) -> None:
        """Pause/resume just happened: update the buttons before the reload arrives."""
        self.jobs_model.set_paused(job_id, paused)
        self.loader.request()
        self._update_selection_state()

    # --- reactions -----------------------------------------------------------------------------

    @Slot(str)
    def _on_filter_text(self, text: str) -> None:
        self.jobs_proxy.set_filter_text(text)
        self._update_empty_state()

    @Slot()
    def _update_empty_state(self, *_args: object) -> None:
        if not self.jobs_model.loaded:
            self.empty_state.hide()
        elif self.jobs_model.rowCount() == 0:
            self.empty_state.show_text(EMPTY_TEXT, with_buttons=True)
        elif self.jobs_proxy.rowCount() == 0:
            self.empty_state.show_text(f"No jobs match “{self.filter_edit.text().strip()}”", with_buttons=False)
        else:
            self.empty_state.hide()

    @Slot(QPoint)
    def _show_context_menu(self, pos: QPoint) -> None:
        show_jobs_context_menu(self.jobs_table, self.job_actions, pos)

    @Slot(QModelIndex)
    def _on_double_clicked(self, _index: QModelIndex) -> None:
        self.job_actions.edit_job()

    @Slot(QModelIndex)
    def _on_upcoming_double_clicked(self, index: QModelIndex) -> None:
        job_id = self.upcoming_model.job_id_at(index.row())
        if job_id:
            self.select_job(job_id)

    @Slot()
    def show_tab_action(self) -> None:  # a View menu entry: show the tab stored in the action's data
        action = self.sender()
        if isinstance(action, QAction):
            self.tabs.setCurrentIndex(int(action.data()))

    @Slot()
    def focus_filter(self) -> None:
        self.tabs.setCurrentIndex(JOBS_TAB)
        self.filter_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_edit.selectAll()

    @Slot()
    def show_job_history(self) -> None:
        spec = self.current_spec()
        self.history.set_job_filter(spec.id if spec is not None else None)
        self.tabs.setCurrentIndex(HISTORY_TAB)

    @Slot(int)
    def show_run(self, run_id: int) -> None:
        """Open run `run_id`'s output (a notification was clicked)."""
        self.show_window()
        self.tabs.setCurrentIndex(HISTORY_TAB)
        self.history.show_run(run_id)

    def say(self, text: str) -> None:
        self.status.say(text)

    @Slot()
    def open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.data_dir.root)))

    # --- showing, hiding, closing --------------------------------------------------------------

    @Slot()
    def start_service(self) -> None:
        """Start scheduling (when `create_window(start=False)` left it to now). Idempotent."""
        if self._closed_for_good or self.service.scheduling:
            return
        try:
            self.service.start()
        except Exception as exc:
            log.exception("the scheduler did not start")
            QMessageBox.critical(self, "Jobdesk cannot schedule", f"The scheduler did not start: {exc}")
            return
        log.info("scheduling %d job(s)", self.jobs_model.rowCount())
        self.loader.request()
        self.refresh_status()

    @Slot()
    def show_window(self) -> None:
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    @Slot()
    def toggle_visible(self) -> None:
        if self.isVisible() and not self.isMinimized():
            self.hide()
        else:
            self.show_window()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.tick)  # countdowns were frozen while hidden

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._closed_for_good:
            event.accept()
            return
        action = close_action(self, has_tray=self.tray.available)
        if action in (TRAY, BACKGROUND):
            event.ignore()
            self.hide()
            log.info("window hidden; still scheduling (%s)", action)
            settings = ui_settings()
            if action == TRAY and not settings.value(TRAY_NOTICE_KEY, False, type=bool):
                self.tray.show_message("Jobdesk is still scheduling",
                                       "The window is hidden; Jobdesk keeps running in the tray. Use Quit to stop it.")  # fmt: skip
                settings.setValue(TRAY_NOTICE_KEY, True)
        elif action == CANCEL or not self.quit_app(ask=True):
            event.ignore()

    @Slot()
    def quit_app(self, ask: bool = True) -> bool:
        """Stop for good; asks first while runs are in progress. True if it quit."""
        if self._closed_for_good:
            return True
        busy = self.service.running_count()
        if ask and busy:
            answer = QMessageBox.question(self, "Quit Jobdesk", f"{busy} run{'s are' if busy != 1 else ' is'} in progress. "
                f"Quitting stops {'them' if busy != 1 else 'it'} (its process tree is killed). Quit anyway?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)  # fmt: skip
            if answer != QMessageBox.StandardButton.Yes:
                return False
        self.shutdown()
        self.close()
        if self.quit_app_on_close:
            QApplication.quit()
        return True

    def shutdown(self) -> None:
        """Stop for good (idempotent): save state, stop the service and release the lock."""
        if self._closed_for_good:
            return
        self._closed_for_good = True
        self.clock.stop()
        try:
            self.save_state()
        except Exception:
            log.exception("saving the window state failed")
        self.loader.close()
        self.workers.close()
        if self.ipc_server is not None:
            self.ipc_server.close()
        self.tray.hide()
        self.notifier.close()
        self.service.shutdown()
        if self.lock is not None:
            self.lock.release()
        log.info("window closed; scheduler stopped")

    # --- window state --------------------------------------------------------------------------

    def _state_targets(self) -> dict[str, QHeaderView | QSplitter]:
        return {"jobsHeader": self.jobs_table.horizontalHeader(), "upcomingHeader": self.upcoming_table.horizontalHeader(),
                "historyHeader": self.history.table.horizontalHeader(), "historySplitter": self.history.splitter}  # fmt: skip

    def save_state(self) -> None:
        save_window_state(self, self.tabs, self._state_targets())

    def restore_state(self) -> None:
        self.resize(1180, 760)
        self.column_fitter = ColumnFitter(self.jobs_table)
        self.jobs_table.sortByColumn(NEXT_RUN, Qt.SortOrder.AscendingOrder)
        size_upcoming_columns(self.upcoming_table, UPCOMING_TIME, UPCOMING_COUNTDOWN, UPCOMING_JOB, UPCOMING_SCHEDULE)
        restore_window_state(self, self.tabs, self._state_targets())
        self.column_fitter.adopt_current_widths()
