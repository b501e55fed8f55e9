"""The command line as a person runs it (`python main.py ...` in a fresh process), without a
running instance: bad input, a program that cannot start, export failures, someone else's
database, imports by name, and runs nobody is running any more."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jobs.model import CronSpec, JobSpec, RunCause, RunStatus
from jobs.repository import JobRepository
from jobs.service import JobService

MAIN = str(Path(__file__).resolve().parents[2] / "main.py")
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}


def jobdesk(data_dir, *args: str | bytes, prefix: tuple[str, ...] = (), stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    argv = [*prefix, sys.executable, MAIN, "--data-dir", str(data_dir.root), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=ENV, input=stdin,
                          errors="backslashreplace")


def one_line_exit_2(result: subprocess.CompletedProcess[str], message: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr


def job_names(data_dir) -> list[str]:
    result = jobdesk(data_dir, "list", "--json")
    assert result.returncode == 0, result.stderr
    return [job["name"] for job in json.loads(result.stdout)]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--every", "1"], "jobdesk add: --every: 1 needs a unit, e.g. 1m, 1h"),
        (["--every", "3s"], "jobdesk add: --every: 3s is shorter than 10 seconds; add --allow-sub-10s if you mean it"),
        (["--every", "1h", "--timeout", "9" * 400], "jobdesk add: --timeout: '9999999999"),
        (["--at", "9999-12-31 23:59", "--tz", "America/Los_Angeles"], "jobdesk add: --at: '9999-12-31 23:59' is too far"),
        (["--cron", ""], "jobdesk add: --cron: expression: expected 5 fields"),
    ],
)
def test_bad_add_options_exit_2_with_one_line_and_add_nothing(data_dir, args, message):
    one_line_exit_2(jobdesk(data_dir, "add", "--name", "x", *args, "--", "true"), message)
    assert not data_dir.database.exists()  # nothing was even opened (in-process tests check the store)


@pytest.mark.skipif(os.name != "posix", reason="argv bytes that are not UTF-8 exist on POSIX")
def test_bytes_that_are_not_utf8_are_refused_in_a_name_and_a_command(data_dir):
    one_line_exit_2(jobdesk(data_dir, "add", "--name", b"bad\xff", "--every", "1h", "--", "true"),
                    "jobdesk add: --name: 'bad\\udcff' contains a byte that is not UTF-8 text (\\xff)")
    one_line_exit_2(jobdesk(data_dir, "add", "--name", "x", "--every", "1h", "--", "echo", b"\xff\xfe"),
                    "jobdesk add: command: '\\udcff\\udcfe' contains a byte that is not UTF-8 text (\\xff)")
    assert job_names(data_dir) == []
    exported = data_dir.root / "out.toml"
    assert jobdesk(data_dir, "export", str(exported)).returncode == 0
    assert not Path(f"{exported}.tmp").exists()


def test_run_wait_says_why_a_program_could_not_start(data_dir):
    added = jobdesk(data_dir, "add", "--name", "typo", "--every", "1h", "--", "pyhton3", "report.py")
    assert added.returncode == 0, added.stderr
    result = jobdesk(data_dir, "run", "typo", "--wait")
    assert result.returncode == 1
    assert result.stdout == "run #1 failed: could not start: program not found: 'pyhton3'\n"
    assert "None" not in result.stdout + result.stderr


def test_export_never_leaves_a_temp_file_and_writes_user_only(data_dir, qapp):
    good = jobdesk(data_dir, "add", "--name", "fine", "--every", "1h", "--", "true")
    assert good.returncode == 0, good.stderr
    target = data_dir.root / "jobs.toml"
    result = jobdesk(data_dir, "export", str(target))
    assert result.returncode == 0 and stat.S_IMODE(target.stat().st_mode) == 0o600
    before = target.read_bytes()
    # A definition stored before such text was refused (the repository itself does not judge names)
    service = JobService(data_dir)
    try:
        bad = JobRepository(service.engine).add(JobSpec("old", ("echo", "\udcff\udcfe"), CronSpec("0 9 * * *", "UTC")))
    finally:
        service.shutdown()
    result = jobdesk(data_dir, "export", str(target))
    one_line_exit_2(result, f"jobdesk: job {bad.id} cannot be exported: command: '\\udcff\\udcfe' contains a byte that is not UTF-8")
    assert target.read_bytes() == before and not Path(f"{target}.tmp").exists()
    missing = data_dir.root / "no such folder" / "jobs.toml"
    result = jobdesk(data_dir, "remove", bad.id)
    assert result.returncode == 0, result.stderr
    result = jobdesk(data_dir, "export", str(missing))
    assert result.returncode == 1 and result.stderr.count("\n") == 1 and "cannot be written" in result.stderr
    assert not missing.parent.exists()


def test_importing_the_same_file_twice_says_added_then_replaced(data_dir, tmp_path):
    source = tmp_path / "jobs.toml"
    source.write_text(
        '[[job]]\nname = "A"\ncommand = ["true"]\n[job.trigger]\ntype = "cron"\nexpression = "0 9 * * *"\n'
        '[[job]]\nname = "B"\ncommand = ["true"]\n[job.trigger]\ntype = "interval"\namount = 1\nunit = "days"\n'
    )
    first = jobdesk(data_dir, "import", str(source))
    assert (first.returncode, first.stdout) == (0, "imported 2 job(s): 2 added, 0 replaced\n"), first.stderr
    second = jobdesk(data_dir, "import", "-", stdin=source.read_text())
    assert (second.returncode, second.stdout) == (0, "imported 2 job(s): 0 added, 2 replaced\n"), second.stderr
    assert job_names(data_dir) == ["A", "B"]


def _leftover_run(data_dir) -> tuple[int, int]:
    """A run still marked running (Jobdesk was killed during it) and one that ended."""
    service = JobService(data_dir)
    try:
        spec = service.add_job(JobSpec("long", ("true",), CronSpec("0 9 * * *", "UTC")))
        running = service.history.create(spec, RunCause.MANUAL, RunStatus.QUEUED)
        log_path = data_dir.run_log(spec.id, running)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text("first lines\n")
        service.history.mark_started(running, datetime.now(timezone.utc) - timedelta(seconds=75), log_path)
        ended = service.history.create(spec, RunCause.MANUAL, RunStatus.SKIPPED, error="skipped: run #1 was still going")
    finally:
        service.shutdown()
    return running, ended


def test_log_stop_and_history_of_a_run_nobody_is_running(data_dir):
    running, ended = _leftover_run(data_dir)
    rows = jobdesk(data_dir, "history")
    line = next(line for line in rows.stdout.splitlines() if line.startswith(f"{running} "))
    assert "running" in line and " 7" in line and "s+" in line  # elapsed, about 75 s, not "-"
    printed = jobdesk(data_dir, "log", str(running))
    assert (printed.returncode, printed.stdout) == (0, "first lines\n")
    followed = jobdesk(data_dir, "log", str(running), "--follow")
    assert followed.returncode == 1 and followed.stdout == "first lines\n"
    assert followed.stderr == f"jobdesk: run #{running} is marked running, but no Jobdesk is running it: no more output will come\n"
    stopped = jobdesk(data_dir, "stop", str(running))
    assert stopped.returncode == 1 and stopped.stderr.count("\n") == 1
    assert f"run #{running} is marked running, but no Jobdesk is running it: nothing to stop" in stopped.stderr
    one_line_exit_2(jobdesk(data_dir, "stop", str(ended)), f"run #{ended} has already ended (skipped); nothing to stop")
    one_line_exit_2(jobdesk(data_dir, "stop", "999"), "jobdesk: no run #999 (see jobdesk history)")
    one_line_exit_2(jobdesk(data_dir, "log", "last"), "jobdesk: 'last' is not a run number")
    never = jobdesk(data_dir, "log", str(ended))
    assert never.returncode == 0 and never.stdout == ""
    assert "has no output: it did not start (skipped: skipped: run #1 was still going)" in never.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root and setpriv to act as a user who may not open the file")
def test_a_database_owned_by_another_user_is_one_line_naming_the_owner(data_dir):
    added = jobdesk(data_dir, "add", "--name", "a", "--every", "1h", "--", "true")
    assert added.returncode == 0, added.stderr
    os.chown(data_dir.database, 65534, -1)  # "nobody"
    digest = hashlib.sha256(data_dir.database.read_bytes()).hexdigest()
    # root without the capabilities that let it ignore file permissions: an ordinary other user
    prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--")
    result = jobdesk(data_dir, "list", prefix=prefix)
    import pwd

    owner = pwd.getpwuid(65534).pw_name
    one_line_exit_2(result, f"jobdesk: {data_dir.database}: belongs to {owner} and cannot be read and written by root")
    assert hashlib.sha256(data_dir.database.read_bytes()).hexdigest() == digest


def test_list_json_prints_one_job_per_line_and_an_empty_list_as_brackets(data_dir):
    empty = jobdesk(data_dir, "list", "--json")
    assert empty.returncode == 0 and empty.stdout == "[]\n", empty.stderr
    for name in ("First", "Second, with \"quotes\""):  # and a newline in its command
        assert jobdesk(data_dir, "add", "--name", name, "--every", "1h", "--", "printf", "a\nb").returncode == 0
    result = jobdesk(data_dir, "list", "--json")
    lines = result.stdout.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 4, result.stdout
    jobs = [json.loads(line.rstrip(",")) for line in lines[1:-1]]  # each line is a whole job
    assert sorted(job["name"] for job in jobs) == ["First", "Second, with \"quotes\""]
    assert jobs[0]["definition"]["command"] == ["printf", "a\nb"]
    assert json.loads(result.stdout) == jobs
