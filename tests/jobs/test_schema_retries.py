"""The schema-5 step of retries: runs gain attempt, attempts, first_run_id, retry_at and
retried_by; rows written before read as "attempt 1 of 1, no retry"."""

from __future__ import annotations

import sqlite3

from jobs.db import SCHEMA_VERSION, open_database
from jobs.history import HistoryRepository
from jobs.paths import ensure_private_dir
from jobs.records_json import run_json

RETRY_COLUMNS = ("attempt", "attempts", "first_run_id", "retry_at", "retried_by")


def test_a_schema_4_store_gains_the_retry_columns_and_its_runs_read_as_single_attempts(data_dir):
    ensure_private_dir(data_dir.root)
    open_database(data_dir.database).dispose()  # today's tables, then made into schema 4 by hand
    conn = sqlite3.connect(data_dir.database)
    for column in RETRY_COLUMNS:
        conn.execute(f"ALTER TABLE runs DROP COLUMN {column}")
    conn.execute("UPDATE jobdesk_meta SET value = '4' WHERE key = 'schema_version'")
    conn.execute("INSERT INTO runs (job_id, job_name, cause, status, queued_at, exit_code, output_bytes, truncated, "
                 "command, shell, env) VALUES ('a', 'Old', 'manual', 'failed', 1.0, 3, 12, 0, '[\"x\"]', 0, '{}')")
    conn.commit()
    conn.close()

    engine = open_database(data_dir.database)
    try:
        [old] = HistoryRepository(engine).query()
        assert (old.job_name, old.exit_code, old.attempt, old.attempts, old.first_run_id, old.retry_at,
                old.retried_by) == ("Old", 3, 1, 1, None, None, None)  # fmt: skip
        listed = run_json(old)
        assert (listed["attempt"], listed["attempts"], listed["first_run_id"]) == (1, 1, old.id)
        with engine.connect() as check:
            version = check.exec_driver_sql("SELECT value FROM jobdesk_meta WHERE key='schema_version'").scalar()
            columns = [row[1] for row in check.exec_driver_sql("PRAGMA table_info(runs)")]
        assert version == str(SCHEMA_VERSION) and set(RETRY_COLUMNS) <= set(columns)
    finally:
        engine.dispose()
    backup = sqlite3.connect(data_dir.database.with_name("jobdesk.sqlite3.v4.bak"))
    assert "attempt" not in [row[1] for row in backup.execute("PRAGMA table_info(runs)")]
    backup.close()
