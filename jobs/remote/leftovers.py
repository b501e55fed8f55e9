"""Worker side: what a killed worker left running is ended when a worker starts again.

Celery's prefork pool processes die with the worker's main process (they are set to get
SIGKILL when it goes), but a job runs in a session of its own and lives on, re-parented to
PID 1. So each running job is written down in the worker's state directory (the job's first
pid with the OS's start time of that pid, its environment marker, and the worker process it
belongs to); a worker that starts ends the trees of every entry whose worker is gone, the same
way a restarted desktop ends what a crashed local run left (jobs.proctree).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import platformdirs

from jobs import proctree

log = logging.getLogger(__name__)

STATE_ENV = "JOBDESK_WORKER_STATE"


def state_dir() -> Path:
    explicit = os.environ.get(STATE_ENV)
    root = Path(explicit) if explicit else Path(platformdirs.user_state_dir("jobdesk-worker", appauthor=False))
    return root


def _runs_dir() -> Path:
    path = state_dir() / "runs"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def logs_dir() -> Path:
    """Where a worker keeps its copy of each run's log while the run goes on."""
    path = state_dir() / "logs"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def record(task_id: str, *, worker_pid: int, pid: int, process_started_at: float | None, marker: str) -> None:
    worker = proctree.process(worker_pid)
    entry = {
        "task_id": task_id, "worker_pid": worker_pid,
        "worker_started_at": proctree.identity(worker) if worker is not None else None,
        "pid": pid, "process_started_at": process_started_at, "marker": marker,
    }
    path = _runs_dir() / f"{task_id}.json"
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(entry, file)
    os.replace(temporary, path)


def forget(task_id: str) -> None:
    (_runs_dir() / f"{task_id}.json").unlink(missing_ok=True)


def clean_up(grace: float = 5.0) -> int:
    """End what runs of dead workers left running; returns how many processes got a signal."""
    total = 0
    for path in sorted(_runs_dir().glob("*.json")):
        try:
            entry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            continue
        if proctree.same_process(int(entry.get("worker_pid") or 0), entry.get("worker_started_at")) is not None:
            continue  # its worker still runs (another worker on this machine)
        find = proctree.leftovers_of(entry.get("pid"), entry.get("process_started_at"), entry.get("marker"))
        victims = proctree.terminate(find, None, grace)
        if victims:
            log.warning("task %s: a worker that is gone left %s; terminated",
                        entry.get("task_id"), proctree.leftover_note(len(victims)).replace(" terminated", ""))
        total += len(victims)
        path.unlink(missing_ok=True)
    return total
