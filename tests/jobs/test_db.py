"""The database opens safely: WAL on every connection, private files, bad files left untouched."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from jobs.db import SCHEMA_VERSION, DatabaseError, meta_table, open_database
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
