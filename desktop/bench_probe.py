"""Start-up marks for the benchmarks (tests/bench/bench_gui.py, bench_scale.py --only window).

Only installed when JOBDESK_BENCH_MARKS=1 or JOBDESK_BENCH_EXIT_AFTER_SHOW=1. Prints, one line
each, `NAME <unix time> [value]`:
- JOBDESK_FIRST_PAINT: the window's first paint event;
- JOBDESK_FIRST_SCREEN <rows>: the table's first rows, read ahead of the rest, are in the table
  and painted (only with many jobs: desktop.joblist.snapshot FIRST_SCREEN_FROM);
- JOBDESK_JOBS_SHOWN <rows>: the first jobs snapshot (every job) is in the table and painted;
- JOBDESK_HISTORY_SHOWN <rows>: the History table holds its first page;
- JOBDESK_STALL_MAX <ms>: the longest gap of a 10 ms heartbeat on the GUI thread from the first
  paint until everything has loaded (jobs, history, the scheduler started and the snapshot that
  follows it) plus SETTLE_S: how long the window was frozen while the rest loaded;
- JOBDESK_PEAK_RSS <MiB>: the process's VmHWM at that moment;
- JOBDESK_LOADED: the end of that stretch (the last line).
With JOBDESK_BENCH_EXIT_AFTER_SHOW=1 the app quits after JOBDESK_LOADED.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer

BENCH_MARKS_ENV = "JOBDESK_BENCH_MARKS"
BENCH_EXIT_ENV = "JOBDESK_BENCH_EXIT_AFTER_SHOW"
HEARTBEAT_MS = 10
SETTLE_S = 1.0  # after the last load: a late stall (a collection, a repaint) still counts
GIVE_UP_S = 120.0


def wanted() -> bool:
    return os.environ.get(BENCH_MARKS_ENV) == "1" or os.environ.get(BENCH_EXIT_ENV) == "1"


def _mark(name: str, *values: object) -> None:
    print(" ".join([name, f"{time.time():.6f}", *(str(value) for value in values)]), flush=True)


def peak_rss_mib() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class StartupProbe(QObject):
    """Watches `window` (a MainWindow) start up; see the module docstring."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.painted = False
        self.jobs_shown = False
        self.history_shown = False
        self.loaded_while_scheduling = False
        self.done_at: float | None = None
        self.started = time.monotonic()
        self.last_beat = 0.0
        self.worst_gap_ms = 0.0
        self.heartbeat = QTimer(self)
        self.heartbeat.setTimerType(Qt.TimerType.PreciseTimer)
        self.heartbeat.setInterval(HEARTBEAT_MS)
        self.heartbeat.timeout.connect(self._beat)
        self.jobs_painted = False  # the jobs table was painted with rows in it
        self.screen_pending = False  # the first screen is in the table, not painted yet
        window.installEventFilter(self)
        window.jobs_table.viewport().installEventFilter(self)
        window.loader.loaded.connect(self._jobs_loaded)
        window.loader.first_screen.connect(self._first_screen)  # after the window's slot: painted by then
        history = window.history.model
        if history.rowCount() or history.exhausted:  # the first page was an index seek, already in
            self._history_listed()
        else:
            history.page_loaded.connect(self._history_page)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.window:
            if event.type() == QEvent.Type.Paint and self.window.jobs_model.rowCount():
                self.jobs_painted = True
                if self.screen_pending:
                    self.screen_pending = False
                    QTimer.singleShot(0, self._screen_painted)  # after this paint
            return False
        if not self.painted and event.type() == QEvent.Type.Paint:
            self.painted = True
            _mark("JOBDESK_FIRST_PAINT")
            self.last_beat = time.perf_counter()
            self.heartbeat.start()
        return False

    def _first_screen(self, _snapshot: object) -> None:
        self.screen_pending = not self.jobs_shown and self.window.jobs_model.rowCount() > 0  # marked once painted

    def _screen_painted(self) -> None:
        if not self.jobs_shown:
            _mark("JOBDESK_FIRST_SCREEN", self.window.jobs_model.rowCount())

    def _jobs_loaded(self, _snapshot: object) -> None:
        service = self.window.service
        if service.scheduling:  # APScheduler is imported by then (importing it here cost the measured GUI thread ~50 ms)
            from apscheduler.schedulers.base import STATE_RUNNING

            if service.scheduler.state == STATE_RUNNING:  # paused: still starting (desktop.startup)
                self.loaded_while_scheduling = True
        if not self.jobs_shown:
            self.jobs_shown = True
            QTimer.singleShot(0, self._jobs_shown)

    def _jobs_shown(self) -> None:
        if not self.jobs_painted:  # else the window painted them already (a repaint would be a second one)
            self.window.jobs_table.viewport().repaint()
        _mark("JOBDESK_JOBS_SHOWN", self.window.jobs_model.rowCount())

    def _history_page(self, _count: int) -> None:
        self.window.history.model.page_loaded.disconnect(self._history_page)
        self._history_listed()

    def _history_listed(self) -> None:
        self.history_shown = True
        _mark("JOBDESK_HISTORY_SHOWN", self.window.history.model.rowCount())

    def _beat(self) -> None:
        now = time.perf_counter()
        self.worst_gap_ms = max(self.worst_gap_ms, (now - self.last_beat) * 1000)
        self.last_beat = now
        everything = self.jobs_shown and self.history_shown and self.loaded_while_scheduling
        if self.done_at is None and (everything or time.monotonic() - self.started > GIVE_UP_S):
            self.done_at = now
        if self.done_at is not None and now - self.done_at >= SETTLE_S:
            self.heartbeat.stop()
            _mark("JOBDESK_STALL_MAX", f"{self.worst_gap_ms:.1f}")
            _mark("JOBDESK_PEAK_RSS", f"{peak_rss_mib():.1f}")
            _mark("JOBDESK_LOADED")
            if os.environ.get(BENCH_EXIT_ENV) == "1":
                self.window.quit_app(ask=False)


def install(window: Any) -> None:
    if wanted():
        window.bench_probe = StartupProbe(window)
