"""Pausing a job ends its scheduled runs that have not started (waiting for a condition or queued
for a slot) at once, through the command line against a real `serve`; a run the user asked for
stays. Before, such a run started after the pause, as if the job were still active."""

from __future__ import annotations

import socket
import sys
import time
from datetime import datetime, timedelta

from tests.jobs.serve_process import history, jobdesk, start_serve, stop, wait_for

# Leaves a line in a file: a run that starts shows up there.
MARK = "import sys, time; open(sys.argv[1], 'a').write('ran\\n'); time.sleep(float(sys.argv[2]))"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def soon(seconds: float) -> str:
    return (datetime.now() + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def add(data_dir, name: str, marks, *options: str, sleep: float = 0.0) -> str:
    added = jobdesk(data_dir, "add", "--name", name, *options, "--", sys.executable, "-c", MARK, str(marks), str(sleep))
    assert added.returncode == 0, added.stderr
    return added.stdout.strip()


def runs(data_dir, job_id: str) -> list[dict]:
    return history(data_dir, "--job", job_id)


def waiting_scheduled_run(data_dir, name: str, marks) -> tuple[str, dict, object]:
    """A job due in 4 s that needs a server nobody runs, and a `serve` whose run of it is now
    waiting: (job id, that run's row, the serve process)."""
    job_id = add(data_dir, name, marks, "--at", soon(4), "--require", f"network:127.0.0.1:{closed_port()}")
    serve = start_serve(data_dir)
    try:
        [waiting] = wait_for(lambda: [r for r in runs(data_dir, job_id) if r["status"] == "waiting"])
    except BaseException:
        stop(serve)
        raise
    return job_id, waiting, serve


def test_pausing_a_job_ends_its_scheduled_run_waiting_for_a_condition(data_dir, tmp_path):
    marks = tmp_path / "sync.txt"
    job_id, waiting, serve = waiting_scheduled_run(data_dir, "sync", marks)
    try:
        assert waiting["cause"] in ("scheduled", "catch-up")  # catch-up: its time passed before serve was up
        paused = jobdesk(data_dir, "pause", "sync")
        assert paused.returncode == 0, paused.stderr
        [ended] = runs(data_dir, job_id)  # at once, not when the condition holds
        assert (ended["id"], ended["status"], ended["error"]) == (waiting["id"], "skipped", "cancelled: the job was paused")
        assert ended["started_at"] is None
        # Run anyway finds nothing waiting, so it starts a new run: the old one stays ended
        assert jobdesk(data_dir, "run", "sync", "--ignore-conditions", "--wait").returncode == 0
        assert marks.read_text().splitlines() == ["ran"]
        assert [r["status"] for r in runs(data_dir, job_id)] == ["succeeded", "skipped"]
    finally:
        stop(serve)


def test_a_run_the_user_asked_for_keeps_waiting_after_a_pause(data_dir, tmp_path):
    marks = tmp_path / "report.txt"
    job_id = add(data_dir, "report", marks, "--cron", "0 3 * * *", "--require", f"network:127.0.0.1:{closed_port()}")
    serve = start_serve(data_dir)
    try:
        assert jobdesk(data_dir, "run", "report").returncode == 0
        [waiting] = wait_for(lambda: [r for r in runs(data_dir, job_id) if r["status"] == "waiting"])
        assert jobdesk(data_dir, "pause", "report").returncode == 0
        [still] = runs(data_dir, job_id)
        assert (still["id"], still["status"], still["cause"]) == (waiting["id"], "waiting", "manual")
        assert jobdesk(data_dir, "run", "report", "--ignore-conditions", "--wait").returncode == 0  # that same run
        [done] = runs(data_dir, job_id)
        assert (done["id"], done["status"]) == (waiting["id"], "succeeded")
    finally:
        stop(serve)


def test_pausing_a_job_ends_its_scheduled_run_queued_for_a_slot(data_dir, tmp_path):
    assert jobdesk(data_dir, "config", "max_concurrent", "1").returncode == 0
    busy_marks, marks = tmp_path / "busy.txt", tmp_path / "export.txt"
    busy_id = add(data_dir, "busy", busy_marks, "--cron", "0 3 * * *", sleep=12.0)
    serve = start_serve(data_dir)
    try:
        assert jobdesk(data_dir, "run", "busy").returncode == 0  # holds the only slot for 12 s
        wait_for(busy_marks.exists)
        job_id = add(data_dir, "export", marks, "--every", "3s", "--allow-sub-10s")
        [queued] = wait_for(lambda: [r for r in runs(data_dir, job_id) if r["status"] == "queued"])
        assert jobdesk(data_dir, "pause", "export").returncode == 0
        ended = {r["id"]: r for r in runs(data_dir, job_id)}[queued["id"]]  # at once
        assert (ended["status"], ended["error"]) == ("skipped", "cancelled: the job was paused")
        wait_for(lambda: [r["status"] for r in runs(data_dir, busy_id)] == ["succeeded"])  # the slot is free
        time.sleep(1.0)
        assert not marks.exists()  # export never started
        assert {r["status"] for r in runs(data_dir, job_id)} == {"skipped"}  # later slots skipped as still queued
    finally:
        stop(serve)


def test_a_waiting_scheduled_run_of_a_job_paused_while_closed_ends_at_the_next_start(data_dir, tmp_path):
    marks = tmp_path / "backup.txt"
    job_id, waiting, serve = waiting_scheduled_run(data_dir, "backup", marks)
    stop(serve)  # the waiting run stays stored
    assert jobdesk(data_dir, "pause", "backup").returncode == 0  # on the file itself: no instance
    assert [r["status"] for r in runs(data_dir, job_id)] == ["waiting"]
    serve = start_serve(data_dir)
    try:
        [ended] = wait_for(lambda: [r for r in runs(data_dir, job_id) if r["status"] != "waiting"])
        assert (ended["id"], ended["status"], ended["error"]) == (waiting["id"], "skipped", "cancelled: the job was paused")
    finally:
        stop(serve)
    assert not marks.exists()
