"""Deliver a command-line request: to the running instance if there is one, else locally.

Acting locally means holding the instance lock for the whole call, so a window or `serve`
started meanwhile cannot schedule from the same store (NOTES item 12) nor mistake this
process's run for one left "running" by a crash.
"""

from __future__ import annotations

import time
from typing import Any

from jobs.command_errors import CommandFailed
from jobs.control import ControlError, execute, run_json
from jobs.instance import InstanceLock
from jobs.paths import DataDir

CONNECT_RETRY_SECONDS = 10.0


def send(data_dir: DataDir, request: dict[str, Any]) -> dict[str, Any]:
    deadline = time.monotonic() + CONNECT_RETRY_SECONDS
    while True:
        lock = InstanceLock(data_dir) if data_dir.root.exists() else None
        if lock is None or lock.try_acquire():
            try:
                return _local(data_dir, request)
            finally:
                if lock is not None:
                    lock.release()
        answer = _remote(data_dir, request)
        if answer is not None:
            if not answer.get("ok"):
                raise CommandFailed(answer.get("error", "the running Jobdesk refused the request"), answer.get("exit_code", 1))
            return dict(answer["result"])
        if time.monotonic() > deadline:  # holder alive but not listening (still starting, or hung)
            raise CommandFailed(f"Jobdesk (pid {lock.owner_pid()}) holds {data_dir.root} but does not answer")
        time.sleep(0.2)


def _remote(data_dir: DataDir, request: dict[str, Any]) -> dict[str, Any] | None:
    from jobs.ipc import InstanceUnreachable, request as ipc_request

    _ensure_core_app()
    try:
        timeout = None if request.get("wait") else 60.0
        return ipc_request(data_dir, request, timeout=timeout, connect_timeout=1.0)
    except InstanceUnreachable:
        return None


def _local(data_dir: DataDir, request: dict[str, Any]) -> dict[str, Any]:
    from jobs.db import DatabaseError
    from jobs.service import JobService

    try:
        service = JobService(data_dir)
    except DatabaseError as exc:
        raise CommandFailed(str(exc)) from None
    try:
        result = execute(service, request)
        if request.get("op") == "run":
            # No instance to hand the process to: run it here, in the foreground.
            record = service.wait_for_run(result["run_id"])
            assert record is not None
            result = {"run_id": record.id, "run": run_json(record)}
        return result
    except ControlError as exc:
        raise CommandFailed(str(exc), exc.exit_code) from None
    finally:
        service.shutdown()


def _ensure_core_app() -> None:
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is None:
        _ensure_core_app.app = QCoreApplication([])  # type: ignore[attr-defined]
