"""Retries with backoff (issue 12), through the command line as a person runs it, a real
`serve`, and the core restarted on the same SQLite file; real child processes throughout."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jobs.codec import job_from_dict, job_to_dict
from jobs.history import HistoryQuery
from jobs.model import CronSpec, JobSpec, RunStatus
from jobs.service import JobService
from tests.conftest import py
from tests.jobs.alert_servers import HttpServer
from tests.jobs.serve_process import history, jobdesk, start_serve, stop

YEARLY = CronSpec("0 0 1 1 *", "UTC")  # never due during a test

# Fails until it has been run `succeed_on` times (a counter file), writing each attempt's start
# time and JOBDESK_* environment as one JSON line.
FLAKY = """
import json, os, sys, time
counter, succeed_on = sys.argv[1], int(sys.argv[2])
lines = open(counter).read().splitlines() if os.path.exists(counter) else []
env = {k: v for k, v in os.environ.items() if k.startswith("JOBDESK_")}
with open(counter, "a") as f:
    f.write(json.dumps({"at": time.time(), "env": env}) + "\\n")
sys.exit(0 if len(lines) + 1 >= succeed_on else 1)
"""


def flaky(tmp_path: Path, succeed_on: int) -> tuple[list[str], Path]:
    tmp_path.mkdir(exist_ok=True)
    script = tmp_path / "flaky.py"
    script.write_text(FLAKY)
    counter = tmp_path / "attempts.jsonl"
    return [sys.executable, str(script), str(counter), str(succeed_on)], counter


def attempts_seen(counter: Path) -> list[dict]:
    return [json.loads(line) for line in counter.read_text().splitlines()] if counter.exists() else []


def test_a_script_that_fails_twice_succeeds_on_its_third_attempt_after_growing_delays(data_dir, tmp_path):
    command, counter = flaky(tmp_path, succeed_on=3)
    added = jobdesk(data_dir, "add", "--name", "flaky", "--every", "1h", "--retries", "3", "--retry-delay", "1s",
                    "--retry-backoff", "2", "--", *command)
    assert added.returncode == 0, added.stderr
    result = jobdesk(data_dir, "run", "flaky", "--wait")
    assert result.returncode == 0, result.stderr  # the final attempt's outcome
    assert "succeeded" in result.stdout

    runs = sorted(history(data_dir), key=lambda r: r["id"])
    assert [r["status"] for r in runs] == ["failed", "failed", "succeeded"]
    assert [r["attempt"] for r in runs] == [1, 2, 3]
    assert {r["attempts"] for r in runs} == {4}
    first = runs[0]["id"]
    assert [r["first_run_id"] for r in runs] == [first, first, first]
    assert [r["retried_by"] for r in runs] == [runs[1]["id"], runs[2]["id"], None]

    seen = attempts_seen(counter)
    assert [s["env"]["JOBDESK_ATTEMPT"] for s in seen] == ["1", "2", "3"]
    assert [s["env"]["JOBDESK_RUN_ID"] for s in seen] == [str(r["id"]) for r in runs]
    assert {s["env"]["JOBDESK_CAUSE"] for s in seen} == {"manual"}
    assert {s["env"]["JOBDESK_SCHEDULED_FOR"] for s in seen} == {""}  # Run now has no slot
    # Backoff: 1 s, then 2 s between attempts (plus a Python start-up, well under 0.8 s here)
    gaps = [b["at"] - a["at"] for a, b in zip(seen, seen[1:])]
    assert 1.0 <= gaps[0] < 1.8, gaps
    assert 2.0 <= gaps[1] < 2.8, gaps

    table = jobdesk(data_dir, "history").stdout
    assert "attempt 2/4: exit code 1" in table and "attempt 3/4" in table
    shown = jobdesk(data_dir, "show", "flaky").stdout
    assert "retries:   3 times, first after 1s, then x2 each time; on failure, timeout" in shown


def test_retry_on_exit_codes_alone_retries_only_those(data_dir, tmp_path):
    script = tmp_path / "exit.py"
    script.write_text("import sys, pathlib; p = pathlib.Path(sys.argv[1]); n = len(p.read_text()) if p.exists() else 0; "
                      "p.write_text('x' * (n + 1)); sys.exit([75, 3, 0][n])")
    added = jobdesk(data_dir, "add", "--name", "codes", "--every", "1h", "--retries", "5", "--retry-delay", "0",
                    "--retry-on-exit", "75,111", "--", sys.executable, str(script), str(tmp_path / "n"))
    assert added.returncode == 0, added.stderr
    result = jobdesk(data_dir, "run", "codes", "--wait")
    assert result.returncode == 3  # exit 75 was retried; exit 3 is not one of the codes
    runs = sorted(history(data_dir), key=lambda r: r["id"])
    assert [(r["exit_code"], r["attempt"]) for r in runs] == [(75, 1), (3, 2)]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--retries", "-1"], "jobdesk add: --retries: -1 must be between 0 and 100"),
        (["--retries", "2", "--retry-backoff", "0.5"], "jobdesk add: --retry-backoff: 0.5 must be between 1"),
        (["--retries", "2", "--retry-backoff", "fast"], "jobdesk add: --retry-backoff: 'fast' is not a number"),
        (["--retries", "2", "--retry-delay", "soon"], "jobdesk add: --retry-delay: "),
        (["--retries", "2", "--retry-max", "0s"], "jobdesk add: --retry-max: 0 must be more than 0 seconds"),
        (["--retries", "2", "--retry-on", "failure,crash"], "jobdesk add: --retry-on: 'crash' is not one of: failure, timeout"),
        (["--retries", "2", "--retry-on-exit", "0"], "jobdesk add: --retry-on-exit: 0 is not an exit code from 1 to 255"),
        (["--retries", "2", "--retry-on-exit", "75,x"], "jobdesk add: --retry-on-exit: expected exit codes"),
        (["--retry-delay", "5s"], "jobdesk add: --retry-delay needs --retries N"),
        (["--retries", "2", "--retry-on", ","], "jobdesk add: --retry-on: give failure, timeout or both"),
    ],
)
def test_bad_retry_options_exit_2_with_one_line_naming_the_option(data_dir, args, message):
    result = jobdesk(data_dir, "add", "--name", "x", "--every", "1h", *args, "--", "true")
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == "" and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert jobdesk(data_dir, "list", "--json").stdout.strip() in ("", "[]")


def test_retry_settings_survive_export_and_import_and_a_bad_one_is_named(data_dir, tmp_path):
    spec = JobSpec(name="r", command=("true",), trigger=YEARLY, retries=2, retry_delay=45, retry_backoff=3,
                   retry_max=600, retry_on=("timeout",), retry_on_exit=(75, 111))
    assert job_from_dict(job_to_dict(spec)) == spec
    good = tmp_path / "good.toml"
    good.write_text('format = 1\n[[job]]\nname = "n"\ncommand = ["true"]\nretries = 2\nretry_delay = "1m"\n'
                    'retry_max = "10m"\nretry_on_exit = [75]\n[job.trigger]\ntype = "cron"\nexpression = "0 7 * * *"\n')
    assert jobdesk(data_dir, "import", str(good)).returncode == 0
    [listed] = json.loads(jobdesk(data_dir, "list", "--json").stdout)
    definition = json.loads(jobdesk(data_dir, "show", listed["id"], "--json").stdout)["definition"]
    assert (definition["retries"], definition["retry_delay"], definition["retry_max"], definition["retry_on_exit"]) == (
        2, 60.0, 600.0, [75])
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("retries = 2", "retries = 2\nretry_backoff = 0"))
    result = jobdesk(data_dir, "import", str(bad))
    assert result.returncode == 2 and "retry_backoff: 0 must be between 1" in result.stderr, result.stderr
    bad.write_text(good.read_text().replace("retry_on_exit = [75]", "retry_on = []"))
    result = jobdesk(data_dir, "import", str(bad))
    assert result.returncode == 2 and "retry_on: nothing to retry on" in result.stderr, result.stderr


def test_a_pending_retry_outlives_a_serve_restart_blocks_overlap_and_stop_cancels_it(data_dir, tmp_path):
    command, counter = flaky(tmp_path, succeed_on=99)
    serve = start_serve(data_dir)
    try:
        added = jobdesk(data_dir, "add", "--name", "nightly", "--every", "1d", "--retries", "2", "--retry-delay", "10m",
                        "--", *command)
        assert added.returncode == 0, added.stderr
        assert jobdesk(data_dir, "run", "nightly").returncode == 0
        pending = _wait_for(lambda: [r for r in history(data_dir) if r["status"] == "retry pending"])
        # The pending retry is the job's run in progress: the overlap policy (skip) skips a new one
        again = jobdesk(data_dir, "run", "nightly")
        assert again.returncode == 1 and f"has run #{pending[0]['id']} waiting to retry at" in again.stderr, again.stderr
        assert f"`jobdesk stop {pending[0]['id']}` cancels the retry" in again.stderr
    finally:
        stop(serve)
    [row] = pending
    assert row["attempt"] == 2 and row["attempts"] == 3 and row["retry_at"] is not None
    kept = {r["id"]: r for r in history(data_dir)}[row["id"]]  # read from the file, no instance running
    assert kept["status"] == "retry pending" and kept["retry_at"] == row["retry_at"]

    serve = start_serve(data_dir)
    try:
        after = {r["id"]: r for r in history(data_dir)}[row["id"]]
        assert after["status"] == "retry pending"  # not "interrupted": it waits on
        again = jobdesk(data_dir, "run", "nightly")
        assert again.returncode == 1 and "waiting to retry" in again.stderr, again.stderr
        stopped = jobdesk(data_dir, "stop", str(row["id"]))
        assert stopped.returncode == 0, stopped.stderr
        ended = {r["id"]: r for r in history(data_dir)}[row["id"]]
        assert ended["status"] == "killed" and ended["error"] == "retry cancelled: stopped by the user"
        assert len(attempts_seen(counter)) == 1  # the retry never ran
        run = jobdesk(data_dir, "run", "nightly")  # the job's place is free again
        assert run.returncode == 0, run.stderr
        # `run --wait` through the instance answers with the last attempt
        fixed_command, _ = flaky(tmp_path / "second", succeed_on=2)
        added = jobdesk(data_dir, "add", "--name", "fixed", "--every", "1d", "--retries", "1", "--retry-delay", "0.5s",
                        "--", *fixed_command)
        assert added.returncode == 0, added.stderr
        waited = jobdesk(data_dir, "run", "fixed", "--wait", "--json")
        assert waited.returncode == 0, waited.stderr
        answer = json.loads(waited.stdout)
        assert (answer["status"], answer["attempt"]) == ("succeeded", 2)
    finally:
        stop(serve)


def _wait_for(probe, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def test_a_retry_due_while_closed_runs_at_start_or_is_missed_past_the_grace(data_dir, qapp, qtbot, tmp_path):
    fails = py("import sys; sys.exit(1)")
    first = JobService(data_dir)
    first.start()
    anytime = first.add_job(JobSpec(name="anytime", command=fails, trigger=YEARLY, retries=1, retry_delay=2))
    strict = first.add_job(JobSpec(name="strict", command=fails, trigger=YEARLY, retries=1, retry_delay=2,
                                   misfire_grace=1))
    ids = [first.run_now(anytime.id), first.run_now(strict.id)]
    for run_id in ids:
        first.wait_for_run(run_id, timeout=20)
    pending = first.history.query(HistoryQuery(statuses=(RunStatus.RETRY_PENDING,)))
    assert len(pending) == 2
    first.shutdown()
    time.sleep(4.5)  # closed while the retries came due (2 s), the strict one past its 1 s grace

    second = JobService(data_dir)
    second.start()
    try:
        retry = {r.job_id: r for r in pending}
        qtbot.waitUntil(lambda: all(second.get_run(r.id).status.is_final for r in pending), timeout=15_000)
        ran = second.get_run(retry[anytime.id].id)
        assert ran.status is RunStatus.FAILED and ran.attempt == 2 and ran.started_at is not None
        missed = second.get_run(retry[strict.id].id)
        assert missed.status is RunStatus.MISSED and missed.started_at is None
        assert missed.error.startswith("missed by ") and missed.error.endswith("(grace 1s)"), missed.error
    finally:
        second.shutdown()


def test_only_the_final_outcome_is_alerted(data_dir, qapp, qtbot, tmp_path):
    service = JobService(data_dir)
    try:
        with HttpServer() as hook:
            fixed_command, _ = flaky(tmp_path, succeed_on=2)
            fixed = service.add_job(JobSpec(name="fixed", command=tuple(fixed_command), trigger=YEARLY, retries=2,
                                            retry_delay=0.2, webhooks=(hook.url,)))
            broken = service.add_job(JobSpec(name="broken", command=py("import sys; sys.exit(4)"), trigger=YEARLY,
                                             retries=1, retry_delay=0.2, webhooks=(hook.url,)))
            for job in (fixed, broken):
                first = service.wait_for_run(service.run_now(job.id), timeout=20)
                service.dispatcher.final_attempt(first, timeout=20)
            qtbot.waitUntil(lambda: len(hook.received) >= 1, timeout=10_000)
            qtbot.wait(500)  # time for a wrong extra alert to arrive
            posted = [received.json for received in hook.received]
        # The failure a retry fixed is no alarm; the job that failed twice alerts once, for attempt 2
        assert [(p["job_name"], p["attempt"], p["status"]) for p in posted] == [("broken", 2, "failed")]
    finally:
        service.shutdown()


def test_edit_changes_the_retry_settings_of_a_saved_job_and_names_a_bad_option(data_dir):
    added = jobdesk(data_dir, "add", "--name", "report", "--cron", "30 7 * * *", "--tz", "Europe/Paris", "--", "true")
    assert added.returncode == 0, added.stderr
    job_id = added.stdout.strip()
    edited = jobdesk(data_dir, "edit", "report", "--retries", "2", "--retry-delay", "1m", "--retry-max", "10m")
    assert edited.returncode == 0, edited.stderr
    assert edited.stdout == (f"{job_id}: retries 2 times, first after 1m, then x2 each time (at most 10m); "
                             "on failure, timeout\n")
    more = jobdesk(data_dir, "edit", job_id, "--retry-on-exit", "75")  # alone: the other settings stay
    assert more.returncode == 0, more.stderr
    definition = json.loads(jobdesk(data_dir, "show", job_id, "--json").stdout)["definition"]
    assert {key: definition[key] for key in ("retries", "retry_delay", "retry_max", "retry_on", "retry_on_exit")} == {
        "retries": 2, "retry_delay": 60.0, "retry_max": 600.0, "retry_on": [], "retry_on_exit": [75]}
    assert definition["trigger"] == {"type": "cron", "expression": "30 7 * * *", "timezone": "Europe/Paris"}

    bad = jobdesk(data_dir, "edit", "report", "--retry-backoff", "0.5")
    assert bad.returncode == 2 and bad.stderr == (
        "jobdesk edit: --retry-backoff: 0.5 must be between 1 (the same delay every time) and 100\n")
    nothing = jobdesk(data_dir, "edit", "report")
    assert nothing.returncode == 2 and "nothing to change: give --run-with PATH, --as-written or --retries N" in nothing.stderr
    missing = jobdesk(data_dir, "edit", "nope", "--retries", "1")
    assert missing.returncode == 2 and "no job with id or name 'nope'" in missing.stderr


def test_a_long_wait_wakes_often_and_goes_by_the_wall_clock(data_dir, qapp, tmp_path, monkeypatch):
    import jobs.retries

    monkeypatch.setattr(jobs.retries, "WAKE_EVERY", 0.2)  # a 1.5 s wait is then eight timers, not one
    command, counter = flaky(tmp_path, succeed_on=2)
    service = JobService(data_dir)
    try:
        job = service.add_job(JobSpec(name="long", command=tuple(command), trigger=YEARLY, retries=1, retry_delay=1.5))
        first = service.wait_for_run(service.run_now(job.id), timeout=20)
        pending = service.get_run(first.retried_by)
        assert pending.status is RunStatus.RETRY_PENDING and pending.retry_at is not None
        final = service.dispatcher.final_attempt(first, timeout=20)
        assert final.status is RunStatus.SUCCEEDED
    finally:
        service.shutdown()
    seen = attempts_seen(counter)
    assert 1.5 <= seen[1]["at"] - seen[0]["at"] < 2.3
    assert seen[1]["at"] >= pending.retry_at.timestamp() - 0.01  # not before the stored due time
