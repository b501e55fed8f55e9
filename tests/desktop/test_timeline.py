"""The timeline: lanes, hit tests, tooltips, clicks, merging, the now line and the empty state."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QColor, QHelpEvent, QPalette
from PySide6.QtWidgets import QApplication, QToolTip

from desktop.formatting import format_time, format_time_with_relative
from desktop.style import dark_palette
from desktop.timeline import EMPTY_TEXT, HIT_TOLERANCE, TimelineView, timeline_scroll_area
from jobs.model import CronSpec, JobSpec
from jobs.upcoming import FireTimes, Lane

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
    widget.set_lanes(lanes([
        (NOW + timedelta(hours=5), "late", "Late report"),
        (NOW + timedelta(hours=1), "backup", "Nightly backup"),
        (NOW + timedelta(hours=9), "backup", "Nightly backup"),
        (NOW + timedelta(hours=3), "sync", "Sync CRM exports to the analytics warehouse (all regions)"),
        (NOW + timedelta(hours=3, seconds=20), "sync", "Sync CRM exports to the analytics warehouse (all regions)"),
        (NOW + timedelta(hours=30), "far", "Beyond the horizon"),
    ]))
    return widget


def lanes(fires: list[tuple[datetime, str, str]]) -> list[Lane]:
    """Listed lanes as the core makes them, from (when, job id, name) rows."""
    by_job: dict[str, list[datetime]] = {}
    names = {}
    for when, job_id, name in sorted(fires):
        by_job.setdefault(job_id, []).append(when)
        names[job_id] = name
    return [Lane(JobSpec(id=job_id, name=names[job_id], command=("true",), trigger=CronSpec("0 3 * * *", "UTC")), tuple(times))
            for job_id, times in by_job.items()]  # fmt: skip


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
    view.set_lanes([])
    assert view.lane_jobs == [] and view.tooltip_text(QPoint(300, 40)) == ""
    image = view.grab().toImage()
    assert image.pixelColor(view.width() - 3, view.height() - 3) == dark_palette().color(QPalette.ColorRole.Base)
    assert EMPTY_TEXT == "Nothing runs in the next 24 hours"
    many = [(NOW + timedelta(minutes=10 + n), f"job{n}", f"Job {n}") for n in range(40)]
    view.set_lanes(lanes(many))
    assert view.minimumHeight() >= 40 * view.lane_height
    assert area.verticalScrollBar().maximum() > 0 or not area.isVisible()
    assert QColor(dark_palette().color(QPalette.ColorRole.Text)).lightness() > 128


def hover(qtbot, view: TimelineView, pos: QPoint) -> str:
    """What the tooltip says when the pointer rests at `pos`."""
    QToolTip.hideText()
    QApplication.sendEvent(view, QHelpEvent(QEvent.Type.ToolTip, pos, view.mapToGlobal(pos)))
    return QToolTip.text()


def dense_view(qtbot, clock, expression: str) -> tuple[TimelineView, JobSpec]:
    spec = JobSpec(id="dense", name="Every minute", command=("true",), trigger=CronSpec(expression, "UTC"))
    fires = FireTimes()
    first = fires.after(spec.trigger, NOW, 1)[0]
    view = TimelineView(clock=clock)
    qtbot.addWidget(view)
    view.resize(900, 200)
    view.show()
    view.set_lanes(fires.timeline([spec], {spec.id: first}, now=NOW))
    return view, spec


def test_a_dense_lane_is_one_band_with_its_count_and_spacing(qtbot, clock):
    view, spec = dense_view(qtbot, clock, "* * * * *")
    assert view.lane_jobs == ["dense"]
    early = hover(qtbot, view, view.mark_position("dense", NOW + timedelta(hours=1)))
    late = hover(qtbot, view, view.mark_position("dense", NOW + timedelta(hours=23)))  # the whole 24 hours
    assert early == late
    assert early.startswith("Every minute — 1,440 runs in the next 24 hours, every 1 min"), early
    assert f"from {format_time(NOW + timedelta(minutes=1), now=NOW)}" in early
    assert view.job_at(view.mark_position("dense", NOW + timedelta(hours=12))) == "dense"
    label = hover(qtbot, view, QPoint(12, view.mark_position("dense", NOW).y()))
    assert label == "Every minute: 1,440 runs in the next 24 hours"
    band = view.grab().toImage()  # one band: the lane's middle is coloured from end to end
    y = view.mark_position("dense", NOW).y() + 4
    base = view.palette().color(QPalette.ColorRole.Base)
    xs = range(round(view.x_of(NOW + timedelta(minutes=2))), round(view.x_of(NOW + timedelta(hours=23, minutes=59))), 7)
    assert all(band.pixelColor(x, y) != base for x in xs)


def test_a_dense_lane_with_quiet_hours_shows_where_it_runs(qtbot, clock):
    view, _ = dense_view(qtbot, clock, "*/5 9-17 * * *")  # 07:10 now: 09:00-17:55 today, then nothing
    y = view.mark_position("dense", NOW).y()
    busy = hover(qtbot, view, QPoint(round(view.x_of(NOW + timedelta(hours=4))), y))
    assert busy.startswith("Every minute — 108 runs in the next 24 hours, every 5 min"), busy
    night = QPoint(round(view.x_of(NOW + timedelta(hours=18))), y)  # 01:10: nothing runs
    assert view.job_at(night) is None and view.tooltip_text(night) == ""


def test_the_tooltip_countdown_is_computed_when_it_shows(view, qtbot, clock):
    pos = view.mark_position("backup", NOW + timedelta(hours=1))
    assert hover(qtbot, view, pos).endswith("(in 1 h)")
    clock.now = NOW + timedelta(minutes=50)  # the now line has not moved yet (it moves every 30 s)
    assert hover(qtbot, view, pos).endswith("(in 10 min)")


def test_the_windows_timeline_and_upcoming_show_every_job_for_the_whole_day(window, qtbot):
    """Issue 8 item 3: fed from Upcoming's 200 rows, an every-minute job's lane stopped after
    ~3 hours and a daily job added after it appeared in neither the Timeline nor Upcoming."""
    from PySide6.QtTest import QTest

    from desktop.main_window import TIMELINE_TAB, UPCOMING_TAB
    from jobs import triggers

    zone = triggers.local_timezone_name()
    minutely = window.service.add_job(JobSpec(name="Every minute", command=("true",), trigger=CronSpec("* * * * *", zone)))
    in_six_hours = (datetime.now(timezone.utc) + timedelta(hours=6)).astimezone()
    daily = window.service.add_job(JobSpec(name="Daily report", command=("true",),
                                           trigger=CronSpec(f"{in_six_hours.minute} {in_six_hours.hour} * * *", zone)))  # fmt: skip
    window.resize(1180, 760)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: window.jobs_model.row_of(daily.id) is not None and window.complete_loaded, timeout=5000)
    qtbot.waitUntil(lambda: not window.loader.busy, timeout=5000)

    QTest.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # View ▸ Timeline
    assert window.tabs.currentIndex() == TIMELINE_TAB
    view = window.timeline
    qtbot.waitUntil(lambda: set(view.lane_jobs) == {minutely.id, daily.id}, timeout=5000)
    daily_at = in_six_hours.replace(second=0, microsecond=0)
    assert hover(qtbot, view, view.mark_position(daily.id, daily_at)).startswith("Daily report — ")
    late = hover(qtbot, view, view.mark_position(minutely.id, datetime.now(timezone.utc) + timedelta(hours=23)))
    assert late.startswith("Every minute — 1,440 runs in the next 24 hours, every 1 min"), late

    QTest.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)  # View ▸ Upcoming
    assert window.tabs.currentIndex() == UPCOMING_TAB
    table = window.upcoming_table
    jobs = [table.model().index(row, 2).data() for row in range(table.model().rowCount())]
    assert "Daily report" in jobs and jobs.count("Every minute") >= 150
    assert table.model().rowCount() <= 200
