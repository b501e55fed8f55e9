"""The window's database check after the first paint (desktop.startup, issue 10): the open
checks only the small tables, the rest runs on a worker once the window is painted, and
scheduling waits for it. A damaged file is still said for good and is left byte for byte as
it was; a sound one gets scheduled."""

from __future__ import annotations

import hashlib
import sys
from datetime import datetime, timezone

import pytest
from PySide6.QtCore import QEvent, QObject

from desktop import startup
from jobs.model import CronSpec, JobSpec
from tests.jobs.test_db import corrupt_index, filled_store


def _store_with_a_job(data_dir, runs: int) -> str:
    from jobs.service import JobService

    filled_store(data_dir, runs=runs)
    service = JobService(data_dir)
    saved = service.add_job(JobSpec(name="Nightly", command=(sys.executable, "-c", "pass"), trigger=CronSpec("0 3 * * *", "UTC")))
    service.shutdown()
    return saved.id


class CheckAtFirstPaint(QObject):
    """Notes whether the database check had begun when the window first painted."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.started_at_paint: object = "no paint"
        window.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and self.started_at_paint == "no paint":
            self.started_at_paint = self.window.service.db_check.started_at
        return False


def _open(data_dir, qtbot):
    from desktop.app import create_window

    window = create_window(data_dir, start=False, defer_check=True)
    qtbot.addWidget(window, before_close_func=lambda w: w.shutdown())
    paint = CheckAtFirstPaint(window)
    sequence = startup.install(window)
    window.resize(1000, 700)
    window.show()
    sequence.begin()
    return window, paint


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_damaged_file_opens_paints_then_is_said_damaged_and_never_written(data_dir, qtbot):
    _store_with_a_job(data_dir, runs=20000)
    corrupt_index(data_dir.database, "ix_runs_queued_at")  # not a small table: the open does not see it
    before = _digest(data_dir.database)
    window, paint = _open(data_dir, qtbot)
    try:
        qtbot.waitExposed(window)
        notice = window.damage_notice
        qtbot.waitUntil(notice.isVisible, timeout=20_000)
        assert paint.started_at_paint is None  # the check began after the first paint
        assert f"{data_dir.database} is damaged" in notice.plain_text() and ".recover" in notice.plain_text()
        assert window.status.state_label.text() == "Not starting runs: database damaged"
        qtbot.wait(startup.POLL_MS * 4)
        assert window.start_sequence.done and not window.service.scheduling  # nothing scheduled over it
    finally:
        window.shutdown()
    wal = data_dir.database.with_name(data_dir.database.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    assert _digest(data_dir.database) == before  # not a byte written


def test_a_sound_file_is_checked_after_the_first_paint_then_scheduled(data_dir, qtbot):
    job_id = _store_with_a_job(data_dir, runs=20000)
    window, paint = _open(data_dir, qtbot)
    try:
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window.jobs_model.row_of(job_id) is not None, timeout=10_000)
        sequence = window.start_sequence
        qtbot.waitUntil(lambda: sequence.done and sequence.schedule_start.done, timeout=20_000)  # in stages
        assert window.service.scheduling and window.service.scheduler.state == 1  # running, not paused
        assert window.service.next_run_times()[job_id] > datetime.now(timezone.utc)
        assert paint.started_at_paint is None
        assert window.service.db_check.finished.is_set() and window.service.damage is None
        assert not window.damage_notice.isVisible()
    finally:
        window.shutdown()


def test_a_file_that_opening_would_change_is_checked_in_full_first(data_dir):
    """Deferring is only for a file the open leaves as it is: a schema migration (a write)
    waits for the open's whole check, and so a damaged file is refused before it."""
    import sqlite3

    from jobs.db import DatabaseError, open_checked_database

    _store_with_a_job(data_dir, runs=3000)
    conn = sqlite3.connect(data_dir.database)
    conn.execute("UPDATE jobdesk_meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    corrupt_index(data_dir.database, "ix_runs_queued_at")
    before = _digest(data_dir.database)
    with pytest.raises(DatabaseError, match="is damaged"):
        open_checked_database(data_dir.database, defer_check=True)
    assert _digest(data_dir.database) == before
