"""The in-window notification (the fallback when there is neither a tray nor a desktop
notification service) must not move anything: a banner that pushed the UI down ~30 px made a
user click the wrong job's Pause."""

from __future__ import annotations

import sys

from PySide6.QtCore import QPoint, QRect, Qt

from jobs import triggers
from jobs.model import CronSpec, JobSpec, Notify, RunStatus

TZ = triggers.local_timezone_name()


def rect_in_window(window, widget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def test_a_notification_does_not_move_the_jobs_table(window, qtbot):
    spec = window.service.add_job(JobSpec(name="Fails", command=(sys.executable, "-c", "raise SystemExit(3)"),
                                          trigger=CronSpec("0 3 * * *", TZ), notify=Notify.FAILURE))  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_model.row_of(spec.id) is not None, timeout=5000)
    window.resize(1180, 760)
    window.show()
    qtbot.waitExposed(window)
    before = {name: rect_in_window(window, widget) for name, widget in
              (("table", window.jobs_table), ("filter", window.filter_edit), ("tabs", window.tabs.tabBar()))}  # fmt: skip

    window.service.run_now(spec.id)
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    qtbot.wait(50)  # any relayout has happened
    assert window.notifier.last is not None and window.notifier.last[0] == "banner"
    assert "Fails failed" in window.banner.text_label.full_text()
    after = {name: rect_in_window(window, widget) for name, widget in
             (("table", window.jobs_table), ("filter", window.filter_edit), ("tabs", window.tabs.tabBar()))}  # fmt: skip
    assert after == before
    banner = rect_in_window(window, window.banner)
    tab_labels = window.tabs.tabBar().tabRect(window.tabs.count() - 1).translated(before["tabs"].topLeft())
    assert not banner.intersects(before["table"]) and not banner.intersects(before["filter"])
    assert banner.left() > tab_labels.right()  # the tab labels stay clickable
    assert banner.width() >= 300 and window.banner.view_button.isVisible()

    qtbot.mouseClick(window.banner.close_button, Qt.MouseButton.LeftButton)
    assert not window.banner.isVisible()
    assert rect_in_window(window, window.jobs_table) == before["table"]
    record = window.service.last_runs([spec.id])[spec.id]
    assert record.status is RunStatus.FAILED
