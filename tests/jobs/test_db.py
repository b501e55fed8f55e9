"""The database opens safely: WAL on every connection, private files, bad files left untouched."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from jobs.db import PAGE_CACHE_KIB, SCHEMA_VERSION, DatabaseError, meta_table, open_database
from jobs.paths import ensure_private_dir


def test_new_database_is_wal_with_busy_timeout_and_schema_version(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        version = conn.execute(meta_table.select()).all()
    engine.dispose()
    assert ("schema_version", str(SCHEMA_VERSION)) in [tuple(row) for row in version]


def test_every_connection_caps_its_page_cache(data_dir):
    """Pooled connections each keep a page cache; at 10 million runs the default 2 MiB each was
    25-40 MiB of the window's peak memory (issue 10)."""
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    try:
        with engine.connect() as first, engine.connect() as second:  # two pooled connections
            for conn in (first, second):
                assert conn.execute(text("PRAGMA cache_size")).scalar() == -PAGE_CACHE_KIB == -256
    finally:
        engine.dispose()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_data_dir_and_database_are_private(data_dir):
    ensure_private_dir(data_dir.root)
    open_database(data_dir.database).dispose()
    assert stat.S_IMODE(data_dir.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(data_dir.database.stat().st_mode) == 0o600


def test_a_file_that_is_not_sqlite_is_refused_and_left_unchanged(data_dir):
    ensure_private_dir(data_dir.root)
    data_dir.database.write_bytes(b"this is my shopping list, not a database" * 100)
    before = data_dir.database.read_bytes()
    with pytest.raises(DatabaseError, match="cannot be opened as a Jobdesk database"):
        open_database(data_dir.database)
    assert data_dir.database.read_bytes() == before


def test_a_foreign_sqlite_database_is_refused(data_dir):
    import sqlite3

    ensure_private_dir(data_dir.root)
    conn = sqlite3.connect(data_dir.database)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseError, match="not a Jobdesk database .*invoices"):
        open_database(data_dir.database)


def test_a_database_from_a_newer_jobdesk_is_refused(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    with engine.begin() as conn:
        conn.execute(meta_table.update().values(value=str(SCHEMA_VERSION + 1)))
    engine.dispose()
    with pytest.raises(DatabaseError, match="newer Jobdesk"):
        open_database(data_dir.database)


def test_reopening_keeps_data(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    with engine.begin() as conn:
        conn.execute(meta_table.insert().values(key="probe", value="kept"))
    engine.dispose()
    engine = open_database(data_dir.database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM jobdesk_meta WHERE key='probe'")).scalar() == "kept"
    engine.dispose()


# The runs table as schema 1 made it (before the columns of the runner seam).
V1_RUNS = """CREATE TABLE runs (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, job_id VARCHAR NOT NULL,
    job_name VARCHAR NOT NULL, cause VARCHAR NOT NULL, status VARCHAR NOT NULL, scheduled_at FLOAT,
    queued_at FLOAT, started_at FLOAT, ended_at FLOAT, exit_code INTEGER, log_path VARCHAR,
    output_bytes INTEGER NOT NULL, truncated BOOLEAN NOT NULL, error TEXT, command TEXT NOT NULL,
    shell BOOLEAN NOT NULL, cwd VARCHAR, env TEXT NOT NULL)"""


def test_schema_1_is_migrated_with_a_backup_and_keeps_its_runs(data_dir):
    import sqlite3

    from jobs.history import HistoryRepository

    ensure_private_dir(data_dir.root)
    conn = sqlite3.connect(data_dir.database)
    conn.execute("CREATE TABLE jobdesk_meta (key VARCHAR NOT NULL PRIMARY KEY, value VARCHAR NOT NULL)")
    conn.execute("INSERT INTO jobdesk_meta VALUES ('schema_version', '1')")
    conn.execute("CREATE TABLE job_definitions (id VARCHAR NOT NULL PRIMARY KEY, name VARCHAR NOT NULL, "
                 "paused BOOLEAN NOT NULL, spec TEXT NOT NULL, created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL)")
    conn.execute(V1_RUNS)
    conn.execute("INSERT INTO runs (job_id, job_name, cause, status, queued_at, exit_code, output_bytes, truncated, "
                 "command, shell, env) VALUES ('a', 'Old', 'manual', 'failed', 1.0, 3, 12, 0, '[\"x\"]', 0, '{}')")
    conn.commit()
    conn.close()

    engine = open_database(data_dir.database)
    try:
        [old] = HistoryRepository(engine).query()
        assert (old.job_name, old.exit_code, old.output_bytes) == ("Old", 3, 12)
        assert (old.runner, old.pid, old.process_started_at, old.ran_on, old.handle) == (None,) * 5
        with engine.connect() as conn2:
            assert conn2.execute(text("SELECT value FROM jobdesk_meta WHERE key='schema_version'")).scalar() == str(SCHEMA_VERSION)
    finally:
        engine.dispose()
    backup = sqlite3.connect(data_dir.database.with_name("jobdesk.sqlite3.v1.bak"))
    assert backup.execute("SELECT value FROM jobdesk_meta").fetchall() == [("1",)]
    assert [row[1] for row in backup.execute("PRAGMA table_info(runs)")][-1] == "env"  # as it was
    backup.close()


# --- damage (issue 9 item 3) -------------------------------------------------------------------


def filled_store(data_dir, runs: int = 3000):
    """A store with enough history that its indexes span several pages."""
    from datetime import datetime, timezone

    from jobs.history import HistoryRepository
    from jobs.model import CronSpec, JobSpec, RunCause, RunStatus

    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    history = HistoryRepository(engine)
    job = JobSpec(id="j1", name="Nightly", command=("true",), trigger=CronSpec("0 0 * * *", "UTC"))
    history.create_many([(job, RunCause.SCHEDULED, RunStatus.MISSED, datetime.now(timezone.utc), "m")] * runs)
    engine.dispose()  # the last connection checkpoints the WAL into the file


def corrupt_index(database, index: str = "ix_runs_job_id_id") -> None:
    """4 KiB of noise over the index's root page, as a bad disk sector would leave it."""
    import random
    import sqlite3

    conn = sqlite3.connect(database)
    root, = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (index,)).fetchone()
    page_size, = conn.execute("PRAGMA page_size").fetchone()
    conn.close()
    with open(database, "r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(random.Random(7).randbytes(page_size))


def test_a_damaged_index_is_refused_naming_the_file_and_how_to_recover(data_dir):
    filled_store(data_dir)
    corrupt_index(data_dir.database)
    before = data_dir.database.read_bytes()
    with pytest.raises(DatabaseError) as caught:
        open_database(data_dir.database)
    message = str(caught.value)
    assert message.startswith(f"{data_dir.database} is damaged (quick_check: ")
    assert ".recover" in message and "\n" not in message
    assert data_dir.database.read_bytes() == before
    assert sorted(p.name for p in data_dir.root.iterdir()) == ["jobdesk.sqlite3"]  # no -wal/-shm made


def test_a_check_past_its_budget_is_finished_later_and_finds_the_damage(data_dir):
    from jobs import dbcheck
    from jobs.db import open_checked_database

    filled_store(data_dir, runs=20000)
    engine, checked = open_checked_database(data_dir.database, check_budget=0.0)
    engine.dispose()
    assert not checked.complete
    assert dbcheck.full_check(data_dir.database) is None
    corrupt_index(data_dir.database, "ix_runs_queued_at")
    open_checked_database(data_dir.database, check_budget=0.0)[0].dispose()  # not reached in budget
    assert "is damaged (quick_check: " in dbcheck.full_check(data_dir.database)


def test_a_truncated_database_is_not_taken_for_a_new_one(data_dir):
    filled_store(data_dir)
    (data_dir.logs / "j1").mkdir(parents=True)  # a run's log: the store was used
    data_dir.database.write_bytes(b"")
    with pytest.raises(DatabaseError, match=r"is empty \(0 bytes\), but this data directory was used before "
                                            r"\(run logs in logs/\)"):
        open_database(data_dir.database)
    assert data_dir.database.stat().st_size == 0


def test_an_empty_file_in_an_unused_directory_is_a_new_store(data_dir):
    ensure_private_dir(data_dir.root)
    data_dir.database.write_bytes(b"")
    open_database(data_dir.database).dispose()
    assert data_dir.database.stat().st_size > 0
