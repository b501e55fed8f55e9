"""The parts of remote runs (issue 11) that need no Redis: the broker URL (checked, masked),
`runs_on` in definitions and on the command line, schema 3, the local copy of a remote log,
worker liveness, and that a user without a broker never loads Celery."""

from __future__ import annotations

import errno
import json
import sqlite3
import sys

import pytest

from jobs.codec import JobValidationError, job_from_dict, job_to_dict
from jobs.remote import broker
from jobs.remote.registry import Liveness, Snapshot, WorkerInfo
from jobs.remote.remote_log import RemoteLog
from jobs.runlog import stderr_ranges
from tests.jobs.serve_process import jobdesk

# --- the broker URL --------------------------------------------------------------------------------

MASKED = [
    ("redis://:s3cret@host:6379/0", "redis://:****@host:6379/0"),
    ("rediss://user:s3cret@host:6380/1", "rediss://user:****@host:6380/1"),
    ("redis://host:6379/0", "redis://host:6379/0"),
    ("redis://s3cret@host", "redis://****@host"),
]


@pytest.mark.parametrize("url,shown", MASKED)
def test_a_broker_url_is_shown_without_its_password(url, shown):
    assert broker.mask(url) == shown
    assert "s3cret" not in broker.address(url)


BAD_URLS = [
    ("http://host:6379", "must be redis://"),
    ("redis://:pw@:6379/0", "no host"),
    ("redis://:pw@host:99999/0", "port is not a number"),
    ("redis://:pw@host:6379/zero", "database after the host must be a number"),
]


@pytest.mark.parametrize("url,why", BAD_URLS)
def test_a_bad_broker_url_is_refused_saying_why_without_the_password(url, why):
    with pytest.raises(broker.BrokerUrlError) as caught:
        broker.check(url)
    assert why in str(caught.value) and "pw@" not in str(caught.value)


def test_unreachable_names_the_address_and_the_reason_only():
    refused = ConnectionError("Error 111 connecting to host:6379.")
    refused.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    assert broker.unreachable("redis://:pw@host:6379/0", refused) == "broker unreachable: redis://host:6379 (connection refused)"
    assert broker.unreachable("rediss://h", TimeoutError()) == "broker unreachable: rediss://h:6379 (timed out)"


def test_config_broker_is_stored_masked_in_print_and_checked(data_dir):
    assert jobdesk(data_dir, "config", "broker", "redis://:s3cret@db.example:6379/0").returncode == 0
    shown = jobdesk(data_dir, "config")
    assert "broker = redis://:****@db.example:6379/0" in shown.stdout and "s3cret" not in shown.stdout
    bad = jobdesk(data_dir, "config", "broker", "http://:s3cret@x")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "s3cret" not in bad.stderr
    assert "broker = redis://:****@db.example:6379/0" in jobdesk(data_dir, "config").stdout  # unchanged
    assert jobdesk(data_dir, "config", "broker", "").returncode == 0
    assert "broker = \n" in jobdesk(data_dir, "config").stdout + "\n"


# --- runs_on -----------------------------------------------------------------------------------------


def test_runs_on_goes_through_definitions_and_toml():
    spec = job_from_dict({"name": "n", "command": ["x"], "trigger": {"type": "cron", "expression": "0 0 * * *"},
                          "runs_on": "gpu"})
    assert spec.runs_on == "gpu" and job_to_dict(spec)["runs_on"] == "gpu"
    assert "runs_on" not in job_to_dict(job_from_dict({**job_to_dict(spec), "runs_on": ""}))
    with pytest.raises(JobValidationError) as caught:
        job_from_dict({**job_to_dict(spec), "runs_on": "two words"})
    assert caught.value.field == "runs_on" and "not a pool name" in caught.value.message


def test_add_on_a_bad_pool_is_refused_naming_the_option(data_dir):
    bad = jobdesk(data_dir, "add", "--name", "x", "--every", "1h", "--on", "../gpu", "--", "true")
    assert bad.returncode == 2 and bad.stderr.startswith("jobdesk add: --on: '../gpu' is not a pool name")
    assert jobdesk(data_dir, "list", "--json").stdout.strip() == "[]"


def test_a_run_on_a_pool_without_a_broker_fails_saying_how_to_set_one(data_dir):
    job = jobdesk(data_dir, "add", "--name", "x", "--every", "1h", "--on", "gpu", "--", "true").stdout.strip()
    ran = jobdesk(data_dir, "run", job, "--wait", "--json")
    run = json.loads(ran.stdout)
    assert ran.returncode == 1 and run["status"] == "failed" and run["pool"] is None
    assert run["error"] == "no broker configured: set one with `jobdesk config broker redis://:PASSWORD@host:6379/0`"
    shown = jobdesk(data_dir, "show", job)
    assert "runs on:   pool gpu" in shown.stdout


def test_worker_and_workers_refuse_missing_or_bad_input(data_dir):
    env = {"JOBDESK_BROKER": None}
    no_broker = jobdesk(data_dir, "worker", "--pool", "gpu", env=env)
    assert no_broker.returncode == 2 and "no broker" in no_broker.stderr and no_broker.stderr.count("\n") == 1
    bad_pool = jobdesk(data_dir, "worker", "--pool", "a b", "--broker", "redis://h", env=env)
    assert bad_pool.returncode == 2 and "--pool: 'a b' is not a pool name" in bad_pool.stderr
    many = jobdesk(data_dir, "worker", "--pool", "gpu", "--concurrency", "0", env={"JOBDESK_BROKER": "redis://h"})
    assert many.returncode == 2 and "--concurrency" in many.stderr
    nothing = jobdesk(data_dir, "workers", env=env)
    assert nothing.returncode == 2 and "no broker configured" in nothing.stderr


def test_commands_of_a_user_without_a_broker_never_import_celery_or_redis(data_dir, tmp_path):
    for name in ("celery", "redis", "kombu"):
        package = tmp_path / "poison" / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"raise ImportError('{name} imported without a broker')\n")
    env = {"PYTHONPATH": str(tmp_path / "poison")}
    job = jobdesk(data_dir, "add", "--name", "local", "--every", "1h", "--", sys.executable, "-c", "print(1)", env=env)
    assert job.returncode == 0, job.stderr
    for args in (("list",), ("show", job.stdout.strip()), ("history",), ("run", job.stdout.strip(), "--wait"), ("config",)):
        result = jobdesk(data_dir, *args, env=env)
        assert result.returncode == 0, (args, result.stderr)


def test_what_a_worker_imports_holds_no_qt():
    """The worker's modules, imported as `jobdesk worker` does (its processes also run with
    PySide6 unimportable in tests/jobs/test_remote_run.py)."""
    import subprocess

    code = ("import sys, jobs.cli, jobs.cli_remote, jobs.remote.worker, jobs.remote.task, jobs.remote.celery_app; "
            "jobs.cli.build_parser(); print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- the task's argument and outcome: expected outputs and environment -----------------------------


def test_expected_outputs_and_the_environment_travel_both_ways():
    from datetime import datetime, timezone
    from pathlib import Path

    from jobs.model import RunOutcome, RunRequest, RunStatus
    from jobs.remote.protocol import outcome_from_dict, outcome_to_dict, payload, request_from_payload
    from jobs.run_facts import OutputFile, RunEnvironment, ScriptFile

    request = RunRequest(("python3", "r.py"), Path("/x.log"), cwd="/srv", expect=("out/a-2026-12-01.csv", "*.pdf"))
    data = json.loads(json.dumps(payload(request, 0.1)))  # what Celery carries: JSON
    assert request_from_payload(data, Path("/w.log")).expect == ("out/a-2026-12-01.csv", "*.pdf")
    environment = RunEnvironment("/usr/bin/python3", (ScriptFile("/srv/r.py", 12, 1.5, "ab" * 32, 12),), "/srv",
                                 (("REGION", "eu"),), "1.0", "worker-1")
    outcome = RunOutcome(RunStatus.FAILED, 0, datetime(2026, 12, 1, tzinfo=timezone.utc),
                         datetime(2026, 12, 1, 0, 0, 1, tzinfo=timezone.utc), error="expected output /srv/b.csv is empty",
                         outputs=(OutputFile("/srv/b.csv", 0, 2.5),), environment=environment)
    assert outcome_from_dict(json.loads(json.dumps(outcome_to_dict(outcome)))) == outcome


def test_a_worker_of_the_previous_version_sends_neither_and_breaks_nothing():
    """Its payload has no `expect` (a request from an older desktop), its outcome no `outputs` nor
    `environment`; damaged ones read as none too, and the outcome itself is kept."""
    from pathlib import Path

    from jobs.model import RunStatus
    from jobs.remote.protocol import outcome_from_dict, request_from_payload

    old_payload = {"v": 1, "command": ["true"], "shell": False, "cwd": "/tmp", "env": {}, "run_id": 3, "job_id": "j"}
    assert request_from_payload(old_payload, Path("/w.log")).expect == ()
    old = {"status": "succeeded", "exit_code": 0, "started_at": 1.0, "ended_at": 2.0, "output_bytes": 5}
    for extra in ({}, {"outputs": None, "environment": None}, {"outputs": [{"path": "/a"}], "environment": "junk"},
                  {"outputs": "junk", "environment": {"scripts": [{"path": "/a"}]}}):
        outcome = outcome_from_dict({**old, **extra})
        assert outcome.status is RunStatus.SUCCEEDED and outcome.output_bytes == 5, extra
        assert outcome.outputs == () and outcome.environment is None, extra


# --- schema 4 ------------------------------------------------------------------------------------


def test_schema_3_gains_the_pool_column_with_a_backup(data_dir):
    from jobs.db import SCHEMA_VERSION, open_database
    from jobs.history import HistoryRepository
    from jobs.paths import ensure_private_dir

    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    engine.dispose()
    conn = sqlite3.connect(data_dir.database)  # back to what schema 3 had: no pool column
    conn.execute("ALTER TABLE runs DROP COLUMN pool")
    conn.execute("UPDATE jobdesk_meta SET value = '3' WHERE key = 'schema_version'")
    conn.execute("INSERT INTO runs (job_id, job_name, cause, status, queued_at, output_bytes, truncated, command, "
                 "shell, env, runner) VALUES ('a', 'Old', 'manual', 'succeeded', 1.0, 0, 0, '[]', 0, '{}', 'local')")
    conn.commit()
    conn.close()
    engine = open_database(data_dir.database)
    try:
        [old] = HistoryRepository(engine).query()
        assert old.job_name == "Old" and old.pool is None and old.runner == "local"
    finally:
        engine.dispose()
    conn = sqlite3.connect(data_dir.database)
    [(version,)] = conn.execute("SELECT value FROM jobdesk_meta WHERE key = 'schema_version'")
    conn.close()
    assert int(version) == SCHEMA_VERSION  # migrated all the way, whatever today's number is
    backup = sqlite3.connect(data_dir.database.with_name("jobdesk.sqlite3.v3.bak"))
    assert "pool" not in [row[1] for row in backup.execute("PRAGMA table_info(runs)")]
    backup.close()


# --- the local copy of a remote log ---------------------------------------------------------------


def test_a_remote_log_keeps_stderr_ranges_and_a_resumed_one_skips_what_it_has(tmp_path):
    path = tmp_path / "7.log"
    first = RemoteLog(path)
    first.feed("out\n", "stdout")
    first.feed("err\n", "stderr")
    first.abandon()
    # Jobdesk stops here; the stream is read again from its start by the next one.
    again = RemoteLog(path, resume=True)
    assert again.feed("out\n", "stdout") == "" and again.feed("er", "stderr") == ""
    assert again.feed("r\nmore\n", "stderr") == "more\n"
    again.close(["exit code 3 is no note", "terminated 1 leftover process"][1:])
    data = path.read_bytes()
    assert data == b"out\nerr\nmore\n[jobdesk] terminated 1 leftover process\n"
    assert stderr_ranges(path) == [(4, 13)]


# --- liveness --------------------------------------------------------------------------------------


def worker(node: str, beat: int, at: float, active: tuple[str, ...] = ()) -> WorkerInfo:
    return WorkerInfo(node, "gpu", "h", 1, 2, active, beat, at)


def test_a_worker_is_lost_when_its_beat_stops_moving_whatever_its_clock_says():
    live = Liveness(timeout=10)
    live.update(Snapshot((worker("a", 1, 1000.0, ("t1",)),), ("gpu",), 1000.0), now=0)
    assert live.alive("a", now=5) and live.running(Snapshot((worker("a", 1, 1000.0, ("t1",)),), (), 0), now=5) == {"t1": 0}
    live.update(Snapshot((worker("a", 1, 9999.0),), ("gpu",), 9999.0), now=9)  # a clock jump, the same beat
    assert not live.alive("a", now=10.5)
    live.update(Snapshot((worker("a", 2, 0.0),), ("gpu",), 0.0), now=11)  # it beats again
    assert live.alive("a", now=20) and not live.alive("a", now=21.5)
    stale = Liveness(timeout=10)  # an entry a killed worker left 30 s ago is not a live worker
    stale.update(Snapshot((worker("b", 7, 1000.0),), ("gpu",), 1030.0), now=100)
    assert not stale.pool_alive(Snapshot((worker("b", 7, 1000.0),), ("gpu",), 1030.0), "gpu", now=100)


def test_a_start_reported_after_the_end_does_not_revive_the_run(data_dir):
    """A remote run stopped while queued can be taken by a worker at that very moment: its
    late `started` report must leave the row killed."""
    from datetime import datetime, timezone

    from jobs.db import open_database
    from jobs.history import HistoryRepository
    from jobs.model import CronSpec, JobSpec, RunCause, RunOutcome, RunStatus
    from jobs.paths import ensure_private_dir

    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    try:
        history = HistoryRepository(engine)
        job = JobSpec(id="j", name="n", command=("x",), trigger=CronSpec("0 0 * * *", "UTC"), runs_on="gpu")
        run_id = history.create(job, RunCause.MANUAL, RunStatus.QUEUED, queued_on=("celery", "task-1", "gpu"))
        now = datetime.now(timezone.utc)
        history.finish(run_id, RunOutcome(RunStatus.KILLED, None, None, now, error="killed: stopped by the user"))
        history.mark_started(run_id, now, None)
        record = history.get(run_id)
        assert record.status is RunStatus.KILLED and record.error == "killed: stopped by the user"
        assert (record.runner, record.handle, record.pool) == ("celery", "task-1", "gpu")
    finally:
        engine.dispose()
