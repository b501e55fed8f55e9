"""`TimelineView`: what runs in the next 24 hours, one lane per job, drawn by hand.

Fed with the core's lanes (`jobs.upcoming.FireTimes.timeline`, computed on the snapshot
loader's thread): every job with a run in the span has a lane, whatever the other jobs do. A
lane with few runs shows each as a tick (ticks closer than a few pixels merge into one mark); a
dense lane (an every-minute job: 1,440 runs) is a band over the stretches that have runs, with
its count and spacing written in it when they fit and in its tooltip. Lanes are sorted by each
job's first run; the job's name sits at the left (elided), hour grid lines with labels run along
the top and a line marks "now" (moved every 30 s; runs it has passed turn grey). The tooltip is
made when it shows, from the clock at that moment. Clicking a mark, a band or a lane's name
emits `job_clicked(job_id)`. All colours come from the palette, so the view follows dark mode.
The view's minimum height covers all lanes and only the lanes on screen are painted: put it in a
QScrollArea (`timeline_scroll_area`) when there can be many.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Callable

from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QHelpEvent, QMouseEvent, QPainter, QPaintEvent, QPalette, QPen, QShowEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QToolTip, QWidget

from desktop.formatting import format_clock, format_relative, format_time, format_time_with_relative, status_colour
from desktop.naming import named
from jobs.model import RunStatus
from desktop.timeline_lanes import DrawnLane, Mark, Span, every_words, hour_floor, utc
from jobs.upcoming import Lane

Fire = tuple[datetime, str, str]  # (when, job id, job name)

SPAN = timedelta(hours=24)
NOW_INTERVAL_MS = 30_000
HIT_TOLERANCE = 4  # px either side of a mark
MERGE_PX = 3.0  # ticks closer than this draw as one mark
TOOLTIP_LINES = 3  # more runs under the pointer than this are summed up in one line
EMPTY_TEXT = "Nothing runs in the next 24 hours"


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
        self._source: list[Lane] = []
        self._stale = False  # lanes given while hidden, not laid out yet
        self._lanes: list[DrawnLane] = []
        self._rows: dict[str, int] = {}  # lane index by job id
        self._now = utc(self._clock())
        self._start = hour_floor(self._now)
        self._timer = QTimer(self, interval=NOW_INTERVAL_MS)
        self._timer.timeout.connect(self.refresh_now)
        self._timer.start()
        self._update_geometry()

    # --- data --------------------------------------------------------------------------------

    def set_lanes(self, lanes: Sequence[Lane]) -> None:
        """Show `lanes` (the core's, for the next 24 hours); what falls outside the axis is left
        out. While the view is hidden they are only kept: with 10,000 jobs, laying out the lanes
        costs ~0.1 s, not worth paying at every load while another tab is shown."""
        self._source = list(lanes)
        self._stale = True
        if self.isVisible():
            self._rebuild()

    def _rebuild(self) -> None:
        self._now = utc(self._clock())
        self._start = hour_floor(self._now)
        self._build_lanes(fresh=True)

    def showEvent(self, event: QShowEvent) -> None:
        if self._stale:
            self._rebuild()
        else:
            self.refresh_now()
        super().showEvent(event)

    @Slot()
    def refresh_now(self) -> None:
        """Move the now line; once it is an hour in, the axis starts at the current hour.
        Nothing while hidden: showing it catches up."""
        if not self.isVisible():
            return
        self._now = utc(self._clock())
        if self._stale or self._now - self._start >= timedelta(hours=1) or self._now < self._start:
            self._start = hour_floor(self._now)
            self._build_lanes()
        self.update()

    def _build_lanes(self, *, fresh: bool = False) -> None:
        """Lay out the lanes on the axis. `fresh` lanes come from the core just now: sorted by
        first run, all from about now on, so only those starting past the end are left out (at
        10,000 jobs this is the common case, at every load). When the axis has moved on, lanes
        whose runs have all passed go and the rest are sorted by their first run still shown."""
        start, end = self._start, self._now + SPAN
        if fresh:
            lanes = [DrawnLane(lane, start, end) for lane in self._source if lane.first <= end]  # aware times
        else:
            lanes = [lane for lane in (DrawnLane(lane, start, end) for lane in self._source) if lane.shown]
            lanes.sort(key=lambda lane: (lane.first, lane.job_name.casefold(), lane.job_id))
        self._lanes = lanes
        self._rows = {lane.job_id: index for index, lane in enumerate(lanes)}  # for the links of chains
        self._stale = False
        self._update_geometry()
        self.update()

    @property
    def lane_jobs(self) -> list[str]:
        """Job ids of the lanes, top to bottom (as they are or will be shown)."""
        if self._stale:
            self._rebuild()
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
        return left + (right - left) * (utc(moment) - self._start).total_seconds() / axis_span

    def _lane_top(self, index: int) -> int:
        return self.header_height + index * self.lane_height

    def _update_geometry(self) -> None:
        self.setMinimumHeight(self.header_height + max(2, len(self._lanes)) * self.lane_height + 4)
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        return QSize(720, self.minimumHeight())

    def minimumSizeHint(self) -> QSize:
        return QSize(320, self.minimumHeight())

    def _marks(self, lane: DrawnLane) -> list[Mark]:
        marks: list[Mark] = []
        for when in lane.fires:
            x = self.x_of(when)
            if marks and x - marks[-1].right <= MERGE_PX:
                last = marks[-1]
                marks[-1] = Mark(last.left, x, (*last.fires, when))
            else:
                marks.append(Mark(x, x, (when,)))
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
        if lane.dense is not None:
            return []
        best: Mark | None = None
        best_distance = float("inf")
        for mark in self._marks(lane):
            if mark.left - HIT_TOLERANCE <= pos.x() <= mark.right + HIT_TOLERANCE:
                distance = 0.0 if mark.left <= pos.x() <= mark.right else min(abs(pos.x() - mark.left), abs(pos.x() - mark.right))
                if distance < best_distance:
                    best, best_distance = mark, distance
        return [] if best is None else [(when, lane.job_id, lane.job_name) for when in best.fires]

    def band_at(self, pos: QPoint) -> tuple[DrawnLane, Span] | None:
        """The dense lane and its stretch under `pos` (within HIT_TOLERANCE px)."""
        index = self.lane_at(pos)
        if index is None or self._lanes[index].dense is None:
            return None
        lane = self._lanes[index]
        for span in lane.spans:
            if self.x_of(span[0]) - HIT_TOLERANCE <= pos.x() <= self.x_of(span[1]) + HIT_TOLERANCE:
                return lane, span
        return None

    def job_at(self, pos: QPoint) -> str | None:
        """The job of the mark, band or lane label under `pos`."""
        fires = self.fires_at(pos)
        if fires:
            return fires[0][1]
        band = self.band_at(pos)
        if band is not None:
            return band[0].job_id
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
        now = utc(self._clock())  # when shown: the now line moves only every 30 s
        band = self.band_at(pos)
        if band is not None:
            return self._band_tooltip(*band, now=now)
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
            count = lane.count
            return f"{lane.job_name}: {count:,} run{'s' if count != 1 else ''} in the next 24 hours"
        return ""

    def _band_tooltip(self, lane: DrawnLane, span: Span, *, now: datetime) -> str:
        """"Every minute — 1,440 runs in the next 24 hours, every 1 min", then when they are."""
        dense = lane.dense
        assert dense is not None
        lines = [f"{lane.job_name} — {dense.count:,} runs in the next 24 hours, {every_words(dense.spacing)}"]
        if len(lane.spans) > 1:
            lines.append(f"this stretch: {format_time(span[0], now=now)} to {format_clock(span[1])}")
        else:
            lines.append(f"from {format_time(dense.first, now=now)} to {format_time(dense.last, now=now)}")
        if dense.first > now:
            lines.append(f"the first {format_relative(dense.first, now=now)}")
        return "\n".join(lines)

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
        shown = self._lanes_in(event.rect())
        for index in shown:
            if index % 2:
                painter.fillRect(QRect(0, self._lane_top(index), self.width(), self.lane_height),
                                 palette.color(QPalette.ColorRole.AlternateBase))
        # Grid lines end where the exposed part does: at 10,000 lanes the view is 200,000 px tall,
        # and stroking lines that long (antialiased) took ~40 ms a paint however little showed.
        lines_bottom = min(lanes_bottom, event.rect().bottom() + 1)
        self._paint_hours(painter, palette, lines_bottom)
        if self._lanes:
            self._paint_links(painter, palette, shown)
            self._paint_lanes(painter, palette, shown)
        else:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            body = QRect(0, self.header_height, self.width(), lanes_bottom - self.header_height)
            painter.drawText(body, Qt.AlignmentFlag.AlignCenter, EMPTY_TEXT)
        self._paint_now(painter, palette, lines_bottom)
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

    def _lanes_in(self, rect: QRect) -> range:
        """The lanes that `rect` touches (only those are painted: there may be 10,000)."""
        first = max(0, (rect.top() - self.header_height) // self.lane_height)
        last = min(len(self._lanes), (rect.bottom() - self.header_height) // self.lane_height + 1)
        return range(first, max(first, last))

    def _paint_lanes(self, painter: QPainter, palette: QPalette, shown: range) -> None:
        metrics = self.fontMetrics()
        label_width = self._label_width()
        text_colour = palette.color(QPalette.ColorRole.Text)
        mark_colour = palette.color(QPalette.ColorRole.Highlight)
        past_colour = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        inset = 5
        for index in shown:
            lane = self._lanes[index]
            top = self._lane_top(index)
            painter.setPen(text_colour)
            name = metrics.elidedText(lane.job_name, Qt.TextElideMode.ElideRight, label_width - 8)
            painter.drawText(QRect(8, top, label_width - 8, self.lane_height),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            if lane.dense is not None:
                self._paint_band(painter, palette, lane, top)
                continue
            expected = bool(lane.links)  # an after-job's runs are expected, not set: drawn hollow
            for mark in self._marks(lane):
                past = mark.fires[-1] < self._now
                colour = past_colour if past else mark_colour
                painter.setPen(QPen(colour, 1.5) if expected else Qt.PenStyle.NoPen)
                painter.setBrush(palette.color(QPalette.ColorRole.Base) if expected else colour)
                rect = QRectF(mark.left - 1.5, top + inset, mark.right - mark.left + 3, self.lane_height - 2 * inset)
                painter.drawRoundedRect(rect, 1.5, 1.5)

    def _paint_links(self, painter: QPainter, palette: QPalette, shown: range) -> None:
        """A chain (jobs.chain_plan): a line from each upstream fire to the after-job's expected run."""
        colour = QColor(palette.color(QPalette.ColorRole.Highlight))
        colour.setAlpha(150)
        painter.setPen(QPen(colour, 1.5, Qt.PenStyle.DashLine))
        middle = self.lane_height / 2
        for index in shown:
            for when, upstream, fire in self._lanes[index].links:
                row = self._rows.get(upstream)
                if row is not None:
                    start = QPointF(self.x_of(max(utc(fire), self._start)), self._lane_top(row) + middle)
                    painter.drawLine(start, QPointF(self.x_of(when), self._lane_top(index) + middle))

    def _paint_band(self, painter: QPainter, palette: QPalette, lane: DrawnLane, top: int) -> None:
        """A dense lane: a lighter band with an outline over each stretch (grey up to now), and
        "1,440 runs · every 1 min" inside the widest stretch when it fits: a cue that is no colour."""
        assert lane.dense is not None
        inset = 4
        height = self.lane_height - 2 * inset
        now_x = self.x_of(self._now)
        widest: QRectF | None = None
        for start, stop in lane.spans:
            rect = QRectF(self.x_of(start) - 1.5, top + inset, self.x_of(stop) - self.x_of(start) + 3, height)
            split = min(max(now_x, rect.left()), rect.right())
            past = QRectF(rect.left(), rect.top(), split - rect.left(), height)
            coming = QRectF(split, rect.top(), rect.right() - split, height)
            for colour, part in ((palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text), past),
                                 (palette.color(QPalette.ColorRole.Highlight), coming)):  # fmt: skip
                if part.width() <= 0:
                    continue
                fill = QColor(colour)
                fill.setAlpha(120)
                painter.setPen(QPen(colour, 1))
                painter.setBrush(fill)
                painter.drawRoundedRect(part, 2.5, 2.5)
            if widest is None or rect.width() > widest.width():
                widest = rect
        text = f"{lane.dense.count:,} runs · {every_words(lane.dense.spacing)}"
        if widest is not None and self.fontMetrics().horizontalAdvance(text) + 12 <= widest.width():
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(widest.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)

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
