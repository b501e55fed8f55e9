"""Conditions and alerts from the command line, as a person runs it (`python main.py ...`),
with and without `serve`: the waiting condition is a real loopback port nobody listens on."""

from __future__ import annotations

import json
import os
import socket
import stat
import tomllib

import pytest

from jobs.alerts.config import secrets_path
from tests.jobs.alert_servers import free_port
from tests.jobs.serve_process import history, jobdesk, start_serve, stop, wait_for

PASS = "import sys; sys.exit(0)"


def add(data_dir, *args: str) -> str:
    result = jobdesk(data_dir, "add", "--name", "Backup", "--every", "1h", "--paused", *args, "--",
                     os.sys.executable, "-c", PASS)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_add_stores_conditions_and_alerts_and_export_round_trips_them(data_dir, tmp_path):
    job_id = add(data_dir, "--require", "ac-power", "--require", "network:db.example.com:5432", "--condition-deadline",
                 "6h", "--email", "me@example.com", "--email", "team@example.com", "--webhook", "https://hooks.example/j")
    [listed] = json.loads(jobdesk(data_dir, "list", "--json").stdout)
    definition = listed["definition"]
    assert definition["requires"] == ["ac-power", "network:db.example.com:5432"]
    assert definition["condition_deadline"] == 21600.0
    assert definition["email"] == ["me@example.com", "team@example.com"]
    assert definition["webhooks"] == ["https://hooks.example/j"]
    exported = tmp_path / "jobs.toml"
    assert jobdesk(data_dir, "export", str(exported)).returncode == 0
    [job] = tomllib.loads(exported.read_text())["job"]
    assert (job["id"], job["requires"], job["email"]) == (job_id, definition["requires"], definition["email"])
    assert jobdesk(data_dir, "remove", job_id).returncode == 0
    assert jobdesk(data_dir, "import", str(exported)).returncode == 0
    [again] = json.loads(jobdesk(data_dir, "list", "--json").stdout)
    assert again["definition"] == definition


@pytest.mark.parametrize("args, message", [
    (["--require", "battery"], "jobdesk add: --require: 'battery' is not a condition: use ac-power, network or network:HOST:PORT"),
    (["--require", "network:db:0"], "jobdesk add: --require: 'network:db:0': port '0' is not a number from 1 to 65535"),
    (["--condition-deadline", "6h"], "jobdesk add: --condition-deadline: has nothing to wait for"),
    (["--require", "ac-power", "--condition-deadline", "soon"], "jobdesk add: --condition-deadline: "),
    (["--email", "me at example.com"], "jobdesk add: --email: 'me at example.com' is not an e-mail address"),
    (["--webhook", "ftp://example.com/x"], "jobdesk add: --webhook: 'ftp://example.com/x' is not an http:// or https:// URL"),
])  # fmt: skip
def test_bad_conditions_and_alerts_exit_2_with_one_line(data_dir, args, message):
    result = jobdesk(data_dir, "add", "--name", "x", "--every", "1h", *args, "--", "true")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(message), result.stderr
    assert not data_dir.database.exists() or json.loads(jobdesk(data_dir, "list", "--json").stdout) == []


def run_status(data_dir, run_id: int) -> dict:
    return next(run for run in history(data_dir) if run["id"] == run_id)


def test_a_run_waits_for_its_server_shows_in_history_survives_a_restart_and_starts_when_it_answers(data_dir):
    port = free_port()
    job_id = add(data_dir, "--require", f"network:127.0.0.1:{port}")
    serve = start_serve(data_dir)
    try:
        assert jobdesk(data_dir, "run", job_id).returncode == 0
        waiting = wait_for(lambda: [r for r in history(data_dir) if r["status"] == "waiting"])
        run_id = waiting[0]["id"]
        assert waiting[0]["waiting_for"] == f"127.0.0.1:{port} to answer"
        again = jobdesk(data_dir, "run", job_id)
        assert again.returncode == 1
        assert f"has run #{run_id} waiting for 127.0.0.1:{port} to answer" in again.stderr
        line = jobdesk(data_dir, "history").stdout.splitlines()[-1]  # columns: see README "Command line"
        assert line.split()[0] == str(run_id) and " waiting " in line
        assert line.endswith(f"waiting for 127.0.0.1:{port} to answer")
    finally:
        stop(serve)
    assert run_status(data_dir, run_id)["status"] == "waiting"  # kept across the stop
    with socket.create_server(("127.0.0.1", port)):
        serve = start_serve(data_dir)
        try:
            run = wait_for(lambda: (r := run_status(data_dir, run_id))["status"] == "succeeded" and r)
        finally:
            stop(serve)
    assert run["waiting_for"] == f"127.0.0.1:{port} to answer" and run["started_at"] is not None


def test_stop_ends_a_waiting_run_with_or_without_serve(data_dir):
    port = free_port()
    job_id = add(data_dir, "--require", f"network:127.0.0.1:{port}")
    serve = start_serve(data_dir)
    try:
        assert jobdesk(data_dir, "run", job_id).returncode == 0
        [first] = wait_for(lambda: [r for r in history(data_dir) if r["status"] == "waiting"])
        stopped = jobdesk(data_dir, "stop", str(first["id"]))
        assert (stopped.returncode, stopped.stdout) == (0, f"stopped run #{first['id']} (killed before it started)\n")
        assert jobdesk(data_dir, "run", job_id).returncode == 0
        [second] = wait_for(lambda: [r for r in history(data_dir) if r["status"] == "waiting"])
    finally:
        stop(serve)
    stopped = jobdesk(data_dir, "stop", str(second["id"]))  # no serve: the store itself
    assert stopped.returncode == 0, stopped.stderr
    ended = run_status(data_dir, second["id"])
    assert (ended["status"], ended["error"]) == ("killed", f"killed while waiting for 127.0.0.1:{port} to answer: "
                                                           "stopped by the user")  # fmt: skip


def test_ignore_conditions_starts_the_waiting_run(data_dir):
    port = free_port()
    job_id = add(data_dir, "--require", f"network:127.0.0.1:{port}")
    serve = start_serve(data_dir)
    try:
        assert jobdesk(data_dir, "run", job_id).returncode == 0
        [waiting] = wait_for(lambda: [r for r in history(data_dir) if r["status"] == "waiting"])
        result = jobdesk(data_dir, "run", job_id, "--ignore-conditions", "--wait", "--json")
        assert result.returncode == 0, result.stderr
        run = json.loads(result.stdout)
        assert (run["id"], run["status"]) == (waiting["id"], "succeeded")
    finally:
        stop(serve)


def test_a_foreground_run_says_it_waits_and_past_its_deadline_ends_missed(data_dir):
    port = free_port()
    job_id = add(data_dir, "--require", f"network:127.0.0.1:{port}", "--condition-deadline", "2s")
    result = jobdesk(data_dir, "run", job_id, "--wait")
    assert result.returncode == 1
    assert f"run #1 is waiting for 127.0.0.1:{port} to answer; Ctrl+C stops it" in result.stderr
    assert result.stdout == f"run #1 missed before it started (missed: 127.0.0.1:{port} unreachable for 2s)\n"


def test_smtp_settings_keep_the_password_out_of_every_printout(data_dir):
    assert jobdesk(data_dir, "config", "smtp.host", "mail.example.com").returncode == 0
    assert jobdesk(data_dir, "config", "smtp.password", "-", input="hunter2 two\n").returncode == 0
    shown = jobdesk(data_dir, "config", "smtp")
    assert shown.returncode == 0
    assert shown.stdout.splitlines() == [
        "smtp.host = mail.example.com", "smtp.port = 0", "smtp.user = ", "smtp.password = ********",
        "smtp.security = starttls", "smtp.from = ",
    ]
    everything = jobdesk(data_dir, "config").stdout
    assert "hunter2" not in everything and "smtp.password = ********" in everything
    assert "webhook_secret = (made when the first webhook is sent)" in everything  # a read makes nothing
    asked = jobdesk(data_dir, "config", "webhook_secret")  # asked for by name: made now, still masked
    assert asked.stdout == f"webhook_secret = ******** (in {secrets_path(data_dir)})\n"
    stored = json.loads(secrets_path(data_dir).read_text())
    assert stored["smtp.password"] == "hunter2 two" and len(stored["webhook_secret"]) == 64
    assert stat.S_IMODE(secrets_path(data_dir).stat().st_mode) == 0o600
    bad = jobdesk(data_dir, "config", "smtp.security", "tls")
    assert (bad.returncode, bad.stderr) == (2, "jobdesk: smtp.security: 'tls' is not one of: starttls, ssl, none\n")
    unknown = jobdesk(data_dir, "config", "smtp.hots", "x")
    assert unknown.returncode == 2 and unknown.stderr.startswith("jobdesk: unknown setting 'smtp.hots' (known: ")


def test_after_a_crash_a_waiting_run_still_waits_and_a_pending_alert_is_sent(data_dir):
    """serve is killed with SIGKILL: the next serve takes both up where they were."""
    import signal

    from tests.jobs.alert_servers import HttpServer

    server_port, hook_port = free_port(), free_port()
    waits = add(data_dir, "--require", f"network:127.0.0.1:{server_port}")
    fails = jobdesk(data_dir, "add", "--name", "Report", "--every", "1h", "--paused", "--webhook",
                    f"http://127.0.0.1:{hook_port}/hook", "--", os.sys.executable, "-c", "raise SystemExit(4)")  # fmt: skip
    assert fails.returncode == 0, fails.stderr
    serve = start_serve(data_dir)
    try:
        assert jobdesk(data_dir, "run", waits).returncode == 0
        assert jobdesk(data_dir, "run", fails.stdout.strip()).returncode == 0
        [waiting] = wait_for(lambda: [r for r in history(data_dir) if r["status"] == "waiting"])
        [failed] = wait_for(lambda: [r for r in history(data_dir) if r["status"] == "failed" and r["alerts"]
                                     and r["alerts"][0]["attempts"] >= 1])  # fmt: skip
        assert failed["alerts"][0]["state"] == "pending"  # nobody listens yet: it will try again
        serve.send_signal(signal.SIGKILL)
        serve.wait(10)
    finally:
        stop(serve)
    assert run_status(data_dir, waiting["id"])["status"] == "waiting"
    with HttpServer(port=hook_port) as hook, socket.create_server(("127.0.0.1", server_port)):
        serve = start_serve(data_dir)
        try:
            wait_for(lambda: run_status(data_dir, waiting["id"])["status"] == "succeeded")
            sent = wait_for(lambda: (r := run_status(data_dir, failed["id"]))["alerts"][0]["state"] == "sent" and r)
        finally:
            stop(serve)
        assert [h.json["id"] for h in hook.received] == [failed["id"]]
    assert sent["alerts"][0]["attempts"] >= 2
