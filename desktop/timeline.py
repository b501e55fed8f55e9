"""`TimelineView`: what runs in the next 24 hours, one lane per job, drawn by hand.

Lanes are sorted by each job's first fire time; the job's name sits at the left (elided), hour
grid lines with labels run along the top, each fire is a tick and a line marks "now" (moved
every 30 s). Ticks closer than a few pixels merge into one mark. The tooltip is made when it
shows, from the clock at that moment, and describes the runs under the pointer: one run by its
time and countdown, a few by a line each, many (a dense lane) as "N runs from 14:02 to 14:18".
Clicking a mark or a lane's name emits `job_clicked(job_id)`. All colours come from the palette,
so the view follows dark mode. The view's minimum height covers all lanes: put it in a
QScrollArea (`timeline_scroll_area`) when there can be many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QHelpEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QFrame, QScrollArea, QToolTip, QWidget

from desktop.formatting import format_clock, format_time_with_relative, status_colour
from desktop.naming import named
from jobs.model import RunStatus

Fire = tuple[datetime, str, str]  # (when, job id, job name)

SPAN = timedelta(hours=24)
NOW_INTERVAL_MS = 30_000
HIT_TOLERANCE = 4  # px either side of a mark
MERGE_PX = 3.0  # ticks closer than this draw as one mark
TOOLTIP_LINES = 3  # more runs under the pointer than this are summed up in one line
EMPTY_TEXT = "Nothing runs in the next 24 hours"


@dataclass
class _Lane:
    job_id: str
    job_name: str
    fires: list[datetime] = field(default_factory=list)


@dataclass(frozen=True)
class _Mark:
    left: float
    right: float
    fires: tuple[datetime, ...]


def _utc(moment: datetime) -> datetime:
    return (moment if moment.tzinfo is not None else moment.astimezone()).astimezone(timezone.utc)


def _hour_floor(moment: datetime) -> datetime:
    """The start of `moment`'s local hour, in UTC (zones with half-hour offsets included)."""
    return moment.astimezone().replace(minute=0, second=0, microsecond=0).astimezone(timezone.utc)


class TimelineView(QWidget):
    """Signals: job_clicked(str): a mark or a lane label was clicked (the job id)."""

    job_clicked = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineView")
        self.setAccessibleName("Timeline of the next 24 hours")
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._fires: list[Fire] = []
        self._lanes: list[_Lane] = []
        self._now = _utc(self._clock())
        self._start = _hour_floor(self._now)
        self._timer = QTimer(self, interval=NOW_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh_now)
        self._timer.start()
        self._update_geometry()

    # --- data --------------------------------------------------------------------------------

    def set_fires(self, fires: list[Fire]) -> None:
        """Show `fires` ((when, job id, job name)); those outside the next 24 hours are left out."""
        self._fires = [(_utc(when), job_id, name) for when, job_id, name in fires]
        self._now = _utc(self._clock())
        self._start = _hour_floor(self._now)
        self._build_lanes()

    @Slot()
    def refresh_now(self) -> None:
        """Move the now line; once it is an hour in, the axis starts at the current hour."""
        self._now = _utc(self._clock())
        if self._now - self._start >= timedelta(hours=1) or self._now < self._start:
            self._start = _hour_floor(self._now)
            self._build_lanes()
        self.update()

    def _build_lanes(self) -> None:
        end = self._now + SPAN
        lanes: dict[str, _Lane] = {}
        for when, job_id, name in sorted(self._fires, key=lambda fire: fire[0]):
            if self._start <= when <= end:
                lanes.setdefault(job_id, _Lane(job_id, name)).fires.append(when)
        self._lanes = list(lanes.values())  # insertion order = first fire time
        self._update_geometry()
        self.update()

    @property
    def lane_jobs(self) -> list[str]:
        """Job ids of the lanes, top to bottom."""
        return [lane.job_id for lane in self._lanes]

    # --- geometry ----------------------------------------------------------------------------

    @property
    def lane_height(self) -> int:
        return max(22, self.fontMetrics().height() + 10)

    @property
    def header_height(self) -> int:
        return self.fontMetrics().height() + 10

    def _label_width(self) -> int:
        base = min(260, max(110, self.fontMetrics().averageCharWidth() * 28))
        return int(min(base, self.width() * 0.3))

    def _axis(self) -> tuple[float, float]:
        left = self._label_width() + 12
        return float(left), float(max(left + 10, self.width() - 16))

    def x_of(self, moment: datetime) -> float:
        left, right = self._axis()
        axis_span = (SPAN + timedelta(hours=1)).total_seconds()
        return left + (right - left) * (_utc(moment) - self._start).total_seconds() / axis_span

    def _lane_top(self, index: int) -> int:
        return self.header_height + index * self.lane_height

    def _update_geometry(self) -> None:
        self.setMinimumHeight(self.header_height + max(2, len(self._lanes)) * self.lane_height + 4)
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        return QSize(720, self.minimumHeight())

    def minimumSizeHint(self) -> QSize:
        return QSize(320, self.minimumHeight())

    def _marks(self, lane: _Lane) -> list[_Mark]:
        marks: list[_Mark] = []
        for when in lane.fires:
            x = self.x_of(when)
            if marks and x - marks[-1].right <= MERGE_PX:
                last = marks[-1]
                marks[-1] = _Mark(last.left, x, (*last.fires, when))
            else:
                marks.append(_Mark(x, x, (when,)))
        return marks

    # --- hit tests ---------------------------------------------------------------------------

    def lane_at(self, pos: QPoint) -> int | None:
        if pos.y() < self.header_height:
            return None
        index = (pos.y() - self.header_height) // self.lane_height
        return index if 0 <= index < len(self._lanes) else None

    def fires_at(self, pos: QPoint) -> list[Fire]:
        """The fires of the mark under `pos` (within HIT_TOLERANCE px), soonest first."""
        index = self.lane_at(pos)
        if index is None:
            return []
        lane = self._lanes[index]
        best: _Mark | None = None
        best_distance = float("inf")
        for mark in self._marks(lane):
            if mark.left - HIT_TOLERANCE <= pos.x() <= mark.right + HIT_TOLERANCE:
                distance = 0.0 if mark.left <= pos.x() <= mark.right else min(abs(pos.x() - mark.left), abs(pos.x() - mark.right))
                if distance < best_distance:
                    best, best_distance = mark, distance
        return [] if best is None else [(when, lane.job_id, lane.job_name) for when in best.fires]

    def job_at(self, pos: QPoint) -> str | None:
        """The job of the mark or lane label under `pos`."""
        fires = self.fires_at(pos)
        if fires:
            return fires[0][1]
        index = self.lane_at(pos)
        if index is not None and pos.x() < self._label_width() + 6:
            return self._lanes[index].job_id
        return None

    def mark_position(self, job_id: str, when: datetime) -> QPoint:
        """Where the tick of `job_id` at `when` is drawn (for tests and accessibility)."""
        index = self.lane_jobs.index(job_id)
        return QPoint(round(self.x_of(when)), self._lane_top(index) + self.lane_height // 2)

    def fires_near(self, pos: QPoint) -> list[Fire]:
        """The fires of the mark under `pos` drawn within HIT_TOLERANCE px of it (else the
        nearest one): a merged mark of a dense lane can span the whole axis."""
        fires = self.fires_at(pos)
        near = [fire for fire in fires if abs(self.x_of(fire[0]) - pos.x()) <= HIT_TOLERANCE]
        if near or not fires:
            return near
        return [min(fires, key=lambda fire: abs(self.x_of(fire[0]) - pos.x()))]

    def tooltip_text(self, pos: QPoint) -> str:
        now = _utc(self._clock())  # when shown: the now line moves only every 30 s
        fires = self.fires_near(pos)
        if len(fires) > TOOLTIP_LINES:
            name, first, last = fires[0][2], fires[0][0], fires[-1][0]
            return (f"{name} — {len(fires)} runs from {format_clock(first)} to {format_clock(last)}\n"
                    f"the first {format_time_with_relative(first, now=now)}")  # fmt: skip
        if fires:
            return "\n".join(f"{name} — {format_time_with_relative(when, now=now)}" for when, _, name in fires)
        index = self.lane_at(pos)
        if index is not None and pos.x() < self._label_width() + 6:
            lane = self._lanes[index]
            count = len(lane.fires)
            return f"{lane.job_name}: {count} run{'s' if count != 1 else ''} in the next 24 hours"
        return ""

    # --- events ------------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_text(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            job_id = self.job_at(event.position().toPoint())
            if job_id is not None:
                self.job_clicked.emit(job_id)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        over = self.job_at(event.position().toPoint()) is not None
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    # --- painting ----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        lanes_bottom = self._lane_top(max(2, len(self._lanes)))
        for index in range(len(self._lanes)):
            if index % 2:
                painter.fillRect(QRect(0, self._lane_top(index), self.width(), self.lane_height),
                                 palette.color(QPalette.ColorRole.AlternateBase))
        self._paint_hours(painter, palette, lanes_bottom)
        if self._lanes:
            self._paint_lanes(painter, palette)
        else:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            body = QRect(0, self.header_height, self.width(), lanes_bottom - self.header_height)
            painter.drawText(body, Qt.AlignmentFlag.AlignCenter, EMPTY_TEXT)
        self._paint_now(painter, palette, lanes_bottom)
        painter.end()

    def _paint_hours(self, painter: QPainter, palette: QPalette, bottom: int) -> None:
        metrics = self.fontMetrics()
        left, right = self._axis()
        per_hour = (right - left) / 25
        label_width = metrics.horizontalAdvance("Wed") + metrics.horizontalAdvance("00:00") // 2
        step = next((s for s in (1, 2, 3, 4, 6, 12) if s * per_hour >= label_width + 10), 24)
        grid = QColor(palette.color(QPalette.ColorRole.Mid))
        grid.setAlpha(110)
        text_colour = palette.color(QPalette.ColorRole.Text)
        baseline = self.header_height - 7
        bold = painter.font()
        bold.setBold(True)
        normal = painter.font()
        for hour in range(26):
            moment = self._start + timedelta(hours=hour)
            x = self.x_of(moment)
            if x > right + 0.5:
                break
            painter.setPen(QPen(grid, 1))
            painter.drawLine(QPointF(x, self.header_height - 3), QPointF(x, bottom))
            local = moment.astimezone()
            midnight = local.hour == 0
            if local.hour % step and not midnight:
                continue
            text = f"{local:%a}" if midnight else format_clock(moment)
            painter.setFont(bold if midnight else normal)
            painter.setPen(text_colour)
            width = painter.fontMetrics().horizontalAdvance(text)
            text_x = min(max(x - width / 2, self._label_width() + 4.0), self.width() - width - 2.0)
            painter.drawText(QPointF(text_x, baseline), text)
        painter.setFont(normal)

    def _paint_lanes(self, painter: QPainter, palette: QPalette) -> None:
        metrics = self.fontMetrics()
        label_width = self._label_width()
        text_colour = palette.color(QPalette.ColorRole.Text)
        mark_colour = palette.color(QPalette.ColorRole.Highlight)
        past_colour = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        inset = 5
        for index, lane in enumerate(self._lanes):
            top = self._lane_top(index)
            painter.setPen(text_colour)
            name = metrics.elidedText(lane.job_name, Qt.TextElideMode.ElideRight, label_width - 8)
            painter.drawText(QRect(8, top, label_width - 8, self.lane_height),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            painter.setPen(Qt.PenStyle.NoPen)
            for mark in self._marks(lane):
                past = mark.fires[-1] < self._now
                painter.setBrush(past_colour if past else mark_colour)
                rect = QRectF(mark.left - 1.5, top + inset, mark.right - mark.left + 3, self.lane_height - 2 * inset)
                painter.drawRoundedRect(rect, 1.5, 1.5)

    def _paint_now(self, painter: QPainter, palette: QPalette, bottom: int) -> None:
        x = self.x_of(self._now)
        colour = status_colour(RunStatus.FAILED, palette)
        painter.setPen(QPen(colour, 2))
        painter.drawLine(QPointF(x, self.header_height - 4), QPointF(x, bottom))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        top = self.header_height - 4
        painter.drawPolygon([QPointF(x - 4, top - 5), QPointF(x + 4, top - 5), QPointF(x, top)])


def timeline_scroll_area(view: TimelineView, parent: QWidget | None = None) -> QScrollArea:
    """`view` in a frameless, vertically scrolling area that gives it the full width."""
    area = named(QScrollArea(parent), "timelineScroll")
    area.setWidget(view)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area
