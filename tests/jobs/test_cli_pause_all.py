"""`jobdesk pause --all` / `resume --all`: the tray's Pause all from the command line, on the file
itself and through a running `serve` (whose schedule then fires nothing)."""

from __future__ import annotations

import json

from tests.jobs.serve_process import jobdesk, start_serve, stop


def states(data_dir) -> dict[str, str]:
    listed = jobdesk(data_dir, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return {job["name"]: job["state"] for job in json.loads(listed.stdout)}


def add(data_dir, name: str, *options: str) -> None:
    added = jobdesk(data_dir, "add", "--name", name, "--cron", "0 3 * * *", *options, "--", "true")
    assert added.returncode == 0, added.stderr


def test_pause_all_and_resume_all_on_the_file(data_dir):
    add(data_dir, "a")
    add(data_dir, "b", "--paused")
    paused = jobdesk(data_dir, "pause", "--all")
    assert (paused.returncode, paused.stdout) == (0, "paused 1 job\n")
    assert states(data_dir) == {"a": "paused", "b": "paused"}
    again = jobdesk(data_dir, "pause", "--all")
    assert (again.returncode, again.stdout) == (0, "no job to pause: all were paused already\n")
    resumed = jobdesk(data_dir, "resume", "--all")
    assert (resumed.returncode, resumed.stdout) == (0, "resumed 2 jobs\n")
    assert states(data_dir) == {"a": "active", "b": "active"}


def test_pause_all_through_a_running_serve(data_dir):
    add(data_dir, "a")
    add(data_dir, "b")
    serve = start_serve(data_dir)
    try:
        paused = jobdesk(data_dir, "pause", "--all")
        assert (paused.returncode, paused.stdout) == (0, "paused 2 jobs\n")
        assert states(data_dir) == {"a": "paused", "b": "paused"}
        shown = json.loads(jobdesk(data_dir, "show", "a", "--json").stdout)
        assert shown["next_runs"] == []  # the schedule fires nothing while paused
    finally:
        stop(serve)


def test_pause_needs_a_job_or_all_but_not_both(data_dir):
    add(data_dir, "a")
    neither = jobdesk(data_dir, "pause")
    assert neither.returncode == 2 and neither.stderr == "jobdesk pause: give a JOB (its id or name) or --all\n"
    both = jobdesk(data_dir, "resume", "a", "--all")
    assert both.returncode == 2 and both.stderr == "jobdesk resume: give a JOB or --all, not both\n"
    assert states(data_dir) == {"a": "active"}
