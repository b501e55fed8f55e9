"""`LocalRunner`: runs on this computer, one `ProcessRun` (jobs.process) per run on its own thread.

A fresh thread per run measured faster to the child's first instruction than a pool's idle
worker (p50 fire latency 1.35 ms against 3.1-3.9 ms here), so `start` creates one and returns.

Each run's handle is its first process's pid, the OS's start time of that pid, and a random
marker put in the run's environment. After a crash of Jobdesk (kill -9, power cut while the
processes live on), `recover` uses them to terminate what the run left running, never a process
that merely got the same pid, and says how many it terminated.

A run's thread gives way to a window's busy GUI thread (jobs.gui_priority) before the Python work
at each end of the run: reading the script's facts and starting the process, then recording how
it ended. The minute's burst of 100 runs at 10,000 jobs otherwise took the GIL from the window's
repaints: the worst gap of its 10 ms heartbeat 67-97 ms (median of 4: ~78), with it 44-61 ms. A
run waits at most gui_priority.LONGEST_WAIT_S (0.1 s) at each end; without a window, never.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from jobs import proctree, subreaper
from jobs.expected_outputs import checked_outcome
from jobs.gui_priority import give_way
from jobs.model import RunOutcome, RunRecord, RunRequest, RunStatus
from jobs.process import ProcessRun
from jobs.run_environment import capture
from jobs.runners.base import Execution, RunHandle, RunListener, RunStarted

log = logging.getLogger(__name__)

NAME = "local"
CRASH_ERROR = "Jobdesk stopped during the run (crash, kill or power loss)"


class LocalRunner:
    name = NAME

    def __init__(self, output_interval: float = 0.1, kill_grace: float = 5.0) -> None:
        self.output_interval = output_interval
        self.kill_grace = kill_grace  # for leftovers found by `recover`; a run's own is in its request
        subreaper.enable()  # orphans of job processes become ours to find (Linux)

    def start(self, request: RunRequest, listener: RunListener) -> Execution:
        marker = uuid.uuid4().hex
        process = ProcessRun(
            request,
            on_started=lambda pid: _report_started(process, pid, marker, listener),  # after the process exists
            on_output=listener.output,
            output_interval=self.output_interval,
            marker=marker,
        )
        threading.Thread(
            target=_execute, args=(process, request, listener), name=f"run-{request.run_id}", daemon=True
        ).start()
        return process

    def recover(self, record: RunRecord, listener: RunListener) -> Execution:
        """A local run cannot be followed after a restart (its output pipe died with the
        previous Jobdesk): what is left of it is terminated and it ends as interrupted."""
        threading.Thread(
            target=self._end_leftover, args=(record, listener), name=f"recover-{record.id}", daemon=True
        ).start()
        return _Ended()

    def _end_leftover(self, record: RunRecord, listener: RunListener) -> None:
        try:
            find = proctree.leftovers_of(record.pid, record.process_started_at, record.handle)
            # No group signal: after a crash the group id may belong to someone else by now.
            count = len(proctree.terminate(find, None, self.kill_grace))
        except Exception:
            log.exception("run #%d: cannot look for what it left running", record.id)
            count = 0
        error = CRASH_ERROR + (f"; {proctree.leftover_note(count)}" if count else "")
        if count:
            log.warning("run #%d (%s): %s", record.id, record.job_id, error)
        output_bytes = _note_in_log(record.log_path, error)
        _finish(listener, RunOutcome(RunStatus.INTERRUPTED, None, None, _utcnow(), output_bytes, error=error,
                                     left_processes=count))

    def close(self) -> None:
        pass


def _report_started(process: ProcessRun, pid: int, marker: str, listener: RunListener) -> None:
    handle = RunHandle(NAME, pid=pid, process_started_at=process.process_started_at, ref=marker)
    listener.started(RunStarted(process.started_at or _utcnow(), handle))


def _note_in_log(path: Path | None, note: str) -> int:
    """Append a runner note to a recovered run's log; returns the output size before it."""
    if path is None:
        return 0
    try:
        size = path.stat().st_size
        with path.open("a", encoding="utf-8") as file:
            file.write(f"{'' if size == 0 or _ends_with_newline(path) else chr(10)}[jobdesk] {note}\n")
        return size
    except OSError:
        return 0


def _ends_with_newline(path: Path) -> bool:
    with path.open("rb") as file:
        file.seek(-1, 2)
        return file.read(1) == b"\n"


def _execute(process: ProcessRun, request: RunRequest, listener: RunListener) -> None:
    give_way()
    environment = capture(request)  # before the run: the script as this run read it
    try:
        outcome = process.run()
        if outcome.started_at is not None:  # exit 0 with an expected output missing: failed
            outcome = checked_outcome(request.expect, request.cwd, outcome.started_at.timestamp(), outcome)
        outcome = replace(outcome, environment=environment)
    except Exception as exc:  # a bug of ours must still end the run, or its slot stays taken
        log.exception("run of pid %s failed inside Jobdesk", process.pid)
        outcome = RunOutcome(
            RunStatus.FAILED, None, process.started_at, _utcnow(), error=f"internal error: {exc}", pid=process.pid
        )
    _finish(listener, outcome)


def _finish(listener: RunListener, outcome: RunOutcome) -> None:
    give_way()
    try:
        listener.finished(outcome)
    except Exception:
        log.exception("recording the end of a run failed")


class _Ended:
    """The execution of a run that is already over: nothing left to cancel."""

    def cancel(self, reason: str) -> None:
        pass


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
