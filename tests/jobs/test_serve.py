"""`serve` as a real process: it schedules, answers the CLI, survives kill -9, and is alone."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

MAIN = str(Path(__file__).resolve().parents[2] / "main.py")
pytestmark = pytest.mark.slow


def jobdesk(data_dir, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, MAIN, "--data-dir", str(data_dir.root), *args],
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def start_serve(data_dir) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, MAIN, "--data-dir", str(data_dir.root), "serve"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # ready once it answers on its socket
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.communicate()}")
        if jobdesk(data_dir, "list").returncode == 0 and _answered_by_serve(data_dir):
            return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("serve did not start")


def _answered_by_serve(data_dir) -> bool:
    from jobs.instance import InstanceLock

    lock = InstanceLock(data_dir)
    if lock.try_acquire():
        lock.release()
        return False
    return True


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    proc.stdout.close()
    proc.stderr.close()


def history(data_dir, *args: str) -> list[dict]:
    result = jobdesk(data_dir, "history", "--json", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def wait_for(predicate, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_serve_runs_jobs_added_through_the_cli_and_a_second_serve_runs_nothing(data_dir):
    data_dir.root.mkdir(parents=True)
    serve = start_serve(data_dir)
    try:
        added = jobdesk(data_dir, "add", "--name", "tick", "--every", "1s", "--allow-sub-10s", "--", sys.executable, "-c", "print('tick')")
        assert added.returncode == 0, added.stderr
        second = subprocess.run([sys.executable, MAIN, "--data-dir", str(data_dir.root), "serve"], capture_output=True,
                                text=True, timeout=30, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
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
