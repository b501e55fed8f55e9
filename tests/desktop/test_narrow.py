"""A narrow window (~820 px) keeps the job names readable: the Name column keeps a sensible
minimum and the least important columns give way, with no horizontal scrollbar. It measured
~45 px of name and a scrollbar before."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.joblist.columns import NAME_MIN_CHARS
from desktop.joblist.model import COUNTDOWN, HEADERS, NAME
from jobs import triggers
from jobs.model import CronSpec, JobSpec

TZ = triggers.local_timezone_name()
LONG = "Sync CRM exports to the analytics warehouse (all regions, full refresh, with deduplication)"


def visible_columns(window) -> list[str]:
    header = window.jobs_table.horizontalHeader()
    return [HEADERS[c] for c in range(len(HEADERS)) if not header.isSectionHidden(c)]


def show_at(window, qtbot, width: int) -> None:
    window.resize(width, 700)
    window.show()
    qtbot.waitExposed(window)
    table, header = window.jobs_table, window.jobs_table.horizontalHeader()

    last: list[object] = [None]

    def settled() -> bool:
        """The resize reached the table and its columns were fitted: nothing moved between two
        polls (events are processed in between). Fixed waits were too short under load."""
        state = (table.viewport().width(), tuple((header.sectionSize(c), header.isSectionHidden(c)) for c in range(len(HEADERS))))
        same, last[0] = state == last[0], state
        return same

    qtbot.wait(20)
    qtbot.waitUntil(settled, timeout=3000)


def test_narrow_window_keeps_names_readable_without_a_scrollbar(window, qtbot):
    window.service.import_jobs([JobSpec(name=name, command=("true",), trigger=CronSpec("*/5 * * * *", TZ))
                                for name in (LONG, "Backup")])  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_proxy.rowCount() == 2, timeout=5000)
    show_at(window, qtbot, 820)
    table, header = window.jobs_table, window.jobs_table.horizontalHeader()
    name_min = table.fontMetrics().averageCharWidth() * NAME_MIN_CHARS
    assert header.sectionSize(NAME) >= name_min, (header.sectionSize(NAME), visible_columns(window))
    assert not table.horizontalScrollBar().isVisible()
    assert "Countdown" in visible_columns(window) and "Name" in visible_columns(window)
    assert len(visible_columns(window)) < len(HEADERS)  # something gave way
    assert sum(header.sectionSize(c) for c in range(len(HEADERS)) if not header.isSectionHidden(c)) <= table.viewport().width()
    assert header.sectionSize(COUNTDOWN) >= table.fontMetrics().horizontalAdvance("in 59 min")

    show_at(window, qtbot, 1280)  # room again: every column comes back
    assert visible_columns(window) == list(HEADERS)
    assert not table.horizontalScrollBar().isVisible()

    show_at(window, qtbot, 560)  # very narrow: still a readable name and the countdown
    assert header.sectionSize(NAME) >= name_min
    assert not table.horizontalScrollBar().isVisible()
    assert visible_columns(window)[:1] == ["Name"] and "Countdown" in visible_columns(window)
    index = window.jobs_proxy.index(0, NAME)
    assert index.data(Qt.ItemDataRole.ToolTipRole)  # the full name is one hover away


def test_columns_hidden_while_narrow_come_back_in_the_next_wide_session(window, qtbot, data_dir):
    from desktop.app import create_window

    show_at(window, qtbot, 700)
    assert len(visible_columns(window)) < len(HEADERS)
    window.shutdown()  # saves the header state, hidden columns included
    again = create_window(data_dir)
    qtbot.addWidget(again, before_close_func=lambda w: w.shutdown())
    show_at(again, qtbot, 1280)
    assert visible_columns(again) == list(HEADERS)
    header = again.jobs_table.horizontalHeader()
    assert all(header.sectionSize(c) > 40 for c in range(len(HEADERS)))
    again.shutdown()


def test_the_toolbar_fits_a_narrow_window_without_a_chevron(window, qtbot):
    """At 820 px the toolbar's last buttons hid behind an overflow chevron; now it shows icons
    only when the text does not fit, and every button stays on screen and clickable."""
    from PySide6.QtWidgets import QToolButton

    window.service.import_jobs([JobSpec(name="Backup", command=("true",), trigger=CronSpec("0 3 * * *", TZ))])
    qtbot.waitUntil(lambda: window.jobs_proxy.rowCount() == 1, timeout=5000)
    bar = window.toolbar
    show_at(window, qtbot, 820)
    chevrons = [b for b in bar.findChildren(QToolButton) if b.objectName() == "qt_toolbar_ext_button"]
    assert not any(chevron.isVisible() for chevron in chevrons)
    actions = [action for action in bar.actions() if not action.isSeparator()]
    buttons = [bar.widgetForAction(action) for action in actions]
    assert all(button.isVisible() and bar.rect().contains(button.geometry()) for button in buttons)
    assert all(action.toolTip() for action in actions)  # the name is one hover away
    assert bar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly

    qtbot.mouseClick(bar.widgetForAction(window.job_actions.pause_all), Qt.MouseButton.LeftButton)  # the last group
    qtbot.waitUntil(lambda: all(spec.paused for spec in window.service.list_jobs()), timeout=3000)

    show_at(window, qtbot, 1280)  # room again: the words come back
    assert bar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    assert not any(chevron.isVisible() for chevron in chevrons)
