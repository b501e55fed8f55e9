"""The window's side of durations (issue 13): the Jobs table's Usual column and Recent-runs
strip, elapsed time and ETA of running runs (Jobs, History, tray tooltip), the notification of
a run longer or much shorter than usual, and the per-job statistics view.

One object wires it all to the window, so the window itself only makes it. Numbers come from
the snapshot loader's worker (desktop.joblist.run_shapes) and the statistics view's own worker;
nothing here reads the database on the GUI thread.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Slot

from desktop.formatting import format_duration
from desktop.joblist.model import RECENT, USUAL
from desktop.joblist.strip_delegate import ProgressDelegate, StripDelegate
from desktop.joblist.usual_text import elapsed, eta_words, running_words
from desktop.stats_view import StatsDialog, StatsLoader
from jobs.model import RunRecord


class Insight(QObject):
    def __init__(self, window: Any) -> None:
        """`window`: the desktop.main_window.MainWindow (not imported: it imports this)."""
        super().__init__(window)
        self.setObjectName("insight")
        self._window = window
        table = window.jobs_table
        self.strip_delegate = StripDelegate(table)
        self.progress_delegate = ProgressDelegate(table)
        table.setItemDelegateForColumn(RECENT, self.strip_delegate)
        table.setItemDelegateForColumn(USUAL, self.progress_delegate)
        self.stats_loader = StatsLoader(window.service.engine, self)
        self.stats_dialog: StatsDialog | None = None
        events = window.service.events
        for signal in (events.run_started, events.run_finished):
            signal.connect(self._on_run_event)
        events.run_slow.connect(self._on_run_slow)
        window.history.model.usual = window.jobs_model.usual
        window.tray.running_words = self._tray_words
        window.clock.timeout.connect(self._tick)
        window.job_actions.show_stats.triggered.connect(self.show_stats)
        window.detail.stats_button.clicked.connect(self.show_stats)

    @Slot(object)
    def _on_run_event(self, record: RunRecord) -> None:
        self._window.loader.run_shapes.mark_changed(record.job_id)  # its numbers are read again

    @Slot(object)
    def _on_run_slow(self, record: RunRecord) -> None:
        """Show the marker at once, and tell the user once (the job's notify policy "never" stays
        silent)."""
        window = self._window
        window.jobs_model.on_run_event(record)
        window.history.model.on_run_changed(record)
        self._window.loader.run_shapes.mark_changed(record.job_id)
        spec = window.jobs_model.spec(record.job_id)
        if spec is not None and spec.notify.value == "never":
            return
        usual = window.jobs_model.usual(record.job_id)
        name = spec.name if spec is not None else record.job_name
        if record.slow == "long":
            title = f"{name} is taking longer than usual"
            body = f"running for {format_duration(float(int(elapsed(record) or 0.0)))}"
            if usual is not None:
                body += f"; it usually takes {format_duration(usual.median)} (p95 {format_duration(usual.p95)})"
        else:
            title = f"{name} finished much sooner than usual"
            body = f"succeeded in {format_duration(record.duration or 0.0)}"
            if usual is not None:
                body += f"; it usually takes {format_duration(usual.median)}"
        window.notifier.tell(record, title, body)

    def _tray_words(self, record: RunRecord) -> str:
        usual = self._window.jobs_model.usual(record.job_id)
        words = running_words(record, usual) or "running"
        left = eta_words(record, usual)
        return f"{words}, {left}" if left and record.slow != "long" else words

    @Slot()
    def _tick(self) -> None:
        window = self._window
        if window.isVisible() and not window.isMinimized():
            window.jobs_model.tick_running()
        window.tray.refresh_tooltip()

    @Slot()
    def show_stats(self) -> None:
        """The selected job's statistics view (one at a time; it replaces an open one)."""
        spec = self._window.current_spec()
        if spec is None:
            self._window.status.say("Select a job to see its statistics")
            return
        if self.stats_dialog is not None:
            self.stats_dialog.close()
        self.stats_dialog = StatsDialog(self.stats_loader, spec, self._window)
        self.stats_dialog.destroyed.connect(self._dialog_gone)
        self.stats_dialog.show()

    @Slot()
    def _dialog_gone(self) -> None:
        self.stats_dialog = None
