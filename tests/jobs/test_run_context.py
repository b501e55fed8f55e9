"""Run context (issue 12): every run's process gets JOBDESK_* variables saying which job, run,
cause, attempt and slot it is; a catch-up run is told the slot it makes up for, not now. Real
scripts print their environment: a local run through the core restarted on its SQLite file, and
a remote run on a real `jobdesk worker` through a real Redis."""

from __future__ import annotations

import json
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from jobs.history import HistoryQuery
from jobs.model import CronSpec, JobSpec, RunCause, RunStatus
from jobs.paths import resolve_data_dir
from jobs.run_context import run_environment
from jobs.service import JobService

# Appends its JOBDESK_* variables as one JSON line to argv[1]; fails on its first run.
PRINTS_ENV = """
import json, os, sys
env = {k: v for k, v in os.environ.items() if k.startswith("JOBDESK_")}
print(json.dumps(env), flush=True)
path = sys.argv[1]
first = not os.path.exists(path)
with open(path, "a") as f:
    f.write(json.dumps(env) + "\\n")
sys.exit(1 if first else 0)
"""


def test_a_catch_up_run_and_its_retry_are_told_the_missed_slot_in_the_jobs_zone(data_dir, qapp, qtbot, tmp_path):
    out = tmp_path / "env.jsonl"
    zone = ZoneInfo("America/New_York")
    hour = (datetime.now(zone).hour + 12) % 24  # due 12 hours from now: never during the test
    first = JobService(data_dir)
    first.start()
    saved = first.add_job(JobSpec(name="Morning report", command=(sys.executable, "-c", PRINTS_ENV, str(out)),
                                  trigger=CronSpec(f"30 {hour} * * *", "America/New_York"), retries=1, retry_delay=0.2))
    first.scheduler.pause()  # pretend Jobdesk was closed for two days: every stored next run moves back
    for stored in first.scheduler.get_jobs():
        first.scheduler.modify_job(stored.id, next_run_time=stored.next_run_time - timedelta(days=2))
    first.shutdown()

    second = JobService(data_dir)
    second.start()
    try:
        qtbot.waitUntil(lambda: out.exists() and len(out.read_text().splitlines()) == 2, timeout=15_000)
        runs = second.query_history(HistoryQuery(job_id=saved.id))
        [catch_up] = [r for r in runs if r.attempt == 1 and r.status is not RunStatus.MISSED]
        qtbot.waitUntil(lambda: second.get_run(catch_up.retried_by).status.is_final, timeout=10_000)
    finally:
        second.shutdown()
    attempt_1, attempt_2 = (json.loads(line) for line in out.read_text().splitlines())
    slot = catch_up.scheduled_at
    assert catch_up.cause is RunCause.CATCH_UP
    assert datetime.now(timezone.utc) - slot > timedelta(hours=11)  # the missed slot, not now
    expected = slot.astimezone(zone).isoformat(timespec="seconds")
    assert expected.endswith(("-05:00", "-04:00")) and f"T{hour:02d}:30:00" in expected
    assert attempt_1 == {
        "JOBDESK_JOB_ID": saved.id, "JOBDESK_JOB_NAME": "Morning report", "JOBDESK_RUN_ID": str(catch_up.id),
        "JOBDESK_CAUSE": "catch-up", "JOBDESK_ATTEMPT": "1", "JOBDESK_SCHEDULED_FOR": expected,
        "JOBDESK_RUN_MARKER": attempt_1["JOBDESK_RUN_MARKER"],
    }
    assert attempt_2["JOBDESK_SCHEDULED_FOR"] == expected  # a retry makes up for the same slot
    assert (attempt_2["JOBDESK_ATTEMPT"], attempt_2["JOBDESK_RUN_ID"]) == ("2", str(catch_up.retried_by))
    assert "JOBDESK_UPSTREAM_RUN_ID" not in attempt_1


def test_the_upstream_run_is_named_only_when_there_is_one():
    job = JobSpec(name="C", command=("true",), trigger=CronSpec("0 7 * * *", "Europe/Paris"), id="c1")
    slot = datetime(2026, 7, 1, 5, 30, tzinfo=timezone.utc)
    env = run_environment(job, 7, RunCause.SCHEDULED, attempt=2, scheduled_for=slot, upstream_run_id=41)
    assert env["JOBDESK_UPSTREAM_RUN_ID"] == "41"
    assert env["JOBDESK_SCHEDULED_FOR"] == "2026-07-01T07:30:00+02:00"  # Paris summer time
    assert "JOBDESK_UPSTREAM_RUN_ID" not in run_environment(job, 7, RunCause.MANUAL)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX sessions, Debian redis")
def test_a_run_on_a_worker_gets_the_same_variables(tmp_path):
    from tests.jobs.remote_env import RedisServer, Worker
    from tests.jobs.serve_process import history, jobdesk, start_serve, stop, wait_for

    redis = RedisServer(tmp_path / "redis").start()
    worker = Worker(redis.url, "ctx", tmp_path, concurrency=1)
    data_dir = resolve_data_dir(tmp_path / "data")
    data_dir.root.mkdir(parents=True)
    serve = None
    out = tmp_path / "remote-env.jsonl"
    try:
        worker.start()
        assert jobdesk(data_dir, "config", "broker", redis.url).returncode == 0
        serve = start_serve(data_dir)
        added = jobdesk(data_dir, "add", "--name", "remote", "--every", "1d", "--on", "ctx", "--retries", "1",
                        "--retry-delay", "0", "--", sys.executable, "-c", textwrap.dedent(PRINTS_ENV), str(out))
        assert added.returncode == 0, added.stderr
        job_id = added.stdout.strip()
        assert jobdesk(data_dir, "run", job_id).returncode == 0
        runs = wait_for(lambda: [r for r in history(data_dir) if r["status"] == "succeeded"] and history(data_dir), 60)
    finally:
        if serve is not None:
            stop(serve)
        worker.stop()
        redis.stop()
    first, second = sorted(runs, key=lambda r: r["id"])
    seen = [json.loads(line) for line in Path(out).read_text().splitlines()]
    assert [(s["JOBDESK_RUN_ID"], s["JOBDESK_ATTEMPT"]) for s in seen] == [(str(first["id"]), "1"), (str(second["id"]), "2")]
    assert {(s["JOBDESK_JOB_ID"], s["JOBDESK_JOB_NAME"], s["JOBDESK_CAUSE"], s["JOBDESK_SCHEDULED_FOR"]) for s in seen} == {
        (job_id, "remote", "manual", "")}
    assert second["ran_on"] is not None and second["pool"] == "ctx"
