"""`serve` as a real process: it schedules, answers the CLI, survives kill -9, and is alone."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys

import psutil
import pytest

from tests.jobs.serve_process import MAIN, child_env, history, jobdesk, start_serve, stop, wait_for

pytestmark = pytest.mark.slow


def test_serve_runs_jobs_added_through_the_cli_and_a_second_serve_runs_nothing(data_dir):
    data_dir.root.mkdir(parents=True)
    serve = start_serve(data_dir)
    try:
        added = jobdesk(data_dir, "add", "--name", "tick", "--every", "1s", "--allow-sub-10s", "--", sys.executable, "-c", "print('tick')")
        assert added.returncode == 0, added.stderr
        second = subprocess.run([sys.executable, MAIN, "--data-dir", str(data_dir.root), "serve"], capture_output=True,
                                text=True, timeout=30, env=child_env())
        assert second.returncode == 1 and "already scheduling" in second.stderr
        runs = wait_for(lambda: [r for r in history(data_dir, "--limit", "200") if r["status"] == "succeeded"][3:] and
                        history(data_dir, "--limit", "200"), timeout=30)
        slots = [r["scheduled_at"] for r in runs if r["cause"] == "scheduled"]
        assert len(slots) == len(set(slots))  # every slot ran once
        manual = jobdesk(data_dir, "add", "--name", "manual", "--every", "1d", "--", sys.executable, "-c", "pass")
        waited = jobdesk(data_dir, "run", manual.stdout.strip(), "--wait", "--json")  # over the socket
        assert waited.returncode == 0 and json.loads(waited.stdout)["status"] == "succeeded"
    finally:
        stop(serve)


def test_kill_9_during_a_run_leaves_it_interrupted_and_the_database_intact(data_dir):
    data_dir.root.mkdir(parents=True)
    serve = start_serve(data_dir)
    sleeper = None
    try:
        job_id = jobdesk(data_dir, "add", "--name", "long", "--every", "1d", "--",
                         sys.executable, "-c", "import time; time.sleep(60)").stdout.strip()
        started = jobdesk(data_dir, "run", job_id)  # answered by serve: returns at once
        run_id = int(started.stdout.split("#")[1])
        wait_for(lambda: history(data_dir)[0]["status"] == "running")
        sleeper = [p for p in psutil.Process(serve.pid).children(recursive=True)]
        serve.send_signal(signal.SIGKILL)
        serve.wait(10)
    finally:
        stop(serve)
        for proc in sleeper or []:  # the orphaned job itself; a real crash leaves it to finish
            proc.kill()
    conn = sqlite3.connect(data_dir.database)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    restarted = start_serve(data_dir)
    try:
        [run] = [r for r in history(data_dir) if r["id"] == run_id]
        assert run["status"] == "interrupted" and "stopped during the run" in run["error"]
    finally:
        stop(restarted)
