"""The schema step for conditions and alerts: runs gain `waiting_for` and `alerts`, with a backup
of the file first, and rows written before it read as "never waited, no alerts"."""

from __future__ import annotations

import sqlite3

from jobs.db import SCHEMA_VERSION, open_database
from jobs.history import HistoryRepository
from jobs.paths import ensure_private_dir


def test_a_schema_2_store_gains_the_columns_with_a_backup_and_keeps_its_runs(data_dir):
    ensure_private_dir(data_dir.root)
    open_database(data_dir.database).dispose()  # today's tables, then made into schema 2 by hand
    conn = sqlite3.connect(data_dir.database)
    conn.execute("ALTER TABLE runs DROP COLUMN waiting_for")
    conn.execute("ALTER TABLE runs DROP COLUMN alerts")
    conn.execute("UPDATE jobdesk_meta SET value = '2' WHERE key = 'schema_version'")
    conn.execute("INSERT INTO runs (job_id, job_name, cause, status, queued_at, exit_code, output_bytes, truncated, "
                 "command, shell, env) VALUES ('a', 'Old', 'manual', 'failed', 1.0, 3, 12, 0, '[\"x\"]', 0, '{}')")
    conn.commit()
    conn.close()

    engine = open_database(data_dir.database)
    try:
        [old] = HistoryRepository(engine).query()
        assert (old.job_name, old.exit_code, old.waiting_for, old.alerts) == ("Old", 3, None, ())
        with engine.connect() as check:
            version = check.exec_driver_sql("SELECT value FROM jobdesk_meta WHERE key='schema_version'").scalar()
            columns = [row[1] for row in check.exec_driver_sql("PRAGMA table_info(runs)")]
        assert version == str(SCHEMA_VERSION) and {"waiting_for", "alerts"} <= set(columns)
    finally:
        engine.dispose()
    backup = sqlite3.connect(data_dir.database.with_name("jobdesk.sqlite3.v2.bak"))
    assert "waiting_for" not in [row[1] for row in backup.execute("PRAGMA table_info(runs)")]  # as it was
    backup.close()
