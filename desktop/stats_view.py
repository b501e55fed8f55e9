"""A job's statistics: its durations over time and its success rate, painted with QPainter.

QtCharts is not in PySide6-Essentials, and two small charts do not earn a plotting library. The
runs are read on a worker thread (jobs.run_stats: the job's newest `STATS_RUNS` runs that ran,
from the covering index) and handed back through a queued signal; the dialog shows "Loading…"
meanwhile and never waits on the database.

- Durations: one dot per run, left to right in time, coloured by status; the median and p95 of
  the last 50 successes as dashed lines; a run marked longer than usual has a ring.
- Success rate: the share of runs that succeeded, per day (the last `DAYS` days that had runs).
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from PySide6.QtCore import QObject, QPointF, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QKeySequence, QPainter, QPaintEvent, QPalette, QPen, QShortcut
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from desktop.gui_bridge import ensure_bridge, post
from desktop.formatting import format_duration, status_colour
from desktop.joblist.strip_delegate import LONG_COLOUR
from desktop.naming import named
from jobs.model import JobSpec, RunStatus
from jobs.run_stats import DurationStats, RunBar, duration_stats, recent_runs

log = logging.getLogger(__name__)

STATS_RUNS = 200  # newest runs shown (per status read, then the newest of them all)
DAYS = 30
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP, MARGIN_RIGHT = 56, 22, 28, 12


@dataclass(frozen=True)
class JobStats:
    runs: tuple[RunBar, ...]  # oldest first
    usual: DurationStats | None

    @property
    def success_rate(self) -> float | None:
        ended = [bar for bar in self.runs if bar.status is not RunStatus.RUNNING]
        return sum(bar.status is RunStatus.SUCCEEDED for bar in ended) / len(ended) if ended else None

    def daily_success(self) -> list[tuple[str, float, int]]:
        """(day, share succeeded, runs) for the last DAYS days with finished runs, oldest first."""
        days: dict[str, list[bool]] = {}
        for bar in self.runs:
            if bar.started_at is None or bar.status is RunStatus.RUNNING:
                continue
            day = datetime.fromtimestamp(bar.started_at).strftime("%Y-%m-%d")
            days.setdefault(day, []).append(bar.status is RunStatus.SUCCEEDED)
        return [(day, sum(ok) / len(ok), len(ok)) for day, ok in sorted(days.items())[-DAYS:]]


def load_job_stats(engine: object, job_id: str) -> JobStats:
    """Worker-thread read: the job's newest runs and its usual duration."""
    runs = recent_runs(engine, [job_id], limit=STATS_RUNS).get(job_id, ())  # type: ignore[arg-type]
    return JobStats(runs, duration_stats(engine, [job_id]).get(job_id))  # type: ignore[arg-type]


class _Chart(QWidget):
    """A plot area with axes; subclasses draw into `plot_rect()`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.stats: JobStats | None = None
        self.setMinimumHeight(160)

    def sizeHint(self) -> QSize:
        return QSize(560, 200)

    def plot_rect(self) -> QRectF:
        return QRectF(self.rect()).adjusted(MARGIN_LEFT, MARGIN_TOP, -MARGIN_RIGHT, -MARGIN_BOTTOM)

    def _frame(self, painter: QPainter, title: str) -> QRectF:
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        area = self.plot_rect()
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        painter.setPen(palette.color(QPalette.ColorRole.Text))
        font = QFont(painter.font())
        font.setBold(True)
        painter.save()
        painter.setFont(font)
        painter.drawText(QRectF(area.left(), 4, area.width(), 18), Qt.AlignmentFlag.AlignLeft, title)
        painter.restore()
        return area

    def _y_label(self, painter: QPainter, y: float, text: str) -> None:
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(QRectF(0, y - 8, MARGIN_LEFT - 6, 16), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)


class DurationChart(_Chart):
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        area = self._frame(painter, "Duration of each run")
        runs = [bar for bar in (self.stats.runs if self.stats else ()) if bar.duration is not None]
        if not runs:
            self._y_label(painter, area.center().y(), "")
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "No finished runs yet" if self.stats else "Loading…")
            return
        usual = self.stats.usual if self.stats else None
        top = max(max(bar.duration or 0.0 for bar in runs), usual.p95 if usual else 0.0) * 1.1 or 1.0

        def y_of(seconds: float) -> float:
            return area.bottom() - area.height() * seconds / top

        for seconds in (0.0, top / 2, top):
            self._y_label(painter, y_of(seconds), format_duration(seconds))
        if usual is not None:
            for value, name in ((usual.median, "median"), (usual.p95, "p95")):
                painter.setPen(QPen(self.palette().color(QPalette.ColorRole.Mid), 1, Qt.PenStyle.DashLine))
                painter.drawLine(QPointF(area.left(), y_of(value)), QPointF(area.right(), y_of(value)))
                painter.drawText(QPointF(area.right() - 60, y_of(value) - 3), f"{name} {format_duration(value)}")
        step = area.width() / max(1, len(runs))
        for index, bar in enumerate(runs):
            centre = QPointF(area.left() + step * (index + 0.5), y_of(bar.duration or 0.0))
            colour = status_colour(bar.status, self.palette())
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawEllipse(centre, 3.5, 3.5)
            if bar.slow == "long":
                painter.setPen(QPen(QColor(LONG_COLOUR), 1.5))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawEllipse(centre, 6.5, 6.5)
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        first, last = runs[0].started_at, runs[-1].started_at
        if first is not None and last is not None:
            for x, moment, align in ((area.left(), first, Qt.AlignmentFlag.AlignLeft),
                                     (area.right() - 160, last, Qt.AlignmentFlag.AlignRight)):  # fmt: skip
                painter.drawText(QRectF(x, area.bottom() + 4, 160, 16), align,
                                 datetime.fromtimestamp(moment).strftime("%d %b %H:%M"))  # fmt: skip


class SuccessChart(_Chart):
    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        area = self._frame(painter, "Success rate per day")
        days = self.stats.daily_success() if self.stats else []
        if not days:
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "No finished runs yet" if self.stats else "Loading…")
            return
        for share in (0.0, 0.5, 1.0):
            self._y_label(painter, area.bottom() - area.height() * share, f"{share:.0%}")
        slot = area.width() / len(days)
        good = status_colour(RunStatus.SUCCEEDED, self.palette())
        bad = status_colour(RunStatus.FAILED, self.palette())
        painter.setPen(Qt.PenStyle.NoPen)
        for index, (_day, share, _count) in enumerate(days):
            left = area.left() + slot * index + 1
            width = max(1.0, slot - 2)
            painter.setBrush(bad)
            painter.drawRect(QRectF(left, area.top(), width, area.height() * (1 - share)))
            painter.setBrush(good)
            painter.drawRect(QRectF(left, area.bottom() - area.height() * share, width, area.height() * share))
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(QRectF(area.left(), area.bottom() + 4, 120, 16), Qt.AlignmentFlag.AlignLeft, days[0][0])
        painter.drawText(QRectF(area.right() - 120, area.bottom() + 4, 120, 16), Qt.AlignmentFlag.AlignRight, days[-1][0])


class StatsLoader(QObject):
    """Reads JobStats on one worker thread (started once, woken through a queue); the worker
    holds no Qt object but this long-lived loader, made on the GUI thread (NOTES item 34).

    Signals:
        loaded(object): (job_id, JobStats), on the GUI thread.
    """

    loaded = Signal(object)

    def __init__(self, engine: object, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._engine = engine
        self._requests: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def request(self, job_id: str) -> None:
        if self._worker is None:
            ensure_bridge()
            self._worker = threading.Thread(target=self._serve, name="job-stats", daemon=True)
            self._worker.start()
        self._requests.put(job_id)

    def close(self, timeout: float = 5.0) -> None:
        self._requests.put(None)
        if self._worker is not None:
            self._worker.join(timeout)

    def _serve(self) -> None:
        while (job_id := self._requests.get()) is not None:
            try:
                stats = load_job_stats(self._engine, job_id)
            except Exception:
                log.exception("reading the statistics of %s failed", job_id)
                stats = JobStats((), None)
            post(self, partial(self.loaded.emit, (job_id, stats)))  # desktop.gui_bridge


class StatsDialog(QDialog):
    """Statistics of one job (Job ▸ Statistics…, Ctrl+I, the detail bar's Statistics button)."""

    def __init__(self, loader: StatsLoader, spec: JobSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "statsDialog", "statsDialog")
        self.setWindowTitle(f"Statistics — {spec.name}")
        self.spec = spec
        self.summary = named(QLabel("Loading…", self), "statsSummary")
        self.durations = named(DurationChart(self), "statsDurationChart")
        self.success = named(SuccessChart(self), "statsSuccessChart")
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.durations, 3)
        layout.addWidget(self.success, 2)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Close), self, self.close)
        self.stats: JobStats | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(640, 460)
        loader.loaded.connect(self._on_loaded)
        loader.request(spec.id)

    @Slot(object)
    def _on_loaded(self, answer: tuple[str, JobStats]) -> None:
        job_id, stats = answer
        if job_id == self.spec.id:
            self._show(stats)

    def _show(self, stats: JobStats) -> None:
        self.stats = stats
        self.durations.stats = self.success.stats = stats
        usual = stats.usual
        parts = [f"Usual duration {format_duration(usual.median)} (p95 {format_duration(usual.p95)}, {usual.runs} successful runs)"
                 if usual else "No successful run yet"]  # fmt: skip
        rate = stats.success_rate
        if rate is not None:
            parts.append(f"{rate:.0%} of the last {sum(b.status is not RunStatus.RUNNING for b in stats.runs)} runs succeeded")
        slow = sum(1 for bar in stats.runs if bar.slow)
        if slow:
            parts.append(f"{slow} unusual")
        self.summary.setText(" · ".join(parts))
        self.durations.update()
        self.success.update()
