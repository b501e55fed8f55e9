"""The timeline: lanes, hit tests, tooltips, clicks, merging, the now line and the empty state."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

from desktop.formatting import format_clock, format_time_with_relative
from desktop.style import dark_palette
from desktop.timeline import EMPTY_TEXT, HIT_TOLERANCE, TimelineView, timeline_scroll_area

NOW = datetime(2026, 11, 30, 7, 10, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def view(qtbot, clock):
    widget = TimelineView(clock=clock)
    qtbot.addWidget(widget)
    widget.resize(900, 200)
    widget.show()
    widget.set_fires([
        (NOW + timedelta(hours=5), "late", "Late report"),
        (NOW + timedelta(hours=1), "backup", "Nightly backup"),
        (NOW + timedelta(hours=9), "backup", "Nightly backup"),
        (NOW + timedelta(hours=3), "sync", "Sync CRM exports to the analytics warehouse (all regions)"),
        (NOW + timedelta(hours=3, seconds=20), "sync", "Sync CRM exports to the analytics warehouse (all regions)"),
        (NOW + timedelta(hours=30), "far", "Beyond the horizon"),
    ])
    return widget


def test_lanes_sorted_by_first_fire_and_horizon(view):
    assert view.objectName() == "timelineView"
    assert view.lane_jobs == ["backup", "sync", "late"]  # "far" is after the next 24 hours
    assert view.minimumHeight() >= 3 * view.lane_height


def test_hit_test_finds_the_mark_within_tolerance(view):
    pos = view.mark_position("late", NOW + timedelta(hours=5))
    assert [fire[1] for fire in view.fires_at(pos)] == ["late"]
    assert view.fires_at(pos + QPoint(HIT_TOLERANCE - 1, 0))
    assert view.fires_at(pos + QPoint(HIT_TOLERANCE + 6, 0)) == []
    assert view.fires_at(QPoint(pos.x(), view.mark_position("backup", NOW + timedelta(hours=1)).y())) == []
    assert view.job_at(QPoint(10, pos.y())) == "late"  # the lane's label


def test_tooltip_text_and_merged_marks(view, qtbot):
    pos = view.mark_position("backup", NOW + timedelta(hours=1))
    when = NOW + timedelta(hours=1)
    assert view.tooltip_text(pos) == f"Nightly backup — {format_time_with_relative(when, now=NOW)}"
    assert view.tooltip_text(pos).endswith("(in 1 h)")
    merged = view.fires_at(view.mark_position("sync", NOW + timedelta(hours=3)))
    assert len(merged) == 2  # 20 s apart: one mark, both listed
    assert len(view.tooltip_text(view.mark_position("sync", NOW + timedelta(hours=3))).splitlines()) == 2
    event = QHelpEvent(QEvent.Type.ToolTip, pos, view.mapToGlobal(pos))
    assert QApplication.sendEvent(view, event)
    qtbot.waitUntil(lambda: QToolTip.text().startswith("Nightly backup — "), timeout=1000)


def test_clicking_a_mark_or_label_emits_the_job(view, qtbot):
    pos = view.mark_position("late", NOW + timedelta(hours=5))
    with qtbot.waitSignal(view.job_clicked) as clicked:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=pos)
    assert clicked.args == ["late"]
    with qtbot.waitSignal(view.job_clicked) as clicked:
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(12, pos.y()))
    assert clicked.args == ["late"]
    with qtbot.assertNotEmitted(view.job_clicked):
        qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(view.width() - 20, pos.y()))


def test_now_line_moves_and_the_axis_follows(view, clock):
    later = NOW + timedelta(hours=9)
    before = view.mark_position("backup", later).x()
    clock.now = NOW + timedelta(minutes=30)
    view.refresh_now()  # within the same hour: only the now line moves
    assert view.mark_position("backup", later).x() == before
    clock.now = NOW + timedelta(hours=2)
    view.refresh_now()  # the axis now starts at 09:00; the 08:10 backup has passed
    assert view.lane_jobs == ["sync", "late", "backup"]
    assert view.mark_position("backup", later).x() < before


def test_empty_state_and_dark_palette(qtbot, clock):
    view = TimelineView(clock=clock)
    area = timeline_scroll_area(view)
    qtbot.addWidget(area)
    area.resize(700, 150)
    area.setPalette(dark_palette())
    area.show()
    view.set_fires([])
    assert view.lane_jobs == [] and view.tooltip_text(QPoint(300, 40)) == ""
    image = view.grab().toImage()
    assert image.pixelColor(view.width() - 3, view.height() - 3) == dark_palette().color(QPalette.ColorRole.Base)
    assert EMPTY_TEXT == "Nothing runs in the next 24 hours"
    many = [(NOW + timedelta(minutes=10 + n), f"job{n}", f"Job {n}") for n in range(40)]
    view.set_fires(many)
    assert view.minimumHeight() >= 40 * view.lane_height
    assert area.verticalScrollBar().maximum() > 0 or not area.isVisible()
    assert QColor(dark_palette().color(QPalette.ColorRole.Text)).lightness() > 128


def hover(qtbot, view: TimelineView, pos: QPoint) -> str:
    """What the tooltip says when the pointer rests at `pos`."""
    QToolTip.hideText()
    QApplication.sendEvent(view, QHelpEvent(QEvent.Type.ToolTip, pos, view.mapToGlobal(pos)))
    return QToolTip.text()


def test_a_dense_lane_tooltip_describes_the_runs_under_the_pointer(qtbot, clock):
    view = TimelineView(clock=clock)
    qtbot.addWidget(view)
    view.resize(900, 200)
    view.show()
    view.set_fires([(NOW + timedelta(minutes=m), "minutely", "Every minute") for m in range(1, 24 * 60)])
    soon = hover(qtbot, view, view.mark_position("minutely", NOW + timedelta(hours=1)))
    later = hover(qtbot, view, view.mark_position("minutely", NOW + timedelta(hours=6)))
    assert soon and later and soon != later
    first, last = re.search(r"runs from (\d\d:\d\d) to (\d\d:\d\d)", later).groups()
    assert first <= format_clock(NOW + timedelta(hours=6)) <= last, later  # the runs under the pointer
    assert format_clock(NOW + timedelta(minutes=1)) not in later  # not the first runs of the lane
    assert later.startswith("Every minute") and len(later.splitlines()) <= 3


def test_the_tooltip_countdown_is_computed_when_it_shows(view, qtbot, clock):
    pos = view.mark_position("backup", NOW + timedelta(hours=1))
    assert hover(qtbot, view, pos).endswith("(in 1 h)")
    clock.now = NOW + timedelta(minutes=50)  # the now line has not moved yet (it moves every 30 s)
    assert hover(qtbot, view, pos).endswith("(in 10 min)")
