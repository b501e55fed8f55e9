"""What a crash leaves running: `serve` killed with SIGKILL, its job lives on, the next start ends it.

Real `serve` processes (main.py), real jobs, one SIGKILL to the serve pid only (issue 9 item 2).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from tests.jobs.test_serve import history, jobdesk, start_serve, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="POSIX sessions and SIGKILL")]

# Takes a lock for as long as it runs: a second copy that finds it taken says so in `overlaps`.
# It writes its pid and sleeps, printing nothing (its output pipe dies with serve).
JOB = """
    import fcntl, os, sys, time
    folder = sys.argv[1]
    lock = open(os.path.join(folder, "lock"), "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        with open(os.path.join(folder, "overlaps"), "a") as f:
            f.write(f"{os.getpid()}\\n")
        sys.exit(1)
    with open(os.path.join(folder, "pids"), "a") as f:
        f.write(f"{os.getpid()}\\n")
    time.sleep(120)
"""


def live(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def pids(folder: Path) -> list[int]:
    path = folder / "pids"
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def test_a_job_left_running_by_a_killed_serve_is_terminated_at_the_next_start(data_dir, tmp_path):
    data_dir.root.mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    serve = start_serve(data_dir)
    strays: list[int] = []
    try:
        job_id = jobdesk(data_dir, "add", "--name", "exclusive", "--every", "1d", "--overlap", "skip", "--",
                         sys.executable, "-c", textwrap.dedent(JOB), str(work)).stdout.strip()
        assert jobdesk(data_dir, "run", job_id).returncode == 0
        [child] = wait_for(lambda: pids(work))
        strays.append(child)
        run_id = history(data_dir)[0]["id"]
        os.kill(serve.pid, signal.SIGKILL)  # serve only: its job is re-parented and lives on
        serve.wait(10)
        stop(serve)  # closes its pipes
        time.sleep(0.5)
        assert live(child), "the job should have outlived serve (that is the fault being fixed)"
        [row] = [r for r in history(data_dir) if r["id"] == run_id]
        assert row["status"] == "running"  # nobody has looked yet

        serve = start_serve(data_dir)
        wait_for(lambda: not live(child), timeout=15)
        [row] = [r for r in history(data_dir) if r["id"] == run_id]
        assert row["status"] == "interrupted"
        assert row["error"] == ("Jobdesk stopped during the run (crash, kill or power loss); "
                                "1 leftover process terminated")

        # The job runs again, never beside its predecessor: "skip" while the leftover was being
        # ended, then a run of its own.
        wait_for(lambda: jobdesk(data_dir, "run", job_id).returncode == 0, timeout=20)
        wait_for(lambda: len(pids(work)) == 2 or (work / "overlaps").exists())
        strays.extend(pids(work))
        assert not (work / "overlaps").exists()
    finally:
        stop(serve)
        for pid in strays:
            if live(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_reused_pid_is_not_taken_for_the_leftover(data_dir, tmp_path):
    """The row names a pid that now belongs to another process (started later): it lives."""
    import sqlite3

    data_dir.root.mkdir(parents=True)
    serve = start_serve(data_dir)
    bystander = None
    try:
        job_id = jobdesk(data_dir, "add", "--name", "short", "--every", "1d", "--",
                         sys.executable, "-c", "import time; time.sleep(120)").stdout.strip()
        assert jobdesk(data_dir, "run", job_id).returncode == 0
        wait_for(lambda: history(data_dir)[0]["status"] == "running")
        run_id = history(data_dir)[0]["id"]
        os.kill(serve.pid, signal.SIGKILL)
        serve.wait(10)
        stop(serve)
        orphan = [p for p in psutil.process_iter(["environ"]) if
                  (p.info["environ"] or {}).get("JOBDESK_RUN_ID") == str(run_id)]
        for proc in orphan:  # the job itself is gone for good ...
            proc.kill()
            proc.wait(5)
        # ... and its pid in the row now names a process that started after it.
        bystander = psutil.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        conn = sqlite3.connect(data_dir.database)
        with conn:
            conn.execute("UPDATE runs SET pid = ? WHERE id = ?", (bystander.pid, run_id))
        conn.close()
        serve = start_serve(data_dir)
        wait_for(lambda: [r for r in history(data_dir) if r["id"] == run_id][0]["status"] == "interrupted")
        [row] = [r for r in history(data_dir) if r["id"] == run_id]
        assert row["error"] == "Jobdesk stopped during the run (crash, kill or power loss)"
        assert bystander.is_running() and bystander.status() != psutil.STATUS_ZOMBIE
    finally:
        stop(serve)
        if bystander is not None:
            bystander.kill()
            bystander.wait()


def test_the_command_line_running_a_job_itself_first_ends_what_a_killed_serve_left(data_dir, tmp_path):
    data_dir.root.mkdir(parents=True)
    work = tmp_path / "work"
    work.mkdir()
    serve = start_serve(data_dir)
    strays: list[int] = []
    try:
        job_id = jobdesk(data_dir, "add", "--name", "exclusive", "--every", "1d", "--timeout", "6s", "--",
                         sys.executable, "-c", textwrap.dedent(JOB), str(work)).stdout.strip()
        assert jobdesk(data_dir, "run", job_id).returncode == 0
        [child] = wait_for(lambda: pids(work))
        strays.append(child)
        run_id = history(data_dir)[0]["id"]
        os.kill(serve.pid, signal.SIGKILL)
        serve.wait(10)
        stop(serve)
        assert live(child)
        # No serve now: the command line runs the job in the foreground (it times out after 6 s).
        waited = jobdesk(data_dir, "run", job_id, "--wait", "--json")
        strays.extend(pids(work))
        assert not (work / "overlaps").exists(), "the job ran beside what the killed serve left running"
        assert len(pids(work)) == 2 and json.loads(waited.stdout)["status"] == "timed out"
        assert not live(child)
        [row] = [r for r in history(data_dir) if r["id"] == run_id]
        assert row["status"] == "interrupted" and row["error"].endswith("; 1 leftover process terminated")
    finally:
        stop(serve)
        for pid in strays:
            if live(pid):
                os.kill(pid, signal.SIGKILL)
