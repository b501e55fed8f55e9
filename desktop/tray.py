"""The system tray icon: state at a glance, a menu to show the window, run a job, pause or quit.

The QSystemTrayIcon (objectName ``trayIcon``) is always created, so tests can drive its menu and
`activated` signal, but it is shown only when the platform really has a tray:
`isSystemTrayAvailable()` is False offscreen and under bare Xvfb (NOTES item 25).

The icon says idle, running (a run is going on) or failed (the newest finished run failed); a
run that only waits for its conditions (AC power, a network) is said in the tooltip, and is not
"running". The
"Run now" submenu lists jobs by name; it is rebuilt only when it is about to open after the jobs
changed, and lists at most `RUN_MENU_LIMIT` jobs (the window lists them all). The "Stop"
submenu lists the runs going on (or waiting) now; it is disabled when there are none.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu, QSystemTrayIcon, QWidget

from desktop.icons import icon
from desktop.naming import named
from jobs.alerts.policy import is_final_outcome
from jobs.model import JobSpec, RunRecord, RunStatus

RUN_MENU_LIMIT = 40
IDLE, RUNNING, FAILED = "idle", "running", "failed"


def tray_available() -> bool:
    return QSystemTrayIcon.isSystemTrayAvailable()


class Tray(QObject):
    """Signals:
        toggle_requested(): show the window if hidden, else hide it.
        run_requested(str): run this job id now.
        stop_requested(int): stop this run id.
    """

    toggle_requested = Signal()
    run_requested = Signal(str)
    stop_requested = Signal(int)

    def __init__(self, window: QWidget, pause_all: QAction, resume_all: QAction, quit_action: QAction) -> None:
        super().__init__(window)
        self.setObjectName("trayController")
        self._window = window
        self._active: dict[int, RunRecord] = {}  # runs queued or running, by id
        self._last_failed = False
        self._specs: Sequence[JobSpec] = ()
        self._in_order = True  # _specs sorted by name already
        self._menu_dirty = True
        self.state = IDLE
        # What the icon shows, remembered here: asking Qt is a call that, during a burst of
        # runs, can wait for the GIL behind the runs' threads (each event asked three times).
        self._shown: tuple[str | None, str | None, bool | None] = (None, None, None)  # icon state, tooltip, Stop enabled
        self.running_words: Callable[[RunRecord], str] | None = None  # elapsed and ETA of a run (desktop.insight)
        # Each running run's words, kept until the next second's refresh_tooltip (they move on
        # once a second anyway): during a burst every event re-worded every running run.
        self._words: dict[int, tuple[RunRecord, str]] = {}

        self.menu = QMenu(window)
        self.menu.setObjectName("trayMenu")
        self.show_hide_action = named(QAction("Show Jobdesk", self), "trayShowHideAction")
        self.show_hide_action.triggered.connect(self.toggle_requested)
        self.run_menu = QMenu("Run now", self.menu)
        self.run_menu.setObjectName("trayRunMenu")
        self.run_menu.setIcon(icon("run-now"))
        self.run_menu.aboutToShow.connect(self.rebuild_run_menu)
        self.stop_menu = QMenu("Stop", self.menu)
        self.stop_menu.setObjectName("trayStopMenu")
        self.stop_menu.setIcon(icon("stop"))
        self.stop_menu.aboutToShow.connect(self.rebuild_stop_menu)
        self.menu.addAction(self.show_hide_action)
        self.menu.addSeparator()
        self.menu.addMenu(self.run_menu)
        self.menu.addMenu(self.stop_menu)
        self.menu.addAction(pause_all)
        self.menu.addAction(resume_all)
        self.menu.addSeparator()
        self.menu.addAction(quit_action)
        self.menu.aboutToShow.connect(self.update_show_hide_text)

        self.icon = QSystemTrayIcon(window)
        self.icon.setObjectName("trayIcon")
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self._apply_state()
        if tray_available():
            self.icon.show()

    # --- state ---------------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return tray_available()

    @Slot(object)
    def on_run_event(self, record: RunRecord) -> None:
        if not record.status.is_final:
            self._active[record.id] = record
        else:
            self._active.pop(record.id, None)
            self._words.pop(record.id, None)
            if record.status not in (RunStatus.MISSED, RunStatus.SKIPPED) and is_final_outcome(record):
                self._last_failed = record.status.is_failure  # an attempt a retry follows is not the last word
        self._apply_state()

    def refresh_tooltip(self) -> None:
        """Elapsed times moved on (once a second while runs go)."""
        self._words.clear()
        if self._active:
            self._apply_state()

    def set_last_failed(self, failed: bool) -> None:
        """At start-up: whether the newest finished run (from history) failed."""
        self._last_failed = failed
        self._apply_state()

    def _apply_state(self) -> None:
        waiting = [r for r in self._active.values() if r.status is RunStatus.WAITING]
        retrying = sum(1 for r in self._active.values() if r.status is RunStatus.RETRY_PENDING)
        busy = len(self._active) > len(waiting) + retrying  # a run only waiting for AC power is not "running"
        state = RUNNING if busy else FAILED if self._last_failed else IDLE
        shown_state, shown_tip, stop_enabled = self._shown
        if stop_enabled is not bool(self._active):
            self.stop_menu.setEnabled(bool(self._active))
        if state != shown_state:
            self.icon.setIcon(self.state_icon(state))  # SVG rendering: only when it changes
        self.state = state
        running = len(self._active) - len(waiting) - retrying
        tip = {
            IDLE: "Jobdesk: idle",
            RUNNING: f"Jobdesk: {running} run{'s' if running != 1 else ''} in progress",
            FAILED: "Jobdesk: the last run failed",
        }[state]
        if waiting:  # "Jobdesk: idle; 1 run waiting for AC power"
            reasons = sorted({r.waiting_for or "its conditions" for r in waiting})
            count = f"{len(waiting)} run{'s' if len(waiting) != 1 else ''}"
            tip += f"; {count} waiting for {reasons[0] if len(reasons) == 1 else 'their conditions'}"
        if retrying:
            tip += f"; {retrying} retr{'ies' if retrying != 1 else 'y'} pending"
        if busy and self.running_words is not None:  # "Report: 42s of ~1m 20s" (desktop.insight)
            tip += "".join(f"\n{r.job_name}: {self._words_of(r)}" for r in self._active.values()
                           if r.status is RunStatus.RUNNING)  # fmt: skip
        if tip != shown_tip:
            self.icon.setToolTip(tip)
        self._shown = (state, tip, bool(self._active))

    def _words_of(self, record: RunRecord) -> str:
        kept = self._words.get(record.id)
        if kept is None or kept[0] is not record:  # a newer record of the run (e.g. marked long)
            assert self.running_words is not None
            kept = self._words[record.id] = (record, self.running_words(record))
        return kept[1]

    @staticmethod
    def state_icon(state: str) -> QIcon:
        found = icon(f"tray-{state}")
        return found if not found.isNull() else icon("jobdesk")

    # --- menu ----------------------------------------------------------------------------------

    def set_jobs(self, specs: Sequence[JobSpec], *, in_order: bool = False) -> None:
        """The run menu's jobs; `in_order`: sorted by name already (case aside). Others are
        sorted only when the menu opens: sorting 10,000 names on every snapshot was ~35 ms."""
        self._specs = specs
        self._in_order = in_order
        self._menu_dirty = True

    @Slot()
    def rebuild_run_menu(self) -> None:
        if not self._menu_dirty:
            return
        self._menu_dirty = False
        self.run_menu.clear()
        if not self._specs:
            empty = self.run_menu.addAction("No jobs yet")
            empty.setEnabled(False)
            return
        first = (self._specs[:RUN_MENU_LIMIT] if self._in_order
                 else heapq.nsmallest(RUN_MENU_LIMIT, self._specs, key=lambda spec: spec.name.casefold()))  # fmt: skip
        for spec in first:
            name = spec.name if len(spec.name) <= 60 else spec.name[:59] + "…"
            action = self.run_menu.addAction(name)
            action.setData(spec.id)
            action.setToolTip(spec.name)
            action.triggered.connect(self._run_triggered)
        if len(self._specs) > RUN_MENU_LIMIT:
            more = self.run_menu.addAction(f"{len(self._specs) - RUN_MENU_LIMIT} more in the window…")
            more.triggered.connect(self.toggle_requested)

    @Slot()
    def rebuild_stop_menu(self) -> None:
        """One entry per run going on or waiting, oldest first (built as the submenu opens)."""
        self.stop_menu.clear()
        for record in sorted(self._active.values(), key=lambda r: r.id)[:RUN_MENU_LIMIT]:
            name = record.job_name if len(record.job_name) <= 50 else record.job_name[:49] + "…"
            waiting = ", waiting" if record.status is RunStatus.QUEUED else ""
            if record.status is RunStatus.WAITING:
                waiting = f", waiting for {record.waiting_for or 'its conditions'}"
            elif record.status is RunStatus.RETRY_PENDING:
                waiting = f", retry {record.attempt}/{record.attempts} pending"
            action = self.stop_menu.addAction(f"{name} (run #{record.id}{waiting})")
            action.setData(record.id)
            action.triggered.connect(self._stop_triggered)

    @Slot()
    def _stop_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data() is not None:
            self.stop_requested.emit(int(action.data()))

    def run_actions(self) -> list[QAction]:
        """The submenu's job entries (built now if needed)."""
        self.rebuild_run_menu()
        return [action for action in self.run_menu.actions() if action.data()]

    @Slot()
    def _run_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and action.data():
            self.run_requested.emit(str(action.data()))

    @Slot()
    def update_show_hide_text(self) -> None:
        visible = self._window.isVisible() and not self._window.isMinimized()
        self.show_hide_action.setText("Hide Jobdesk" if visible else "Show Jobdesk")

    @Slot(QSystemTrayIcon.ActivationReason)
    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.toggle_requested.emit()

    def show_message(self, title: str, body: str, failed: bool = False) -> None:
        kind = QSystemTrayIcon.MessageIcon.Warning if failed else QSystemTrayIcon.MessageIcon.Information
        self.icon.showMessage(title, body, kind, 10_000)

    def hide(self) -> None:
        self.icon.hide()
