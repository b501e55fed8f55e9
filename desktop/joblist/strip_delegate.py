"""Painting the Jobs table's "Recent runs" strip and the Usual column's progress bar.

The strip: the job's last 20 runs that ran, oldest left, one bar each: its colour is the run's
status (the History's colours), its height its duration against the longest of the strip; a
running run's bar grows with its elapsed time; a run marked longer than usual has a dot on top,
a much shorter one an outlined bar. The Usual cell keeps its text and, while a run is going,
gets a thin bar at its foot: how far the run is through its usual (median) time (orange once it
is longer than usual).
Plain QPainter in `paint`: no widget per cell, nothing read but the model's roles.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop.formatting import status_colour
from desktop.joblist.model import PROGRESS_ROLE, STRIP_ROLE
from jobs.model import RunStatus
from jobs.run_stats import STRIP_RUNS, RunBar

Index = QModelIndex | QPersistentModelIndex
BAR_GAP = 2  # px between bars
MIN_BAR = 2  # px: a run of a few milliseconds is still seen
LONG_COLOUR = "#d9822b"  # longer than usual: the dot over its bar, the Usual cell's bar


def paint_strip(painter: QPainter, rect: QRectF, bars: tuple[RunBar, ...], palette: QPalette) -> None:
    """`bars` as a strip inside `rect` (also used by the statistics view's legend).

    Bars are drawn a colour at a time (`drawRects`), not one by one: each call into Qt lets go of
    the GIL, and while a worker runs Python (a snapshot load) taking it back waits, so a strip of
    20 bars drawn bar by bar made a repaint of the Jobs table ~10x slower (2,000 bars: 5 ms idle,
    180 ms beside a busy thread; a colour at a time 6 and 10-20 ms)."""
    if not bars:
        return
    slot = rect.width() / STRIP_RUNS
    width = max(1.0, slot - BAR_GAP)
    longest = max((bar.duration or 0.0) for bar in bars) or 1.0
    left = rect.right() - slot * len(bars)  # the newest run at the right edge
    filled: dict[RunStatus, list[QRectF]] = {}
    outlined: dict[RunStatus, list[QRectF]] = {}  # much shorter than usual
    dots: list[QRectF] = []  # longer than usual
    for offset, bar in enumerate(bars):
        height = max(MIN_BAR, (rect.height() - 5) * min(1.0, (bar.duration or 0.0) / longest))  # room for the dot
        shape = QRectF(left + offset * slot + BAR_GAP / 2, rect.bottom() - height, width, height)
        if bar.slow == "short":
            outlined.setdefault(bar.status, []).append(shape.adjusted(0.5, 0.5, -0.5, -0.5))
        else:
            filled.setdefault(bar.status, []).append(shape)
        if bar.slow == "long":
            dots.append(QRectF(shape.center().x() - 1.5, rect.top(), 3, 3))
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    for status, shapes in filled.items():
        painter.setBrush(status_colour(status, palette))
        painter.drawRects(shapes)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    for status, shapes in outlined.items():
        painter.setPen(status_colour(status, palette))
        painter.drawRects(shapes)
    if dots:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(LONG_COLOUR))
        for dot in dots:
            painter.drawEllipse(dot)
    painter.restore()


class StripDelegate(QStyledItemDelegate):
    """The Recent runs column: the strip instead of text."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget is not None else None  # type: ignore[union-attr]
        if style is not None:  # background and selection, no text
            option.text = ""  # type: ignore[attr-defined]
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)  # type: ignore[attr-defined]
        bars = index.data(STRIP_ROLE) or ()
        rect = QRectF(option.rect).adjusted(4, 3, -4, -3)  # type: ignore[attr-defined]
        paint_strip(painter, rect, bars, option.palette)  # type: ignore[attr-defined]


class ProgressDelegate(QStyledItemDelegate):
    """The Usual column: its text, and a thin progress bar while a run is going."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        super().paint(painter, option, index)
        progress = index.data(PROGRESS_ROLE)
        if progress is None:
            return
        fraction, long = progress
        rect = QRectF(option.rect).adjusted(4, 0, -4, -2)  # type: ignore[attr-defined]
        track = QRectF(rect.left(), rect.bottom() - 3, rect.width(), 3)
        palette: QPalette = option.palette  # type: ignore[attr-defined]
        painter.save()
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(track)
        painter.setBrush(QColor(LONG_COLOUR) if long else palette.color(QPalette.ColorRole.Highlight))
        painter.drawRect(QRectF(track.left(), track.top(), track.width() * float(fraction), track.height()))
        painter.restore()
