"""The Recent-runs strip is drawn a colour at a time (desktop.joblist.strip_delegate.paint_strip):
what it paints must be what drawing it bar by bar paints, pixel for pixel, in both palettes."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPalette

from desktop.formatting import status_colour
from desktop.joblist.strip_delegate import BAR_GAP, LONG_COLOUR, MIN_BAR, paint_strip
from jobs.model import RunStatus
from jobs.run_stats import STRIP_RUNS, RunBar


def _bar_by_bar(painter: QPainter, rect: QRectF, bars: tuple[RunBar, ...], palette: QPalette) -> None:
    """The plain way: each bar, then its dot, one call at a time."""
    slot = rect.width() / STRIP_RUNS
    width = max(1.0, slot - BAR_GAP)
    longest = max((bar.duration or 0.0) for bar in bars) or 1.0
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    left = rect.right() - slot * len(bars)
    for offset, bar in enumerate(bars):
        colour = status_colour(bar.status, palette)
        height = max(MIN_BAR, (rect.height() - 5) * min(1.0, (bar.duration or 0.0) / longest))
        shape = QRectF(left + offset * slot + BAR_GAP / 2, rect.bottom() - height, width, height)
        if bar.slow == "short":
            painter.setPen(colour)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(shape.adjusted(0.5, 0.5, -0.5, -0.5))
        else:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRect(shape)
        if bar.slow == "long":
            painter.setBrush(QColor(LONG_COLOUR))
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawEllipse(QRectF(shape.center().x() - 1.5, rect.top(), 3, 3))
    painter.restore()


def _image(draw, bars, palette, size=(173, 23)) -> QImage:
    image = QImage(*size, QImage.Format.Format_ARGB32)
    image.fill(palette.color(QPalette.ColorRole.Base))
    painter = QPainter(image)
    draw(painter, QRectF(4, 3, size[0] - 8, size[1] - 6), bars, palette)
    painter.end()
    return image


@pytest.mark.parametrize("dark", [False, True])
def test_a_strip_drawn_a_colour_at_a_time_looks_as_drawn_bar_by_bar(qapp, dark):
    statuses = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.KILLED, RunStatus.RUNNING)
    bars = tuple(RunBar(n, statuses[n % len(statuses)], 1_000_000.0 + 60 * n, [3.0, 0.004, 40.0, None, 12.5][n % 5],
                        slow=("long", None, "short", None)[n % 4])
                 for n in range(STRIP_RUNS))  # fmt: skip
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e" if dark else "#ffffff"))
    for shown in (bars, bars[:7], bars[:1]):
        image = _image(paint_strip, shown, palette)
        assert image == _image(_bar_by_bar, shown, palette)
        colours = {image.pixel(x, y) for x in range(image.width()) for y in range(image.height())}
        assert len(colours) > 2  # bars were drawn, not just the background
