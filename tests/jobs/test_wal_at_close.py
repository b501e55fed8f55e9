"""A scheduling process empties the write-ahead log when it closes (jobs.db.truncate_wal), even
when a connection another thread opened is still there, and a whole-file check still running at
close is stopped first (its read transaction would pin the WAL): at 10,000 jobs / 10M runs the
WAL had grown to 237 MB over a day of window starts."""

from __future__ import annotations

import logging
import sqlite3
import sys
import time

import pytest

from jobs.model import CronSpec, JobSpec
from jobs.service import JobService
from tests.jobs.test_read_check import many_runs


def _wal_size(data_dir) -> int:
    wal = data_dir.database.with_name(data_dir.database.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def test_a_scheduling_service_leaves_an_empty_wal_though_another_connection_is_open(data_dir, qapp):
    service = JobService(data_dir)
    service.start()
    for n in range(20):
        service.add_job(JobSpec(name=f"Report {n}", command=(sys.executable, "-c", "pass"), trigger=CronSpec("0 3 * * *", "UTC")))
    lingering = sqlite3.connect(data_dir.database)  # as a worker thread's connection may be at exit
    try:
        lingering.execute("SELECT count(*) FROM job_definitions").fetchone()
        assert _wal_size(data_dir) > 0
        service.shutdown()
        assert _wal_size(data_dir) == 0
        assert lingering.execute("SELECT count(*) FROM job_definitions").fetchone() == (20,)  # all in the file
    finally:
        lingering.close()


def test_a_read_only_service_does_not_checkpoint(data_dir, qapp):
    """A command's service (no scheduler) reads; it leaves the file as it found it."""
    first = JobService(data_dir)
    first.start()
    first.add_job(JobSpec(name="Nightly", command=("true",), trigger=CronSpec("0 3 * * *", "UTC")))
    holder = sqlite3.connect(data_dir.database)
    holder.execute("SELECT 1 FROM job_definitions").fetchone()
    first.engine.dispose()  # as a crash would leave it: frames in the WAL
    before = _wal_size(data_dir)
    reader = JobService(data_dir, check_file=False)
    assert [spec.name for spec in reader.read_jobs()[0]] == ["Nightly"]
    reader.shutdown()
    assert _wal_size(data_dir) == before > 0
    holder.close()
    first.shutdown()


@pytest.mark.slow  # a 1,000,000-run store (~170 MB)
def test_a_whole_file_check_still_running_at_close_is_stopped(data_dir, qapp, caplog):
    many_runs(data_dir, 1_000_000)
    service = JobService(data_dir, defer_check=True)
    assert not service.db_check.finished.is_set()
    caplog.set_level(logging.INFO, logger="jobs.dbcheck")
    service.db_check.start()
    time.sleep(0.05)
    began = time.monotonic()
    service.shutdown()
    assert service.db_check.finished.is_set() and time.monotonic() - began < 2.0
    assert "database check stopped" in caplog.text and "no damage" not in caplog.text
