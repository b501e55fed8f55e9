"""Times of a job in another zone are labelled with that zone wherever they are shown (jobs
table, Upcoming, detail strip, editor preview): "At 08:00 (Europe/Paris)" next to an unlabelled
"Mon 7 Dec 07:00" read as a bug."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt

from desktop.joblist.model import NAME, NEXT_RUN
from desktop.upcoming_model import JOB, TIME
from jobs import triggers
from jobs.model import CronSpec, JobSpec
from tests.desktop.clicks import click_index

LOCAL = triggers.local_timezone_name()


def foreign_zone() -> str:
    """A zone whose offset differs from this machine's right now."""
    now = datetime.now(timezone.utc)
    local_offset = now.astimezone().utcoffset()
    return next(z for z in ("Asia/Kolkata", "Asia/Tokyo", "America/New_York") if now.astimezone(ZoneInfo(z)).utcoffset() != local_offset)


def test_times_of_a_job_in_another_zone_say_so(window, qtbot):
    zone = foreign_zone()
    abbreviation = datetime.now(ZoneInfo(zone)).tzname()
    away, home = window.service.import_jobs([
        JobSpec(name="Away", command=("true",), trigger=CronSpec("0 8 * * *", zone)),
        JobSpec(name="Home", command=("true",), trigger=CronSpec("0 9 * * *", LOCAL)),
    ])  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_proxy.rowCount() == 2 and window.upcoming_model.rowCount() > 0
                    and not window.loader.busy, timeout=5000)  # fmt: skip
    model = window.jobs_model
    away_next = model.index(model.row_of(away.id), NEXT_RUN).data()
    home_next = model.index(model.row_of(home.id), NEXT_RUN).data()
    assert f"(08:00 {abbreviation})" in away_next, away_next
    assert "(" not in home_next, home_next  # the local zone needs no label
    assert zone in model.index(model.row_of(away.id), NEXT_RUN).data(Qt.ItemDataRole.ToolTipRole)

    upcoming = window.upcoming_model
    texts = {upcoming.index(r, JOB).data(): upcoming.index(r, TIME).data() for r in range(upcoming.rowCount())}
    assert f"(08:00 {abbreviation})" in texts["Away"] and "(" not in texts["Home"]

    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    proxy = window.jobs_proxy
    away_row = next(r for r in range(proxy.rowCount()) if proxy.index(r, NAME).data() == "Away")
    click_index(qtbot, window.jobs_table, proxy.index(away_row, NAME))
    assert f"08:00 {abbreviation}" in window.detail.label.full_text()
    qtbot.waitUntil(window.jobs_table.hasFocus, timeout=2000)

    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Return)  # the editor's preview: the job's zone, and local
    editor = window.job_actions.editor
    first = editor.ui.preview.model.texts()[0]
    assert first.endswith("local)") and abbreviation in first, first
    editor.reject()
    qtbot.waitUntil(lambda: window.job_actions.editor is None, timeout=2000)

    home_row = next(r for r in range(proxy.rowCount()) if proxy.index(r, NAME).data() == "Home")
    click_index(qtbot, window.jobs_table, proxy.index(home_row, NAME))
    qtbot.keyClick(window.jobs_table, Qt.Key.Key_Return)
    editor = window.job_actions.editor
    assert "local)" not in editor.ui.preview.model.texts()[0]  # same zone as this machine: no repeat
    editor.reject()
