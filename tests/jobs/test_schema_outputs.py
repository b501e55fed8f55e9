"""Schema 5 (outputs): a schema-4 file gains the `outputs` and `environment` columns and its old
runs read back with neither; new runs keep both."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from sqlalchemy import text

from jobs.db import SCHEMA_VERSION, open_database
from jobs.history import HistoryRepository
from jobs.model import CronSpec, JobSpec, RunCause, RunOutcome, RunStatus
from jobs.paths import ensure_private_dir
from jobs.run_facts import OutputFile, RunEnvironment, ScriptFile

JOB = JobSpec(id="j1", name="Sales", command=("python3", "report.py"), trigger=CronSpec("0 9 * * *", "UTC"))


def schema_4_file(data_dir) -> None:
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    HistoryRepository(engine).create(JOB, RunCause.MANUAL, RunStatus.FAILED, error="old")
    engine.dispose()
    conn = sqlite3.connect(data_dir.database)
    conn.execute("ALTER TABLE runs DROP COLUMN outputs")
    conn.execute("ALTER TABLE runs DROP COLUMN environment")
    conn.execute("UPDATE jobdesk_meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def test_a_schema_4_file_keeps_its_runs_and_stores_outputs_and_environment_after_migrating(data_dir):
    schema_4_file(data_dir)
    engine = open_database(data_dir.database)
    try:
        history = HistoryRepository(engine)
        [old] = history.query()
        assert (old.job_name, old.error, old.outputs, old.environment) == ("Sales", "old", (), None)
        run_id = history.create(JOB, RunCause.MANUAL, RunStatus.RUNNING)
        environment = RunEnvironment("/usr/bin/python3", (ScriptFile("/r/report.py", 10, 1.5, "ab" * 32, 10),),
                                     "/r", (("REGION", "north"),), "0.1.0", "desk")
        outputs = (OutputFile("/r/sales.pdf", 40, 2.5),)
        history.finish(run_id, RunOutcome(RunStatus.SUCCEEDED, 0, datetime.now(timezone.utc),
                                          datetime.now(timezone.utc), outputs=outputs, environment=environment))
        new = history.get(run_id)
        assert new is not None and (new.outputs, new.environment) == (outputs, environment)
        assert history.last_success_before("j1", run_id + 1) == new and history.last_success_before("j1", run_id) is None
        with engine.connect() as conn:
            version = conn.execute(text("SELECT value FROM jobdesk_meta WHERE key='schema_version'")).scalar()
        assert version == str(SCHEMA_VERSION)
    finally:
        engine.dispose()
    backup = sqlite3.connect(data_dir.database.with_name("jobdesk.sqlite3.v4.bak"))
    assert "environment" not in [row[1] for row in backup.execute("PRAGMA table_info(runs)")]
    backup.close()


def test_a_damaged_environment_value_reads_as_not_recorded(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    try:
        history = HistoryRepository(engine)
        run_id = history.create(JOB, RunCause.MANUAL, RunStatus.FAILED)
        with engine.begin() as conn:
            conn.execute(text("UPDATE runs SET environment = '{\"scripts\": 3}', outputs = 'nope' WHERE id = :i"),
                         {"i": run_id})
        run = history.get(run_id)
        assert run is not None and (run.environment, run.outputs) == (None, ())
    finally:
        engine.dispose()
