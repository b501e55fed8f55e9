"""What travels between the desktop and the workers, and where it lives in Redis.

Everything is JSON (the Celery app accepts nothing else, never pickle):

- the task `jobdesk.run` gets one argument, `payload(request)`: the frozen `RunRequest` minus
  the desktop's log path (with its expected outputs, placeholders already filled); it returns
  `outcome_to_dict(outcome)`, with the outputs the worker found and the environment it recorded.
  Fields added later are optional both ways: a side that does not know them ignores them, a
  missing one means none (a worker of the previous version sends no outputs nor environment);
- each run has a Redis stream `jobdesk:run:<task id>` the worker appends to and the desktop
  reads: one `started` entry (host, node, pid), `output` entries (text, stream) at most every
  `output_interval`, one `finished` entry (the outcome). It is capped twice: its output is
  the run's capped log (the same `log_cap_bytes` as a local run), and at most `STREAM_MAXLEN`
  entries; it expires `STREAM_TTL` after its last entry, and the desktop deletes it once the
  outcome is recorded;
- `jobdesk:cancel:<task id>` holds the reason when the desktop stopped or gave up on a run:
  a worker that gets the task later does not run it, one running it ends the process tree;
- `jobdesk:worker:<node>` is a worker's heartbeat (pool, host, pid, tasks in progress, a beat
  counter), rewritten every `HEARTBEAT_INTERVAL`; `jobdesk:nodes` and `jobdesk:pools` list the
  workers and pools ever seen.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jobs.model import RunOutcome, RunRequest, RunStatus
from jobs.run_facts import OutputFile, RunEnvironment
from jobs.workdir import default_cwd

TASK_NAME = "jobdesk.run"
PROTOCOL_VERSION = 1
QUEUE_PREFIX = "jobdesk."

HEARTBEAT_INTERVAL = 2.0  # seconds between a worker's heartbeats
HEARTBEAT_TIMEOUT = 10.0  # a worker silent this long is lost, and its runs with it
HEARTBEAT_TTL = 30  # seconds a heartbeat key outlives its last write
STREAM_MAXLEN = 100_000
STREAM_TTL = 7 * 24 * 3600
CANCEL_TTL = 7 * 24 * 3600

NODES_KEY = "jobdesk:nodes"
POOLS_KEY = "jobdesk:pools"

# A pool names a queue and appears in node names: a short plain word, like a job id.
_POOL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", re.ASCII)


def pool_problem(name: Any) -> str | None:
    """Why `name` cannot be a pool name, or None."""
    if not isinstance(name, str) or not _POOL.fullmatch(name):
        shown = repr(name) if not isinstance(name, str) else repr(name[:70])
        return f"{shown} is not a pool name: use 1 to 64 letters, digits, '-' or '_', starting with a letter or digit"
    return None


def queue_name(pool: str) -> str:
    return f"{QUEUE_PREFIX}{pool}"


def stream_key(task_id: str) -> str:
    return f"jobdesk:run:{task_id}"


def cancel_key(task_id: str) -> str:
    return f"jobdesk:cancel:{task_id}"


def worker_key(node: str) -> str:
    return f"jobdesk:worker:{node}"


def node_name(pool: str, pid: int, host: str) -> str:
    """Celery node name of a worker: unique per process, the pool readable from it."""
    return f"{pool}.{pid}@{host}"


# --- the task's argument and result --------------------------------------------------------------


def payload(request: RunRequest, output_interval: float) -> dict[str, Any]:
    return {
        "v": PROTOCOL_VERSION,
        "command": list(request.command),
        "shell": request.shell,
        "cwd": request.cwd,
        "env": dict(request.env),
        "timeout": request.timeout,
        "log_cap_bytes": request.log_cap_bytes,
        "kill_grace": request.kill_grace,
        "run_id": request.run_id,
        "job_id": request.job_id,
        "output_interval": output_interval,
        "expect": list(request.expect),
    }


def request_from_payload(data: dict[str, Any], log_path: Path) -> RunRequest:
    """The worker's view of a run: the desktop's request with a log file of the worker's own."""
    command = tuple(str(part) for part in data["command"])
    shell = bool(data.get("shell", False))
    return RunRequest(
        command=command,
        log_path=log_path,
        shell=shell,
        cwd=data.get("cwd") or default_cwd(command, shell),
        env={str(k): str(v) for k, v in dict(data.get("env") or {}).items()},
        timeout=data.get("timeout"),
        log_cap_bytes=int(data.get("log_cap_bytes", 10 * 1024 * 1024)),
        kill_grace=float(data.get("kill_grace", 5.0)),
        run_id=data.get("run_id"),
        job_id=str(data.get("job_id", "")),
        expect=tuple(str(path) for path in data.get("expect") or ()),
    )


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _moment(value: Any) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(float(value), timezone.utc)


def outcome_to_dict(outcome: RunOutcome) -> dict[str, Any]:
    return {
        "status": outcome.status.value,
        "exit_code": outcome.exit_code,
        "started_at": _epoch(outcome.started_at),
        "ended_at": _epoch(outcome.ended_at),
        "output_bytes": outcome.output_bytes,
        "truncated": outcome.truncated,
        "error": outcome.error,
        "pid": outcome.pid,
        "left_processes": outcome.left_processes,
        "stderr_tail": outcome.stderr_tail,
        "outputs": [{"path": o.path, "bytes": o.bytes, "modified": o.modified} for o in outcome.outputs],
        "environment": None if outcome.environment is None else outcome.environment.to_dict(),
    }


def outcome_from_dict(data: dict[str, Any]) -> RunOutcome:
    ended = _moment(data.get("ended_at")) or datetime.now(timezone.utc)
    return RunOutcome(
        status=RunStatus(data["status"]),
        exit_code=data.get("exit_code"),
        started_at=_moment(data.get("started_at")),
        ended_at=ended,
        output_bytes=int(data.get("output_bytes") or 0),
        truncated=bool(data.get("truncated")),
        error=data.get("error"),
        pid=data.get("pid"),
        left_processes=int(data.get("left_processes") or 0),
        stderr_tail=data.get("stderr_tail"),
        outputs=_outputs(data.get("outputs")),
        environment=_environment(data.get("environment")),
    )


def _outputs(value: Any) -> tuple[OutputFile, ...]:
    """The outputs a worker found; a damaged list reads as none rather than losing the outcome."""
    try:
        return tuple(OutputFile(str(o["path"]), int(o["bytes"]), float(o["modified"])) for o in value or ())
    except (TypeError, KeyError, ValueError):
        return ()


def _environment(value: Any) -> RunEnvironment | None:
    if not isinstance(value, dict):
        return None
    try:
        return RunEnvironment.from_dict(value)
    except (TypeError, KeyError, ValueError, AttributeError):
        return None


def log_notes(outcome: RunOutcome) -> list[str]:
    """The runner notes a local run writes at the end of its log, from a remote outcome."""
    notes = []
    if outcome.left_processes:
        plural = "es" if outcome.left_processes > 1 else ""
        notes.append(f"terminated {outcome.left_processes} leftover process{plural}")
    if outcome.error is not None and outcome.error != f"exit code {outcome.exit_code}":
        notes.append(outcome.error)
    return notes
