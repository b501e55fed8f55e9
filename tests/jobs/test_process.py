"""Tests of jobs.process with real child processes (`sys.executable -c` scripts, no mocks)."""

from __future__ import annotations

import logging
import os
import re
import signal
import stat
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timezone
from pathlib import Path
from typing import Any

import psutil
import pytest

from jobs.model import RunStatus
from jobs.process import ProcessRun, RunOutcome, RunRequest
from jobs.runlog import split_streams, stderr_ranges

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and sessions")

GRACE = 0.5


def py(script: str) -> tuple[str, ...]:
    return (sys.executable, "-c", textwrap.dedent(script))


class Recorder:
    """Collects on_output calls with their arrival times (and streams, in `streams`)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, str]] = []
        self.streams: list[tuple[str, str]] = []

    def __call__(self, text: str, stream: str = "stdout") -> None:
        self.calls.append((time.time(), text))
        self.streams.append((stream, text))

    @property
    def text(self) -> str:
        return "".join(text for _, text in self.calls)

    @property
    def stretches(self) -> list[tuple[str, str]]:
        """(stream, text) with neighbours of one stream joined (batches may cut anywhere)."""
        return merge_stretches(self.streams)


def merge_stretches(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for stream, text in pieces:
        if merged and merged[-1][0] == stream:
            merged[-1] = (stream, merged[-1][1] + text)
        else:
            merged.append((stream, text))
    return merged


def request(tmp_path: Path, command: tuple[str, ...], **kwargs: Any) -> RunRequest:
    return RunRequest(command=command, log_path=tmp_path / "logs" / "job" / "1.log", kill_grace=GRACE, **kwargs)


def run(req: RunRequest, **kwargs: Any) -> tuple[RunOutcome, str]:
    outcome = ProcessRun(req, **kwargs).run()
    log_text = req.log_path.read_text(errors="replace") if req.log_path.exists() else ""
    return outcome, log_text


def pids_in(log_text: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"pid=(\d+)", log_text)]


def gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)  # reparented, not yet reaped
    except psutil.NoSuchProcess:
        return True


def wait_until(condition: Callable[[], bool], timeout: float = 3.0) -> bool:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def reap_strays() -> Any:
    """Kill any pid a test registers, even when the test fails, so nothing outlives the suite."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass


# --- normal runs ----------------------------------------------------------------------------


def test_success_writes_output_to_log(tmp_path: Path) -> None:
    started: list[int] = []
    req = request(tmp_path, py("print('hello')"))
    outcome, log_text = run(req, on_started=started.append)
    assert outcome.status is RunStatus.SUCCEEDED
    assert outcome.exit_code == 0
    assert outcome.error is None
    assert log_text == "hello\n"
    assert outcome.output_bytes == 6 and not outcome.truncated
    assert started == [outcome.pid] and outcome.pid is not None
    assert outcome.started_at.tzinfo is timezone.utc and outcome.started_at <= outcome.ended_at
    if os.name == "posix":
        assert stat.S_IMODE(req.log_path.stat().st_mode) == 0o600


def test_non_zero_exit_is_failed_with_code(tmp_path: Path) -> None:
    outcome, log_text = run(request(tmp_path, py("import sys; sys.exit(3)")))
    assert (outcome.status, outcome.exit_code, outcome.error) == (RunStatus.FAILED, 3, "exit code 3")
    assert log_text == ""  # the exit code is in the record; the log holds output and unusual notes only


@posix_only
def test_foreign_signal_is_failed_with_negative_code(tmp_path: Path) -> None:
    outcome, log_text = run(request(tmp_path, py("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")))
    assert (outcome.status, outcome.exit_code) == (RunStatus.FAILED, -signal.SIGKILL)
    assert outcome.error == "terminated by signal SIGKILL"
    assert log_text == "[jobdesk] terminated by signal SIGKILL\n"


def test_stderr_is_interleaved_in_order_and_marked_apart(tmp_path: Path) -> None:
    """One plain log in arrival order; the sidecar says which bytes were stderr (issue 8 item 11)."""
    script = """
        import sys, time
        for text, stream in (("out 1", sys.stdout), ("err 1", sys.stderr), ("out 2", sys.stdout), ("err é", sys.stderr)):
            print(text, file=stream)
            time.sleep(0.05)  # arrival order is write order when Jobdesk keeps up
    """
    recorder = Recorder()
    req = request(tmp_path, py(script))
    outcome, log_text = run(req, on_output=recorder)
    assert log_text == "out 1\nerr 1\nout 2\nerr é\n"
    data = req.log_path.read_bytes()
    pieces = split_streams(data, 0, stderr_ranges(req.log_path))
    assert [(stream, text.decode()) for stream, text in pieces] == [
        ("stdout", "out 1\n"), ("stderr", "err 1\n"), ("stdout", "out 2\n"), ("stderr", "err é\n")]
    assert recorder.stretches == [(s, t.decode()) for s, t in pieces]
    assert outcome.stderr_tail == "err 1\nerr é"


def test_a_failure_keeps_the_last_twenty_lines_of_stderr(tmp_path: Path) -> None:
    script = """
        import sys
        for i in range(30):
            print(f"progress {i}")
            print(f"warning {i}", file=sys.stderr)
        sys.exit(2)
    """
    outcome, _ = run(request(tmp_path, py(script)))
    assert (outcome.status, outcome.error) == (RunStatus.FAILED, "exit code 2")
    assert outcome.stderr_tail == "\n".join(f"warning {i}" for i in range(10, 30))


def test_the_stderr_tail_survives_the_log_cap(tmp_path: Path) -> None:
    script = """
        import sys
        sys.stdout.write("x" * 300000)
        sys.stdout.flush()
        print("Traceback: the real reason", file=sys.stderr)
        sys.exit(1)
    """
    req = replace(request(tmp_path, py(script)), log_cap_bytes=1000)
    outcome, _ = run(req)
    assert outcome.truncated and outcome.stderr_tail == "Traceback: the real reason"
    assert stderr_ranges(req.log_path) == []  # nothing of it fitted in the log


def test_env_override_cwd_and_argv(tmp_path: Path) -> None:
    work = tmp_path / "work dir"
    work.mkdir()
    script = "import os, sys; print(os.environ['JOBDESK_X'], os.getcwd(), sys.argv[1:])"
    req = request(tmp_path, (*py(script), "a b", "c"), cwd=str(work), env={"JOBDESK_X": "42"})
    _, log_text = run(req)
    assert log_text == f"42 {work} ['a b', 'c']\n"


def test_pythonunbuffered_default_and_override(tmp_path: Path) -> None:
    script = py("import os; print(os.environ.get('PYTHONUNBUFFERED'))")
    assert run(request(tmp_path, script))[1] == "1\n"
    assert run(request(tmp_path, script, env={"PYTHONUNBUFFERED": "0"}))[1] == "0\n"


def test_output_streams_live(tmp_path: Path) -> None:
    """Three lines 0.3 s apart arrive one by one, not in one burst at the end (NOTES item 20)."""
    script = """
        import time
        for i in range(3):
            print(f"{time.time()!r} line {i}")
            time.sleep(0.3)
    """
    recorder = Recorder()
    outcome, _ = run(request(tmp_path, py(script)), on_output=recorder)
    arrivals: list[tuple[float, float]] = []  # (written, received) per line
    pending = ""  # a batch may end inside a line (print writes the text and its newline apart)
    for received, text in recorder.calls:
        *lines, pending = (pending + text).split("\n")
        arrivals += [(float(line.split()[0]), received) for line in lines]
    assert len(arrivals) == 3
    latencies = [received - written for written, received in arrivals]
    print(f"output latency per line: {[f'{lat * 1000:.0f} ms' for lat in latencies]}")
    assert max(latencies) < 0.25
    assert arrivals[0][1] < outcome.ended_at.timestamp() - 0.4  # first line long before the end


def test_output_batches_respect_interval(tmp_path: Path) -> None:
    script = """
        import time
        for i in range(30):
            print(i)
            time.sleep(0.02)
    """
    recorder = Recorder()
    run(request(tmp_path, py(script)), on_output=recorder, output_interval=0.25)
    assert recorder.text == "".join(f"{i}\n" for i in range(30))
    assert all(text for _, text in recorder.calls)
    gaps = [b - a for (a, _), (b, _) in zip(recorder.calls, recorder.calls[1:-1])]  # the last one is the end flush
    assert 2 <= len(recorder.calls) <= 5
    assert all(gap >= 0.24 for gap in gaps)


def test_on_output_errors_do_not_stop_the_run(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def broken(text: str, stream: str) -> None:
        raise RuntimeError("listener bug")

    with caplog.at_level(logging.ERROR, logger="jobs.process"):
        outcome, log_text = run(request(tmp_path, py("print('still logged')")), on_output=broken)
    assert outcome.status is RunStatus.SUCCEEDED
    assert log_text == "still logged\n"
    assert "on_output callback failed" in caplog.text


def test_invalid_utf8_becomes_replacement_characters(tmp_path: Path) -> None:
    script = r"""
        import sys, time
        out = sys.stdout.buffer
        out.write(b"bad \xff\xfe end\n"); out.flush()
        out.write(b"split \xc3"); out.flush()   # a two-byte character cut across two chunks
        time.sleep(0.2)
        out.write(b"\xa9\n"); out.flush()
    """
    recorder = Recorder()
    outcome, _ = run(request(tmp_path, py(script)), on_output=recorder)
    assert outcome.status is RunStatus.SUCCEEDED
    assert recorder.text == "bad \ufffd\ufffd end\nsplit \u00e9\n"


def test_shell_runs_a_pipeline(tmp_path: Path) -> None:
    outcome, log_text = run(request(tmp_path, ("printf 'b\\na\\n' | sort",), shell=True))
    assert outcome.status is RunStatus.SUCCEEDED
    assert log_text == "a\nb\n"
    _, log_text = run(request(tmp_path, ("echo", "joined", "words"), shell=True))
    assert log_text == "joined words\n"


# --- cannot start ---------------------------------------------------------------------------


def assert_not_started(outcome: RunOutcome, log_text: str, error: str) -> None:
    assert (outcome.status, outcome.exit_code, outcome.pid, outcome.error) == (RunStatus.FAILED, None, None, error)
    assert log_text == f"[jobdesk] {error}\n"


def test_missing_program(tmp_path: Path) -> None:
    outcome, log_text = run(request(tmp_path, ("pyhton3-jobdesk-missing", "-V")))
    assert_not_started(outcome, log_text, "program not found: 'pyhton3-jobdesk-missing'")
    outcome, log_text = run(request(tmp_path, (str(tmp_path / "nope"),)))
    assert_not_started(outcome, log_text, f"program not found: {str(tmp_path / 'nope')!r}")


@posix_only
def test_program_is_found_on_the_overridden_path(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "jobdesk-tool"
    tool.write_text("#!/bin/sh\necho \"tool $0\"\n")
    tool.chmod(0o755)
    outcome, log_text = run(request(tmp_path, ("jobdesk-tool",), env={"PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"}))
    assert outcome.status is RunStatus.SUCCEEDED
    assert log_text == f"tool {tool}\n"


def test_bad_working_directory(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing")
    outcome, log_text = run(request(tmp_path, py("pass"), cwd=missing))
    assert_not_started(outcome, log_text, f"working directory does not exist: {missing}")


@posix_only
def test_non_executable_file(tmp_path: Path) -> None:
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    outcome, log_text = run(request(tmp_path, ("./script.sh",), cwd=str(tmp_path)))
    assert_not_started(outcome, log_text, "permission denied: ./script.sh")


@posix_only
def test_exec_format_error_and_missing_interpreter(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_text("echo no shebang\n")
    junk.chmod(0o755)
    outcome, log_text = run(request(tmp_path, (str(junk),)))
    assert_not_started(outcome, log_text, f"exec format error: {junk} (not a program; a script needs a #! line)")
    crlf = tmp_path / "crlf.sh"
    crlf.write_bytes(b"#!/bin/sh\r\necho hi\r\n")  # saved on Windows: the interpreter is "/bin/sh\r"
    crlf.chmod(0o755)
    outcome, log_text = run(request(tmp_path, (str(crlf),)))
    assert_not_started(outcome, log_text, f"interpreter not found for {crlf} (check its #! line)")


# --- timeouts, cancel, leftovers ------------------------------------------------------------

# A child that starts a grandchild (its code in argv[1]), both printing their pids, then sleeps.
CHILD = """
    import os, subprocess, sys, time
    subprocess.Popen([sys.executable, "-c", sys.argv[1]])
    print(f"child pid={os.getpid()}", flush=True)
    time.sleep(60)
"""
GRANDCHILD = """
    import os, signal, time
    if {setsid}:
        os.setsid()  # leaves the run's session and group
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    print(f"grandchild pid={{os.getpid()}}", flush=True)
    time.sleep(60)
"""


def tree(setsid: bool = False) -> tuple[str, ...]:
    return (*py(CHILD), textwrap.dedent(GRANDCHILD.format(setsid=setsid)))


def wait_for_pids(recorder: Recorder, count: int) -> None:
    assert wait_until(lambda: len(pids_in(recorder.text)) == count, 10)


@posix_only
@pytest.mark.parametrize("setsid", [False, True], ids=["same-group", "setsid-grandchild"])
def test_timeout_kills_the_whole_tree(tmp_path: Path, setsid: bool, reap_strays: list[int]) -> None:
    req = request(tmp_path, tree(setsid), timeout=1.5)
    recorder = Recorder()
    outcome, log_text = run(req, on_output=recorder)
    reap_strays += pids_in(log_text)
    assert len(pids_in(log_text)) == 2, log_text  # both were up before the timeout
    assert outcome.status is RunStatus.TIMED_OUT
    assert outcome.exit_code == -signal.SIGTERM
    assert outcome.error == "timed out after 1.5s; process tree terminated"
    assert log_text.endswith("[jobdesk] timed out after 1.5s; process tree terminated\n")
    took = (outcome.ended_at - outcome.started_at).total_seconds()
    print(f"run with a SIGTERM-ignoring grandchild ended {took - 1.5:.2f} s after the timeout (grace {GRACE} s)")
    assert took < 1.5 + GRACE + 1.0
    for pid in pids_in(log_text):
        assert wait_until(lambda: gone(pid)), f"pid {pid} survived"


@posix_only
def test_cancel_from_another_thread(tmp_path: Path, reap_strays: list[int]) -> None:
    recorder = Recorder()
    process = ProcessRun(request(tmp_path, tree()), on_output=recorder)
    result: list[RunOutcome] = []
    worker = threading.Thread(target=lambda: result.append(process.run()))
    worker.start()
    try:
        wait_for_pids(recorder, 2)
        asked = time.monotonic()
        process.cancel("stopped by the user")
        process.cancel("second call is ignored")
        worker.join(10)
        took = time.monotonic() - asked
    finally:
        reap_strays += pids_in(recorder.text)
    print(f"cancel to return: {took:.2f} s (grace {GRACE} s)")
    outcome = result[0]
    assert (outcome.status, outcome.exit_code) == (RunStatus.KILLED, -signal.SIGTERM)
    assert outcome.error == "killed: stopped by the user"
    assert outcome.pid == process.pid
    assert took < GRACE + 1.0
    for pid in pids_in(recorder.text):
        assert wait_until(lambda: gone(pid)), f"pid {pid} survived"


def test_cancel_before_run_never_starts(tmp_path: Path) -> None:
    started: list[int] = []
    req = request(tmp_path, py("print('never')"))
    process = ProcessRun(req, on_started=started.append)
    process.cancel("Jobdesk quit")
    outcome = process.run()
    assert (outcome.status, outcome.exit_code, outcome.pid) == (RunStatus.KILLED, None, None)
    assert outcome.error == "killed: Jobdesk quit"
    assert started == [] and process.pid is None
    assert not req.log_path.exists()


@posix_only
def test_leftover_background_process_is_terminated(tmp_path: Path, reap_strays: list[int]) -> None:
    # The grandchild inherits stdout: without the cleanup the run would wait 60 s for EOF.
    script = """
        import os, subprocess, sys
        code = "import os, time; print(f'pid={os.getpid()}', flush=True); time.sleep(60)"
        subprocess.Popen([sys.executable, "-c", code])
        print("parent done")
    """
    recorder = Recorder()
    outcome, log_text = run(request(tmp_path, py(script)), on_output=recorder)
    reap_strays += pids_in(log_text)
    assert outcome.status is RunStatus.SUCCEEDED and outcome.exit_code == 0
    assert log_text.endswith("[jobdesk] terminated 1 leftover process\n")
    assert (outcome.ended_at - outcome.started_at).total_seconds() < 3
    sid = outcome.pid
    assert sid is not None and wait_until(lambda: not session_members(sid))


@posix_only
def test_escaped_process_holding_the_pipe_does_not_hang_the_run(tmp_path: Path, reap_strays: list[int]) -> None:
    # Its own session, an exited parent and a cleared environment: nothing links it to the run.
    script = """
        import subprocess, sys
        code = "import os, time; print(f'pid={os.getpid()}', flush=True); time.sleep(60)"
        subprocess.Popen([sys.executable, "-c", code], start_new_session=True, env={})
    """
    recorder = Recorder()
    outcome, log_text = run(request(tmp_path, py(script)), on_output=recorder)
    reap_strays += pids_in(log_text)
    took = (outcome.ended_at - outcome.started_at).total_seconds()
    assert outcome.status is RunStatus.SUCCEEDED
    assert "[jobdesk] stopped reading output after 2s: a process outside the job still holds it\n" in log_text
    assert 2 <= took < 4


# Double fork with setsid, as a daemon does: the daemon's parent exits, it has its own session
# and its stdio on /dev/null; it writes its pid to argv[1]. The job then exits 0 or sleeps.
DAEMONIZE = """
    import os, sys, time
    pid_file = sys.argv[1]
    first = os.fork()
    if first == 0:
        os.setsid()
        if os.fork() == 0:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            with open(pid_file + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.rename(pid_file + ".tmp", pid_file)
            time.sleep(60)
        os._exit(0)
    os.waitpid(first, 0)
    while not os.path.exists(pid_file):
        time.sleep(0.01)
    print("daemon started", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def daemonizing(pid_file: Path, then_sleep: float) -> tuple[str, ...]:
    return (*py(DAEMONIZE), str(pid_file), str(then_sleep))


@posix_only
def test_a_job_that_daemonizes_and_exits_0_leaves_nothing_running_and_says_so(tmp_path: Path, reap_strays: list[int]) -> None:
    pid_file = tmp_path / "daemon.pid"
    outcome, log_text = run(request(tmp_path, daemonizing(pid_file, 0)))
    daemon = int(pid_file.read_text())
    reap_strays.append(daemon)
    assert (outcome.status, outcome.exit_code, outcome.left_processes) == (RunStatus.SUCCEEDED, 0, 1)
    assert log_text == "daemon started\n[jobdesk] terminated 1 leftover process\n"
    assert wait_until(lambda: gone(daemon)), "the daemon outlived its run"


@posix_only
@pytest.mark.parametrize("how", ["timeout", "stop"])
def test_timeout_and_stop_kill_a_double_forked_daemon(tmp_path: Path, how: str, reap_strays: list[int]) -> None:
    pid_file = tmp_path / "daemon.pid"
    process = ProcessRun(request(tmp_path, daemonizing(pid_file, 60), timeout=1.5 if how == "timeout" else None))
    result: list[RunOutcome] = []
    worker = threading.Thread(target=lambda: result.append(process.run()))
    worker.start()
    assert wait_until(pid_file.exists, 10)
    daemon = int(pid_file.read_text())
    reap_strays.append(daemon)
    if how == "stop":
        process.cancel("stopped by the user")
    worker.join(15)
    assert result[0].status is (RunStatus.TIMED_OUT if how == "timeout" else RunStatus.KILLED)
    assert wait_until(lambda: gone(daemon)), "the daemon escaped the kill"


def session_members(sid: int) -> list[int]:
    """Live (not zombie) processes of session `sid`."""
    found = []
    for pid in psutil.pids():
        try:
            if os.getsid(pid) == sid and not gone(pid):
                found.append(pid)
        except OSError:
            pass
    return found


# --- big output -----------------------------------------------------------------------------


def test_output_cap_keeps_the_head_and_counts_the_rest(tmp_path: Path) -> None:
    cap, size = 1024 * 1024, 5 * 1024 * 1024
    script = f"import sys; sys.stdout.buffer.write(b'x' * {size})"
    recorder = Recorder()
    req = replace(request(tmp_path, py(script)), log_cap_bytes=cap)
    outcome, _ = run(req, on_output=recorder)
    data = req.log_path.read_bytes()
    marker = f"\n[jobdesk] output truncated after {cap} bytes; {size - cap} more bytes were discarded\n".encode()
    assert outcome.status is RunStatus.SUCCEEDED
    assert (outcome.output_bytes, outcome.truncated) == (size, True)
    assert data == b"x" * cap + marker
    assert recorder.text == "x" * cap


def test_fifty_megabytes_complete_quickly_with_a_capped_log(tmp_path: Path) -> None:
    size = 50 * 1024 * 1024
    script = f"""
        import sys
        block = b"y" * 65536
        for _ in range({size} // 65536):
            sys.stdout.buffer.write(block)
    """
    recorder = Recorder()
    req = replace(request(tmp_path, py(script)), log_cap_bytes=1024 * 1024)
    begun = time.monotonic()
    outcome, _ = run(req, on_output=recorder)
    took = time.monotonic() - begun
    print(f"50 MB of output drained in {took:.2f} s")
    assert outcome.status is RunStatus.SUCCEEDED
    assert outcome.output_bytes == size and outcome.truncated
    assert req.log_path.stat().st_size < 1024 * 1024 + 200
    assert len(recorder.text) == 1024 * 1024
    assert took < 10


def test_windows_runs_get_their_own_group_and_no_console_window(monkeypatch):
    """Only the flag choice can be checked here (no Windows); the tree kill is psutil's."""
    import subprocess

    from jobs import process

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0x200, raising=False)
    monkeypatch.setattr(subprocess, "CREATE_NO_WINDOW", 0x8000000, raising=False)
    assert process._spawn_options() == {"creationflags": 0x200 | 0x8000000}
    monkeypatch.setattr(sys, "platform", "linux")
    assert process._spawn_options() == {"start_new_session": True}
