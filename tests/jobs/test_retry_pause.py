"""Pausing (or removing) a job ends its pending retries at once, through the command line
against a real `serve`: the row says why, nothing runs later, and no alert goes out."""

from __future__ import annotations

import sys
import time

from tests.jobs.alert_servers import HttpServer
from tests.jobs.serve_process import history, jobdesk, start_serve, stop, wait_for

# Fails, and leaves one line per attempt in a file: a retry that runs shows up there.
FAILS = "import sys; open(sys.argv[1], 'a').write('ran\\n'); sys.exit(1)"


def add_failing(data_dir, tmp_path, name: str, *extra: str) -> tuple[str, object]:
    seen = tmp_path / f"{name}.txt"
    added = jobdesk(data_dir, "add", "--name", name, "--every", "1d", "--retries", "2", "--retry-delay", "4s",
                    *extra, "--", sys.executable, "-c", FAILS, str(seen))  # fmt: skip
    assert added.returncode == 0, added.stderr
    return added.stdout.strip(), seen


def pending_retry(data_dir, job_id: str) -> dict:
    [row] = wait_for(lambda: [r for r in history(data_dir, "--job", job_id) if r["status"] == "retry pending"])
    return row


def test_pausing_a_job_cancels_its_pending_retry_which_never_runs_and_alerts_nobody(data_dir, tmp_path):
    with HttpServer() as hook:
        job_id, seen = add_failing(data_dir, tmp_path, "upload", "--notify", "always", "--webhook", hook.url)
        serve = start_serve(data_dir)
        try:
            assert jobdesk(data_dir, "run", "upload").returncode == 0
            retry = pending_retry(data_dir, job_id)
            paused = jobdesk(data_dir, "pause", "upload")
            assert paused.returncode == 0, paused.stderr
            # At once, not when the retry was due
            ended = {r["id"]: r for r in history(data_dir, "--job", job_id)}[retry["id"]]
            assert (ended["status"], ended["error"]) == ("skipped", "retry cancelled: the job was paused")
            assert ended["started_at"] is None and ended["attempt"] == 2
            time.sleep(5.0)  # past the retry's 4 s: nothing runs
            assert seen.read_text().splitlines() == ["ran"]
            assert [r["status"] for r in history(data_dir, "--job", job_id)] == ["skipped", "failed"]
            resumed = jobdesk(data_dir, "resume", "upload")  # resuming brings no retry back
            assert resumed.returncode == 0, resumed.stderr
            time.sleep(1.0)
            assert seen.read_text().splitlines() == ["ran"]
        finally:
            stop(serve)
        # notify=always would post every final outcome; the cancelled retry is none (a skip)
        assert [p.json["status"] for p in hook.received] == []


def test_removing_a_job_cancels_its_pending_retry_too(data_dir, tmp_path):
    job_id, seen = add_failing(data_dir, tmp_path, "second")
    serve = start_serve(data_dir)
    try:
        assert jobdesk(data_dir, "run", "second").returncode == 0
        retry = pending_retry(data_dir, job_id)
        removed = jobdesk(data_dir, "remove", "second")
        assert removed.returncode == 0, removed.stderr
        row = {r["id"]: r for r in history(data_dir)}[retry["id"]]
        assert (row["status"], row["error"]) == ("skipped", "retry cancelled: the job was removed")
        time.sleep(4.5)  # past the retry's 4 s: nothing runs
        assert seen.read_text().splitlines() == ["ran"]
    finally:
        stop(serve)


def test_a_job_paused_while_nothing_ran_ends_its_stored_retry_at_the_next_start(data_dir, tmp_path):
    job_id, seen = add_failing(data_dir, tmp_path, "nightly", "--retry-delay", "1s")
    serve = start_serve(data_dir)
    try:
        assert jobdesk(data_dir, "run", "nightly").returncode == 0
        retry = pending_retry(data_dir, job_id)
    finally:
        stop(serve)  # the retry stays stored
    assert jobdesk(data_dir, "pause", "nightly").returncode == 0  # on the file itself: no instance
    time.sleep(1.5)  # it came due while closed
    serve = start_serve(data_dir)
    try:
        row = wait_for(lambda: next((r for r in history(data_dir, "--job", job_id)
                                     if r["id"] == retry["id"] and r["status"] != "retry pending"), None))  # fmt: skip
        assert (row["status"], row["error"]) == ("skipped", "retry cancelled: the job was paused")
        time.sleep(1.0)
        assert seen.read_text().splitlines() == ["ran"]
    finally:
        stop(serve)
