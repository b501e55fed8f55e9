"""Run after other jobs, from the command line as a person runs it, against a real `serve`:
A and B → C, the status to wait for, cycles refused with their path, removing an upstream,
and a restart between A's end and B's end."""

from __future__ import annotations

import json
import sys
import time

import pytest

from jobs.db import SCHEMA_VERSION, open_database
from tests.jobs.serve_process import history, jobdesk, start_serve, stop, wait_for

PASS = "import sys; sys.exit(0)"
FAIL = "import sys; sys.exit(3)"
SETTLE = 1.5  # seconds a chain would need to start a run it should not start


def add(data_dir, name: str, *args: str, code: str = PASS) -> str:
    result = jobdesk(data_dir, "add", "--name", name, *args, "--", sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def upstream(data_dir, name: str, code: str = PASS) -> str:
    return add(data_dir, name, "--every", "1d", "--paused", code=code)  # never due by itself in a test


def run_wait(data_dir, job: str) -> int:
    result = jobdesk(data_dir, "run", job, "--wait", "--json")
    return int(json.loads(result.stdout)["id"])


def runs_of(data_dir, job_id: str) -> list[dict]:
    return history(data_dir, "--job", job_id)


def after_runs(data_dir, job_id: str, count: int) -> list[dict]:
    """Wait until `job_id` has `count` runs that ended; then check no further one comes."""
    ended = lambda: [r for r in runs_of(data_dir, job_id) if r["ended_at"]]  # noqa: E731
    wait_for(lambda: len(ended()) >= count)
    time.sleep(SETTLE)
    return ended()


def test_a_and_b_then_c_runs_once_after_both_succeeded_not_after_one(data_dir):
    a, b = upstream(data_dir, "A"), upstream(data_dir, "B")
    c = add(data_dir, "C", "--after", "A", "--after", b)  # by name or by id
    [listed] = [job for job in json.loads(jobdesk(data_dir, "list", "--json").stdout) if job["id"] == c]
    assert listed["schedule"] == "After A and B (success)" and listed["next_run"] is None
    assert listed["definition"]["trigger"]["jobs"] == [a, b]  # names were saved as ids
    assert "  next runs: when the jobs it runs after have finished" in jobdesk(data_dir, "show", "C").stdout
    serve = start_serve(data_dir)
    try:
        run_wait(data_dir, "A")
        time.sleep(SETTLE)
        assert runs_of(data_dir, c) == []  # B has not finished yet
        b_run = run_wait(data_dir, "B")
        [run] = after_runs(data_dir, c, 1)
        assert (run["cause"], run["status"], run["upstream_run_id"]) == ("after", "succeeded", b_run)
        run_wait(data_dir, "A")  # only A again: C waits for B again
        time.sleep(SETTLE)
        assert len(runs_of(data_dir, c)) == 1
        run_wait(data_dir, "B")
        assert len(after_runs(data_dir, c, 2)) == 2
    finally:
        stop(serve)


@pytest.mark.parametrize("status, a_code, runs", [
    ("failure", PASS, 0), ("failure", FAIL, 1), ("any", FAIL, 1), ("any", PASS, 1), ("success", FAIL, 0),
])  # fmt: skip
def test_after_status_says_which_ends_count(data_dir, status, a_code, runs):
    a = upstream(data_dir, "A", a_code)
    c = add(data_dir, "C", "--after", a, "--after-status", status)
    serve = start_serve(data_dir)
    try:
        a_run = run_wait(data_dir, "A")
        found = after_runs(data_dir, c, runs) if runs else (time.sleep(SETTLE), runs_of(data_dir, c))[1]
        assert len(found) == runs
        if runs:
            assert (found[0]["cause"], found[0]["upstream_run_id"]) == ("after", a_run)
    finally:
        stop(serve)


def test_a_restart_between_the_two_upstream_ends_still_runs_c_once_after_b(data_dir):
    upstream(data_dir, "A")
    upstream(data_dir, "B")
    c = add(data_dir, "C", "--after", "A", "--after", "B")
    serve = start_serve(data_dir)
    try:
        run_wait(data_dir, "A")
    finally:
        stop(serve)
    serve = start_serve(data_dir)
    try:
        time.sleep(SETTLE)
        assert runs_of(data_dir, c) == []
        b_run = run_wait(data_dir, "B")
        [run] = after_runs(data_dir, c, 1)
        assert (run["cause"], run["upstream_run_id"]) == ("after", b_run)
    finally:
        stop(serve)


def test_old_runs_of_the_upstream_jobs_do_not_start_a_new_job(data_dir):
    upstream(data_dir, "A")
    upstream(data_dir, "B")
    jobdesk(data_dir, "run", "A", "--wait")  # foreground, before C exists
    c = add(data_dir, "C", "--after", "A", "--after", "B")
    serve = start_serve(data_dir)
    try:
        run_wait(data_dir, "B")
        time.sleep(SETTLE)
        assert runs_of(data_dir, c) == []
    finally:
        stop(serve)


def test_a_cycle_is_refused_with_its_path_on_import(data_dir, tmp_path):
    a = upstream(data_dir, "A")
    c = add(data_dir, "C", "--after", "A")
    cyclic = tmp_path / "cycle.toml"
    cyclic.write_text(f'[[job]]\nid = "{a}"\nname = "A"\ncommand = ["true"]\n'
                      f'[job.trigger]\ntype = "after"\njobs = ["{c}"]\n')  # fmt: skip
    result = jobdesk(data_dir, "import", str(cyclic))
    assert result.returncode == 2
    assert "job 1 ('A'), trigger.jobs: would make a cycle: A → C → A" in result.stderr, result.stderr
    listed = {job["name"]: job for job in json.loads(jobdesk(data_dir, "list", "--json").stdout)}
    assert listed["A"]["schedule"].startswith("Every day")  # nothing was imported
    self_loop = tmp_path / "self.toml"
    self_loop.write_text(f'[[job]]\nid = "{c}"\nname = "C"\ncommand = ["true"]\n'
                         f'[job.trigger]\ntype = "after"\njobs = ["C"]\nstatus = "any"\n')  # fmt: skip
    result = jobdesk(data_dir, "import", str(self_loop))
    assert result.returncode == 2 and "would make a cycle: C → C" in result.stderr, result.stderr


def test_jobs_of_one_file_may_run_after_each_other_by_name(data_dir, tmp_path):
    chain = tmp_path / "chain.toml"
    chain.write_text('[[job]]\nname = "Extract"\ncommand = ["true"]\n[job.trigger]\ntype = "cron"\nexpression = "0 6 * * *"\n'
                     '[[job]]\nname = "Report"\ncommand = ["true"]\n[job.trigger]\ntype = "after"\njobs = ["Extract"]\n'
                     'status = "any"\n')  # fmt: skip
    result = jobdesk(data_dir, "import", str(chain))
    assert result.returncode == 0, result.stderr
    listed = {job["name"]: job for job in json.loads(jobdesk(data_dir, "list", "--json").stdout)}
    assert listed["Report"]["definition"]["trigger"] == {
        "type": "after", "jobs": [listed["Extract"]["id"]], "status": "any", "timezone": listed["Report"]["definition"]["trigger"]["timezone"]}
    assert listed["Report"]["schedule"] == "After Extract (any outcome)"


def test_bad_after_options_exit_2_naming_the_option(data_dir):
    upstream(data_dir, "A")
    result = jobdesk(data_dir, "add", "--name", "C", "--after", "nope", "--", "true")
    assert result.returncode == 2 and result.stderr.startswith("jobdesk add: --after: no job with id or name 'nope'")
    result = jobdesk(data_dir, "add", "--name", "C", "--after", "A", "--after-status", "maybe", "--", "true")
    assert result.returncode == 2 and "--after-status" in result.stderr
    result = jobdesk(data_dir, "add", "--name", "C", "--every", "1h", "--after-status", "failure", "--", "true")
    assert result.returncode == 2 and result.stderr == "jobdesk add: --after-status: goes with --after JOB (which jobs to wait for)\n"
    result = jobdesk(data_dir, "add", "--name", "C", "--after", "A", "--cron", "* * * * *", "--", "true")
    assert result.returncode == 2 and "not allowed with" in result.stderr


def test_removing_an_upstream_warns_and_needs_force(data_dir):
    a = upstream(data_dir, "A")
    c = add(data_dir, "C", "--after", "A")
    result = jobdesk(data_dir, "remove", "A")
    assert result.returncode == 2
    assert f"not removed: 1 job(s) run after {a}: {c} (C); change them first, or add --force" in result.stderr
    assert jobdesk(data_dir, "show", "A").returncode == 0
    result = jobdesk(data_dir, "remove", "A", "--force")
    assert result.returncode == 0 and f"will not run until you edit them: {c} (C)" in result.stderr
    shown = json.loads(jobdesk(data_dir, "show", c, "--json").stdout)
    assert shown["schedule"] == f"After a removed job ({a}) (success)" and shown["next_runs"] == []


def test_schema_4_file_gains_upstream_run_id_and_keeps_its_runs(data_dir):
    add(data_dir, "A", "--every", "1h")
    assert jobdesk(data_dir, "run", "A", "--wait").returncode == 0
    engine = open_database(data_dir.database)
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE runs DROP COLUMN upstream_run_id")
        conn.exec_driver_sql("UPDATE jobdesk_meta SET value = '4' WHERE key = 'schema_version'")
    engine.dispose()
    [run] = history(data_dir)
    assert run["status"] == "succeeded" and run["upstream_run_id"] is None
    engine = open_database(data_dir.database)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT value FROM jobdesk_meta WHERE key = 'schema_version'").scalar() == str(SCHEMA_VERSION)
    engine.dispose()


def test_an_after_run_the_overlap_policy_skips_still_names_the_upstream_run(data_dir):
    a = upstream(data_dir, "A")
    c = add(data_dir, "C", "--after", a, "--overlap", "skip", code="import time; time.sleep(4)")
    serve = start_serve(data_dir)
    try:
        first = run_wait(data_dir, "A")
        wait_for(lambda: [r for r in runs_of(data_dir, c) if r["status"] == "running"])
        second = run_wait(data_dir, "A")  # C is still running: this one is skipped
        [skipped] = wait_for(lambda: [r for r in runs_of(data_dir, c) if r["status"] == "skipped"])
        assert (skipped["cause"], skipped["upstream_run_id"]) == ("after", second)
        assert skipped["error"].startswith("skipped: run #")
        [ran] = [r for r in runs_of(data_dir, c) if r["status"] != "skipped"]
        assert ran["upstream_run_id"] == first
    finally:
        stop(serve)


def test_list_says_when_an_after_job_is_expected_and_after_which_job(data_dir):
    add(data_dir, "Extract", "--cron", "0 6 * * *", "--tz", "UTC")
    add(data_dir, "Prices", "--cron", "30 7 * * *", "--tz", "UTC")
    add(data_dir, "Report", "--after", "Extract", "--after", "Prices")
    add(data_dir, "Upload", "--after", "Report")  # a chain: after Report's expected run
    add(data_dir, "On failure", "--after", "Extract", "--after-status", "failure")  # never expected
    upstream(data_dir, "Paused")
    add(data_dir, "After paused", "--after", "Paused")
    jobs = {job["name"]: job for job in json.loads(jobdesk(data_dir, "list", "--json").stdout)}
    last = max(("Extract", "Prices"), key=lambda name: jobs[name]["next_run"])  # whichever fires later completes the set
    report = jobs["Report"]
    assert report["next_run"] is None and report["expected_after"] == jobs[last]["next_run"]
    assert report["expected_after_jobs"] == [jobs[last]["id"]]
    assert (jobs["Upload"]["expected_after"], jobs["Upload"]["expected_after_jobs"]) == (report["expected_after"],
                                                                                       [report["id"]])  # fmt: skip
    for name in ("On failure", "After paused"):
        assert (jobs[name]["expected_after"], jobs[name]["expected_after_jobs"]) == (None, [])
    assert "expected_after" not in jobs["Extract"]

    table = {line.split("  ")[0]: line for line in jobdesk(data_dir, "list").stdout.splitlines()[1:]}
    when = report["expected_after"].replace("T", " ")[:19]
    assert f"after {last} ({when})" in table[report["id"]]
    assert f"after Report ({when})" in table[jobs["Upload"]["id"]]
    assert "after its upstream jobs" in table[jobs["On failure"]["id"]]
    assert "after its upstream jobs" in table[jobs["After paused"]["id"]]
