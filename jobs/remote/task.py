"""Worker side: the body of the `jobdesk.run` task, run in a Celery pool process.

It runs the job with the same `ProcessRun` as a local run (own session, environment overrides,
working directory, shell only when asked, PYTHONUNBUFFERED, capped output, timeout -> the whole
tree TERM, grace, KILL), reports through the run's Redis stream (jobs.remote.publisher) and
returns the outcome as JSON. Like the local runner it records the run's environment before the
run (this worker's program, scripts, folder and host: jobs.run_environment) and, after exit 0,
checks the expected outputs here, relative to the run's folder on this machine
(jobs.expected_outputs); both travel back in the outcome.

Stop: the desktop sets the run's cancel key and revokes the task with terminate=True and
SIGTERM. Celery delivers that signal to this pool process only; the job runs in a session of
its own and would live on (celery #1106). So while the job runs, this process's SIGTERM handler
cancels the `ProcessRun`, which ends the whole tree, and the task returns normally. A watcher
thread also polls the cancel key, in case the revoke broadcast is lost.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from dataclasses import replace
from datetime import datetime, timezone
from types import FrameType
from typing import Any

from jobs import subreaper
from jobs.expected_outputs import checked_outcome
from jobs.model import RunOutcome, RunStatus
from jobs.process import ProcessRun
from jobs.remote import leftovers
from jobs.remote.protocol import cancel_key, outcome_to_dict, request_from_payload, stream_key
from jobs.remote.publisher import Publisher
from jobs.run_environment import capture

log = logging.getLogger(__name__)

CANCEL_POLL = 0.5  # seconds between looks at the cancel key
FLUSH_LIMIT = 300.0  # how long the outcome may wait for Redis to come back
_clients: dict[str, Any] = {}


def _client(url: str) -> Any:
    """One redis-py client per pool process (made after the fork)."""
    from jobs.remote.celery_app import redis_client

    key = f"{os.getpid()}:{url}"
    if key not in _clients:
        _clients[key] = redis_client(url)
    return _clients[key]


def run_task(url: str, task_id: str, node: str, data: dict[str, Any]) -> dict[str, Any]:
    """Run one job; returns its outcome (protocol.outcome_to_dict)."""
    client = _client(url)
    publisher = Publisher(client, stream_key(task_id))
    try:
        reason = client.get(cancel_key(task_id))
    except Exception:  # Redis just gave us the task; if it is gone now, run and report later
        reason = None
    if reason is not None:  # stopped, or given up on, before any worker started it
        outcome = RunOutcome(RunStatus.KILLED, None, None, _utcnow(), error=f"killed: {reason.decode(errors='replace')}")
        return _finish(publisher, task_id, outcome, data)
    subreaper.enable()
    host = socket.gethostname()
    marker = uuid.uuid4().hex
    request = request_from_payload(data, leftovers.logs_dir() / f"{task_id}.log")
    worker_pid = os.getppid()
    process: ProcessRun

    def started(pid: int) -> None:
        try:
            leftovers.record(task_id, worker_pid=worker_pid, pid=pid,
                             process_started_at=process.process_started_at, marker=marker)
        except OSError as exc:
            log.warning("task %s: cannot note its process for clean-up: %s", task_id, exc)
        publisher.add("started", host=host, node=node, pid=pid, process_started_at=process.process_started_at,
                      started_at=(process.started_at or _utcnow()).timestamp())

    process = ProcessRun(
        request, on_started=started, on_output=lambda text, stream: publisher.add("output", stream=stream, text=text),
        output_interval=float(data.get("output_interval", 0.1)), marker=marker,
    )
    previous = _on_sigterm(lambda: process.cancel("terminated through Celery (revoke with SIGTERM)"))
    done = threading.Event()
    watcher = threading.Thread(target=_watch_cancel, args=(client, task_id, process, done), daemon=True)
    watcher.start()
    try:
        # Before the run (the script as this run read it), once a stop is heard: hashing may take a while
        environment = capture(request)
        outcome = process.run()
        if outcome.started_at is not None:  # exit 0 with an expected output missing: failed
            outcome = checked_outcome(request.expect, request.cwd, outcome.started_at.timestamp(), outcome)
        outcome = replace(outcome, environment=environment)
    except Exception as exc:  # a bug of ours must still end the run with an outcome
        log.exception("task %s failed inside Jobdesk", task_id)
        outcome = RunOutcome(RunStatus.FAILED, None, process.started_at, _utcnow(), error=f"internal error: {exc}",
                             pid=process.pid)
    finally:
        done.set()
        _restore_sigterm(previous)
        leftovers.forget(task_id)
        request.log_path.unlink(missing_ok=True)
        request.log_path.with_suffix(".stderr-ranges").unlink(missing_ok=True)
    return _finish(publisher, task_id, outcome, data)


def _finish(publisher: Publisher, task_id: str, outcome: RunOutcome, data: dict[str, Any]) -> dict[str, Any]:
    import json

    result = outcome_to_dict(outcome)
    publisher.add("finished", outcome=json.dumps(result), cap=int(data.get("log_cap_bytes") or 0))
    if not publisher.close(FLUSH_LIMIT):
        log.error("task %s: its outcome could not be published (Redis unreachable for %.0fs)", task_id, FLUSH_LIMIT)
    return result


def _watch_cancel(client: Any, task_id: str, process: ProcessRun, done: threading.Event) -> None:
    while not done.wait(CANCEL_POLL):
        try:
            reason = client.get(cancel_key(task_id))
        except Exception:  # Redis away: the SIGTERM path still works
            continue
        if reason is not None:
            process.cancel(reason.decode(errors="replace"))
            return


_NOT_INSTALLED = object()


def _on_sigterm(action: Any) -> Any:
    """Install a SIGTERM handler for the run (main thread of the pool process only; other
    pools get no signal-based stop, the cancel key still works). Returns what to restore."""
    if threading.current_thread() is not threading.main_thread():
        return _NOT_INSTALLED

    def handler(_signum: int, _frame: FrameType | None) -> None:
        action()

    return signal.signal(signal.SIGTERM, handler)


def _restore_sigterm(previous: Any) -> None:
    if previous is _NOT_INSTALLED:
        return
    # None: the previous handler was not set from Python; the default is the closest to it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
