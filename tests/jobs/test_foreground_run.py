"""A foreground `jobdesk run --wait` (no `serve`) answers other commands while its job runs
(issue 9, item 12), and every refusal names it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from jobs.instance import InstanceLock
from tests.jobs.serve_process import MAIN, child_env, history, jobdesk, start_serve, stop, wait_for

pytestmark = pytest.mark.slow


def gated_job(data_dir, tmp_path: Path) -> tuple[str, Path, Path]:
    """A job that says it started, then waits until the test lets it finish."""
    started, release = tmp_path / "started", tmp_path / "release"
    code = ("import pathlib, time\n"
            f"pathlib.Path({str(started)!r}).touch()\n"
            f"while not pathlib.Path({str(release)!r}).exists(): time.sleep(0.05)\n"
            "print('released')\n")  # fmt: skip
    added = jobdesk(data_dir, "add", "--name", "gated", "--every", "1d", "--", sys.executable, "-c", code)
    assert added.returncode == 0, added.stderr
    return added.stdout.strip(), started, release


def start_foreground_run(data_dir, job_id: str, started: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, MAIN, "--data-dir", str(data_dir.root), "run", job_id, "--wait"],
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env())  # fmt: skip
    wait_for(lambda: started.exists() or proc.poll() is not None, timeout=30)
    assert proc.poll() is None, proc.communicate()
    return proc


def test_read_only_commands_work_during_a_foreground_run_and_refusals_name_it(data_dir, tmp_path):
    job_id, started, release = gated_job(data_dir, tmp_path)
    other = jobdesk(data_dir, "add", "--name", "other", "--every", "1d", "--", "true").stdout.strip()
    foreground = start_foreground_run(data_dir, job_id, started)
    holder = f"a foreground `jobdesk run --wait` (pid {foreground.pid})"
    try:
        listed = jobdesk(data_dir, "list", "--json", timeout=20)
        assert listed.returncode == 0, listed.stderr
        assert {job["id"] for job in json.loads(listed.stdout)} == {job_id, other}
        assert jobdesk(data_dir, "show", job_id, timeout=20).returncode == 0
        [running] = history(data_dir)
        assert running["status"] == "running"
        added = jobdesk(data_dir, "add", "--name", "meanwhile", "--every", "1d", "--", "true", timeout=20)
        assert added.returncode == 0, added.stderr

        second_run = jobdesk(data_dir, "run", other, timeout=20)
        assert second_run.returncode == 1
        assert second_run.stderr.strip() == (f"jobdesk: {holder} holds {data_dir.root} until its run ends; "
                                             "run the job after it, or keep `jobdesk serve` running")  # fmt: skip
        serve = subprocess.run([sys.executable, MAIN, "--data-dir", str(data_dir.root), "serve"], capture_output=True,
                               text=True, timeout=30, env=child_env())  # fmt: skip
        assert serve.returncode == 1
        assert serve.stderr.strip() == (f"jobdesk: {holder} holds {data_dir.root} until its run ends; "
                                        "start `jobdesk serve` after it")  # fmt: skip
    finally:
        release.touch()
        out, err = foreground.communicate(timeout=30)
    assert foreground.returncode == 0, err
    assert "succeeded" in out
    assert {job["name"] for job in json.loads(jobdesk(data_dir, "list", "--json").stdout)} == {"gated", "other", "meanwhile"}
    after = start_serve(data_dir)  # the lock is free again
    stop(after)


@pytest.mark.skipif(os.name != "posix", reason="SIGINT to a console process is a POSIX notion")
def test_ctrl_c_stops_a_foreground_run_and_its_process(data_dir, tmp_path):
    job_id, started, release = gated_job(data_dir, tmp_path)
    foreground = start_foreground_run(data_dir, job_id, started)
    children = psutil.Process(foreground.pid).children(recursive=True)
    assert children
    foreground.send_signal(signal.SIGINT)
    foreground.communicate(timeout=30)
    assert foreground.returncode == 130
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []
    [run] = history(data_dir)
    assert run["status"] in ("killed", "interrupted")
    lock = InstanceLock(data_dir)
    assert lock.try_acquire()
    lock.release()
