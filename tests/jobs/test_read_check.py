"""A read-only command's database check runs beside its work (jobs.dbcheck.ReadCheck, issue 10):
a small file is still checked whole before the answer, a big one only while the answer is made."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest

from jobs import dbcheck
from jobs.db import open_database
from jobs.list_local import checked_read, early_read_check
from jobs.paths import ensure_private_dir
from tests.jobs.test_db import corrupt_index, filled_store


def many_runs(data_dir, runs: int) -> None:
    """`runs` history rows in one statement (the history API would take minutes)."""
    ensure_private_dir(data_dir.root)
    open_database(data_dir.database).dispose()
    conn = sqlite3.connect(data_dir.database)
    conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                 "INSERT INTO runs (job_id, job_name, cause, status, queued_at, output_bytes, truncated, command, shell, env) "
                 "SELECT 'j' || (i % 1000), 'Job', 'scheduled', 'missed', i, 0, 0, '[]', 0, '{}' FROM n", (runs,))  # fmt: skip
    conn.commit()
    conn.close()


def test_a_small_damaged_file_is_found_even_when_the_answer_is_ready_at_once(data_dir):
    filled_store(data_dir)
    corrupt_index(data_dir.database)
    check = dbcheck.ReadCheck(data_dir.database)
    with pytest.raises(dbcheck.DamagedDatabase, match="is damaged \\(quick_check: "):
        check.result()


@pytest.mark.slow  # a 300,000-run store
def test_a_big_file_is_checked_only_until_the_answer_is_ready(data_dir):
    many_runs(data_dir, 300_000)
    assert dbcheck.check(data_dir.database, budget=60).complete  # given the time, it gets through
    check = dbcheck.ReadCheck(data_dir.database, budget=60, floor=0.0)
    result = check.result()  # the answer is ready at once: the check stops short
    assert not result.complete, result
    check = dbcheck.ReadCheck(data_dir.database, budget=60, floor=60.0)  # a floor past its end: checked whole
    assert check.result().complete


def _check_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "database-read-check"]


def test_a_command_check_started_before_its_imports_is_the_one_its_read_waits_for(data_dir):
    """`show` imports SQLAlchemy (~0.2 s) before it reads: the check started at the command's
    start (early_read_check) runs beside that, and the read takes it over instead of starting one."""
    many_runs(data_dir, 100_000)  # ~17 MB: checked whole, in ~0.07 s here
    assert data_dir.database.stat().st_size <= dbcheck.WHOLE_READ_CHECK_BYTES
    with early_read_check(data_dir, reads=True):
        early = _check_threads()
        with checked_read(data_dir):
            assert _check_threads() == early and len(early) == 1
    with checked_read(data_dir):  # unclaimed early checks do not outlive their command
        assert len(_check_threads()) == 1 and _check_threads() != early


@pytest.mark.slow  # a 300,000-run store (~50 MB)
def test_a_big_file_read_checks_its_small_tables_only(data_dir):
    many_runs(data_dir, 300_000)
    assert data_dir.database.stat().st_size > dbcheck.WHOLE_READ_CHECK_BYTES
    begun = time.monotonic()
    result = dbcheck.read_check(data_dir.database).result()
    assert not result.complete and time.monotonic() - begun < dbcheck.READ_FLOOR, result  # no floor
    corrupt_index(data_dir.database, "sqlite_autoindex_job_definitions_1")
    with pytest.raises(dbcheck.DamagedDatabase, match="is damaged"):
        dbcheck.read_check(data_dir.database).result()


@pytest.mark.slow  # a 300,000-run store (~50 MB)
def test_damage_in_a_big_file_that_only_the_read_meets_is_said_as_damage_with_the_file_left_as_it_was(data_dir):
    """A big file's read checks the small tables only: a damaged runs index is met by the read
    itself. The user gets the damage message (file, how to recover), never a traceback."""
    from tests.jobs.serve_process import jobdesk

    many_runs(data_dir, 300_000)
    assert data_dir.database.stat().st_size > dbcheck.WHOLE_READ_CHECK_BYTES
    corrupt_index(data_dir.database, "ix_runs_job_id_id")
    before = data_dir.database.read_bytes()
    done = jobdesk(data_dir, "history", "--job", "j7", "--limit", "5")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"jobdesk: {data_dir.database} is damaged (database disk image is malformed)")
    assert ".recover" in done.stderr and done.stderr.count("\n") == 1
    assert data_dir.database.read_bytes() == before


def test_a_read_failing_for_another_reason_is_not_called_damage(tmp_path):
    assert dbcheck.damage_in_read(tmp_path / "x.sqlite3", sqlite3.OperationalError("database is locked")) is None
    assert dbcheck.damage_in_read(tmp_path / "x.sqlite3", ValueError("no")) is None
