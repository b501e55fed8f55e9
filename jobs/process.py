"""Runs one job process to its end: start, stream output to the log, time out, cancel, clean up.

`ProcessRun.run()` blocks and is meant for a worker thread (NOTES item 21: thread pool + Popen);
it never touches Qt and reports live output through a plain callback. What it guarantees:

- the process tree never outlives the run (item 18): each run gets its own session (POSIX) or
  process group (Windows); a timeout or `cancel()` terminates the group plus every descendant,
  then kills what is left after a grace period; processes left behind after a normal exit are
  terminated too, and counted; descendants that escape the tree (a double-forked daemon) are
  found by the run's environment marker among the orphans re-parented to us (jobs.subreaper);
- the child never blocks on a full pipe: stdout and stderr have a pipe each, drained in 64 KiB
  chunks by a reader thread into one log in arrival order, with stderr's byte ranges and
  last lines kept apart (jobs.runlog); the log keeps the first `log_cap_bytes`, the rest is
  counted and dropped (items 20, 31);
- Python children stream live (`PYTHONUNBUFFERED=1`), and `on_output(text, stream)` gets
  decoded text in batches at most every `output_interval` seconds;
- a job that cannot start (missing program, bad directory, no permission) is an outcome with a
  one-line error, also written to the log, never an exception; every failure has an error
  text ("exit code 3").

Runner notes (truncation, leftovers, errors) go at the end of the log, prefixed `[jobdesk]`.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from subprocess import Popen
from typing import IO, Any

import psutil

from jobs import proctree, subreaper
from jobs.model import RunOutcome, RunRequest, RunStatus
from jobs.runlog import LogSink, Stream, drain

__all__ = ["ProcessRun", "RunOutcome", "RunRequest"]

log = logging.getLogger(__name__)

_POLL = 0.02  # seconds between checks while waiting; a cancel() wakes the wait at once
_DRAIN_BOUND = 2.0  # how long to wait for the pipe to close once the tree is gone


class _CannotStart(Exception):
    """The job's process could not be started; the message is the outcome's error line."""


class ProcessRun:
    """One run of one job. `run()` once, on a worker thread; `cancel()` from any thread.

    Both callbacks are called on the thread that calls `run()`: `on_started(pid)` right after
    the process started, `on_output(text, stream)` with the text written since its last call,
    one call per stretch of one stream ("stdout" or "stderr"), in arrival order.
    """

    def __init__(
        self,
        request: RunRequest,
        *,
        on_started: Callable[[int], None] | None = None,
        on_output: Callable[[str, Stream], None] | None = None,
        output_interval: float = 0.1,
        marker: str | None = None,
    ) -> None:
        self._request = request
        # Put in the child's environment: how its descendants are found after they escape.
        self._marker = marker or uuid.uuid4().hex
        self._on_started = on_started
        self.started_at: datetime | None = None  # when the process was created
        self._on_output = on_output
        self._output_interval = output_interval
        self._next_output = 0.0  # monotonic time before which on_output is not called again
        self._lock = threading.Lock()
        self._cancelled = threading.Event()
        self._cancel_reason: str | None = None
        self._pid: int | None = None
        self._process_started_at: float | None = None
        self._sink: LogSink | None = None

    @property
    def pid(self) -> int | None:
        return self._pid

    @property
    def process_started_at(self) -> float | None:
        """The OS's start time of the process (epoch seconds): with the pid, its identity."""
        return self._process_started_at

    def cancel(self, reason: str = "cancelled") -> None:
        """Terminate the run's whole tree (KILL after the grace period). Thread-safe, idempotent."""
        with self._lock:
            if self._cancel_reason is None:
                self._cancel_reason = reason
        self._cancelled.set()  # the run thread does the killing; this call never blocks

    def run(self) -> RunOutcome:
        """Run the job to its end and return what happened. Blocks; raises only for bugs of ours."""
        if self._cancelled.is_set():
            return self._not_started(RunStatus.KILLED, self._kill_message())
        request = self._request
        try:
            self._sink = LogSink(request.log_path, request.log_cap_bytes, self._on_output is not None)
        except OSError as exc:
            error = f"cannot write the log {request.log_path}: {exc.strerror}"
            return self._not_started(RunStatus.FAILED, error)
        try:
            proc = _start(request, self._marker)
        except _CannotStart as exc:
            self._sink.close([str(exc)])
            return self._not_started(RunStatus.FAILED, str(exc))
        self._pid = proc.pid
        started_at = self.started_at = _utcnow()  # the process exists from here on
        leader = proctree.process(proc.pid)
        roots = [leader] if leader is not None else []
        if leader is not None:
            self._process_started_at = proctree.identity(leader)
        try:
            return self._supervise(proc, roots, started_at)
        except BaseException:  # a bug of ours must not leave the tree running
            proctree.signal_tree(proc.pid, self._tree(proc.pid, roots), hard=True)
            raise
        finally:
            subreaper.release(proc)
            subreaper.reap()  # what the run left and we terminated is a zombie child by now

    # --- the run ---------------------------------------------------------------------------

    def _supervise(self, proc: Popen[bytes], roots: list[psutil.Process], started_at: datetime) -> RunOutcome:
        """Wait for the end (exit, timeout or cancel), clean up the tree, finish the log."""
        assert self._sink is not None and proc.stdout is not None and proc.stderr is not None
        # Daemon: a reader left behind on a pipe held by an escaped process must not stop app exit.
        pipes: dict[Stream, IO[bytes]] = {"stdout": proc.stdout, "stderr": proc.stderr}
        reader = threading.Thread(target=drain, args=(pipes, self._sink), name=f"output-{proc.pid}", daemon=True)
        reader.start()
        self._call_started(proc.pid)

        self._wait(lambda: proc.poll() is not None or self._cancelled.is_set(), self._request.timeout)
        status, error, notes, left = self._end_tree(proc, roots)
        if not self._wait(lambda: not reader.is_alive(), _DRAIN_BOUND):
            # An escaped process (its own session, parent gone) keeps the pipe open: stop waiting;
            # the reader thread closes the pipe itself whenever that process ends.
            log.warning("run %s: output pipe still open after the process tree ended", proc.pid)
            notes.append(f"stopped reading output after {_DRAIN_BOUND:g}s: a process outside the job still holds it")
        if error is not None and error != f"exit code {proc.returncode}":  # a plain exit code is no runner note
            notes.append(error)
        self._sink.close(notes)
        self._deliver_output(force=True)
        return RunOutcome(
            status=status,
            exit_code=proc.returncode,
            started_at=started_at,
            ended_at=_utcnow(),
            output_bytes=self._sink.total,
            truncated=self._sink.truncated,
            error=error,
            pid=proc.pid,
            left_processes=left,
            stderr_tail=self._sink.stderr_tail(),
        )

    def _end_tree(
        self, proc: Popen[bytes], roots: list[psutil.Process]
    ) -> tuple[RunStatus, str | None, list[str], int]:
        """Kill the tree of a run that timed out or was cancelled, or clean up after one that
        exited; returns status, error, notes for the log and how many processes an exited run
        left running."""
        if proc.returncode is not None:
            status, error = _exit_status(proc.returncode)
            # Background children and daemons would run on unnoticed (and hold the pipe open).
            left = self._terminate(proc.pid, roots)
            plural = "es" if left > 1 else ""
            return status, error, [f"terminated {left} leftover process{plural}"] if left else [], left
        cancelled = self._cancelled.is_set()
        self._terminate(proc.pid, roots)
        self._wait(lambda: proc.poll() is not None, _DRAIN_BOUND)
        if cancelled:
            return RunStatus.KILLED, self._kill_message(), [], 0
        return RunStatus.TIMED_OUT, f"timed out after {self._request.timeout:g}s; process tree terminated", [], 0

    def _terminate(self, pid: int, roots: list[psutil.Process]) -> int:
        """TERM the tree, wait up to kill_grace, KILL whatever is left. Returns how many got a signal."""
        victims = proctree.terminate(lambda: self._tree(pid, roots), pid, self._request.kill_grace, self._wait)
        return len(victims)

    def _tree(self, pid: int, roots: list[psutil.Process]) -> proctree.Tree:
        """The run's processes, with escaped ones found by the marker: among the orphans
        re-parented to us when we are a subreaper, else among all processes."""
        candidates = subreaper.adopted() if subreaper.active() else None
        return proctree.run_tree(pid, roots, self._marker, candidates)

    def _wait(self, done: Callable[[], bool], seconds: float | None) -> bool:
        """Wait until `done()` or `seconds` have passed (None: no limit), passing output on meanwhile."""
        until = None if seconds is None else time.monotonic() + seconds
        while not done():
            now = time.monotonic()
            if until is not None and now >= until:
                return False
            self._deliver_output()
            step = _POLL if until is None else min(_POLL, until - now)
            if self._cancelled.is_set():
                time.sleep(step)
            else:
                self._cancelled.wait(step)  # a cancel() ends the nap at once
        return True

    # --- callbacks -------------------------------------------------------------------------

    def _call_started(self, pid: int) -> None:
        if self._on_started is None:
            return
        try:
            self._on_started(pid)
        except Exception:  # the caller's bug must not orphan a running tree
            log.exception("on_started callback failed for pid %s", pid)

    def _deliver_output(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._on_output is None or self._sink is None or (not force and now < self._next_output):
            return
        pieces = self._sink.take_text()
        if not pieces:
            return
        self._next_output = now + self._output_interval
        try:
            for stream, text in pieces:
                self._on_output(text, stream)
        except Exception:
            log.exception("on_output callback failed for %s", self._request.log_path)

    # --- outcomes --------------------------------------------------------------------------

    def _kill_message(self) -> str:
        with self._lock:
            return f"killed: {self._cancel_reason}"

    def _not_started(self, status: RunStatus, error: str) -> RunOutcome:
        return RunOutcome(status, None, None, _utcnow(), 0, False, error, None)


# --- starting ---------------------------------------------------------------------------------


def _start(request: RunRequest, marker: str) -> Popen[bytes]:
    """Start the process in its own session/group with one pipe for stdout and stderr."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **request.env}
    if request.run_id is not None:
        env[proctree.RUN_ID_ENV] = str(request.run_id)
    env[proctree.MARKER_ENV] = marker
    if request.cwd is not None and not os.path.isdir(request.cwd):
        missing = not os.path.exists(request.cwd)
        raise _CannotStart(f"working directory {'does not exist' if missing else 'is not a directory'}: {request.cwd}")
    args, executable = _program(request, env)
    try:
        return subreaper.spawn(lambda: Popen(
            args,
            executable=executable,
            shell=request.shell,
            cwd=request.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,  # apart, to show and keep stderr on its own (jobs.runlog)
            **_spawn_options(),
        ))
    except OSError as exc:
        raise _CannotStart(_start_error(exc, request)) from None


def _program(request: RunRequest, env: Mapping[str, str]) -> tuple[str | list[str], str | None]:
    """Popen's args and executable. A bare name is looked up in the child's PATH up front for
    a clear error; argv[0] stays as the user typed it."""
    if not request.command:
        raise _CannotStart("empty command")
    if request.shell:
        return " ".join(request.command), None
    program = request.command[0]
    if os.sep in program or (os.altsep and os.altsep in program):
        return list(request.command), None
    found = shutil.which(program, path=env.get("PATH", os.defpath))
    if found is None:
        raise _CannotStart(f"program not found: {program!r}")
    return list(request.command), found


def _start_error(exc: OSError, request: RunRequest) -> str:
    if request.cwd is not None and exc.filename == request.cwd:
        return f"cannot use working directory {request.cwd}: {exc.strerror}"
    program = request.command[0]
    if exc.errno == errno.ENOENT:
        if exc.filename and os.path.exists(os.path.join(request.cwd or "", exc.filename)):
            # The file is there, so the kernel could not find its #! interpreter (or a CRLF broke it).
            return f"interpreter not found for {program} (check its #! line)"
        return f"program not found: {program!r}"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied: {program}"
    if exc.errno == errno.ENOEXEC:
        return f"exec format error: {program} (not a program; a script needs a #! line)"
    return f"cannot start {program}: {exc.strerror or exc}"


def _exit_status(code: int) -> tuple[RunStatus, str | None]:
    if code == 0:
        return RunStatus.SUCCEEDED, None
    if code > 0:  # every failure has an error text (the History table's Error column)
        return RunStatus.FAILED, f"exit code {code}"
    try:  # POSIX: killed by a signal we did not send
        name = signal.Signals(-code).name
    except ValueError:
        name = str(-code)
    return RunStatus.FAILED, f"terminated by signal {name}"


# --- process trees: the two platform-specific functions ----------------------------------------


def _spawn_options() -> dict[str, Any]:
    """Popen arguments that give the run its own session (POSIX) or process group (Windows)."""
    if sys.platform == "win32":
        # CREATE_NO_WINDOW: no console flashing up for console programs run from the GUI.
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW}
    # Session leader: its pid is the id of the group and session every child starts in.
    return {"start_new_session": True}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
