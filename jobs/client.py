"""Deliver a command-line request: to the running instance if there is one, else locally.

Acting locally means holding the instance lock for the whole call, so a window or `serve`
started meanwhile cannot schedule from the same store (NOTES item 12) nor mistake this
process's run for one left "running" by a crash. A foreground `run` holds the lock for as long
as its job runs, so meanwhile it listens on the control socket and answers other commands
itself, everything but another run (issue 9, item 12).

A request that only reads (list, show, history, export) when no process holds the lock -- no
lock file at all -- and the database needs no migration is answered from the store without
taking the lock: reading in WAL mode is safe beside a writer that starts meanwhile, and it
spares the call Qt's import (QLockFile), a third of a small `jobdesk list` (issue 10).

A request goes out again only when that cannot do it twice: it never reached the instance, it
only reads, it is idempotent (pause, resume, config), or it carries a request id the instance
remembers (add, import, remove: jobs.request_ids). A `run` whose answer was lost is reported,
not repeated.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from jobs.command_errors import CommandFailed
from jobs.control import ControlError, execute, run_json
from jobs.list_local import checked_read, unheld_and_current
from jobs.model import RunStatus
from jobs.paths import DataDir
from jobs.request_ids import JOURNALED_OPS, new_request_id
from jobs.service import JobService
from jobs.wire import import_size_problem

CONNECT_RETRY_SECONDS = 10.0
RESENDABLE_OPS = frozenset({"list", "show", "history", "export", "log", "ping", "pause", "resume", "settings", "edit"}) | JOURNALED_OPS
READ_ONLY_OPS = frozenset({"list", "show", "history", "export", "why"})


def send(data_dir: DataDir, request: dict[str, Any]) -> dict[str, Any]:
    request = dict(request)
    if request.get("op") in JOURNALED_OPS:
        request.setdefault("request_id", new_request_id())
    problem = import_size_problem(request)
    if problem is not None:  # the same limit whether or not an instance runs (issue 9, item 11)
        raise CommandFailed(problem, 2)
    if request.get("op") in READ_ONLY_OPS and unheld_and_current(data_dir):
        return _checked_read(data_dir, request)
    from jobs.instance import InstanceLock, describe_holder
    from jobs.ipc_client import AnswerLost, Backoff, InstanceUnreachable, UnsafeSocket, request as ipc_request

    deadline = time.monotonic() + CONNECT_RETRY_SECONDS
    backoff = Backoff(first=0.05, cap=1.0)
    while True:
        lock = InstanceLock(data_dir) if data_dir.root.exists() else None
        if lock is None or lock.try_acquire():
            try:
                return _local(data_dir, request)
            finally:
                if lock is not None:
                    lock.release()
        try:
            answer = ipc_request(data_dir, request, timeout=None if request.get("wait") else 60.0, connect_timeout=1.0)
        except UnsafeSocket as exc:
            raise CommandFailed(str(exc)) from None
        except AnswerLost as exc:
            if request.get("op") not in RESENDABLE_OPS:
                raise CommandFailed(f"{exc}; `{request.get('op')}` may have been carried out: see `jobdesk history`") from None
        except InstanceUnreachable:
            pass
        else:
            if not answer.get("ok"):
                raise CommandFailed(answer.get("error", "the running Jobdesk refused the request"), answer.get("exit_code", 1))
            return dict(answer["result"])
        if time.monotonic() > deadline:  # holder alive but not listening (still starting, or hung)
            holder = describe_holder(None, lock.owner_pid())
            raise CommandFailed(f"{holder} holds {data_dir.root} but does not answer (still starting, or hung)")
        backoff.pause()


def _checked_read(data_dir: DataDir, request: dict[str, Any]) -> dict[str, Any]:
    """A read answered from the store while the database check runs beside it."""
    with checked_read(data_dir):
        return _local(data_dir, request, check_file=False)  # checked_read checks the file


def _local(data_dir: DataDir, request: dict[str, Any], check_file: bool = True) -> dict[str, Any]:
    from jobs.db import DatabaseError

    if request.get("op") in ("run", "missed"):  # missed: a choice may run jobs here
        _ensure_core_app()  # before the service's QObjects: they post to this thread's loop
    try:
        service = JobService(data_dir, check_file=check_file)
    except DatabaseError as exc:
        raise CommandFailed(str(exc)) from None
    try:
        if request.get("op") == "run":
            # No instance to hand the process to: run it here, in the foreground.
            return _run_in_foreground(service, data_dir, request)
        return execute(service, request)
    except ControlError as exc:
        raise CommandFailed(str(exc), exc.exit_code) from None
    finally:
        service.shutdown()


def _run_in_foreground(service: JobService, data_dir: DataDir, request: dict[str, Any]) -> dict[str, Any]:
    """Run the job here, answering other commands on the control socket until it ends."""
    from jobs.instance import describe_holder
    from jobs.ipc import IpcServer, SocketUnavailable
    from jobs.main_thread_gc import install_main_thread_collector

    install_main_thread_collector()
    what = "a foreground `jobdesk run --wait`" if request.get("wait") else "a foreground `jobdesk run`"
    busy = (f"{describe_holder('run', os.getpid(), what)} holds {data_dir.root} until its run ends; "
            "run the job after it, or keep `jobdesk serve` running")  # fmt: skip
    server = IpcServer(service, data_dir, mode="run", holder=what, refused={"run": busy})
    try:
        server.listen()
    except SocketUnavailable as exc:
        raise CommandFailed(f"{exc}; not running the job without it") from None
    try:
        run_id = execute(service, request)["run_id"]
        while True:  # through its retries (jobs.retries), to the last attempt
            _answer_until_finished(service, run_id)
            record = service.wait_for_run(run_id)
            assert record is not None
            if record.retried_by is None:
                break
            run_id = record.retried_by
        return {"run_id": record.id, "run": run_json(record)}
    finally:
        server.close()


def _answer_until_finished(service: JobService, run_id: int) -> None:
    """Run Qt's event loop (the socket, the run's events) until run `run_id` has ended."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()

    def finished(record: Any) -> None:
        if record.id == run_id:
            loop.quit()

    said: list[str] = []

    def waiting(record: Any) -> None:
        if record.id == run_id and record.waiting_for and record.waiting_for not in said:
            said.append(record.waiting_for)
            print(f"run #{run_id} is waiting for {record.waiting_for}; Ctrl+C stops it, "
                  "--ignore-conditions runs it without waiting", file=sys.stderr)  # fmt: skip

    service.events.run_finished.connect(finished)  # before the check below: no end is missed
    service.events.run_waiting.connect(waiting)
    current = service.history.get(run_id)
    if current is not None and current.status.is_final:
        return
    if current is not None and current.status is RunStatus.WAITING:
        waiting(current)
    interrupted: list[int] = []

    def on_sigint(signum: int, _frame: object) -> None:
        interrupted.append(signum)
        loop.quit()

    previous = signal.signal(signal.SIGINT, on_sigint)
    tick = QTimer()  # Python runs signal handlers between bytecodes: let it in while Qt waits
    tick.timeout.connect(lambda: None)
    tick.start(200)
    try:
        loop.exec()
    finally:
        tick.stop()
        signal.signal(signal.SIGINT, previous)
        service.events.run_finished.disconnect(finished)
        service.events.run_waiting.disconnect(waiting)
    if interrupted:
        if run_id in service.dispatcher.pending_retries() or any(held.run_id == run_id for held in service.dispatcher.held_runs()):
            service.cancel_run(run_id)  # a waiting run ends too (else it would wait for the next start)
        raise KeyboardInterrupt  # the caller's service.shutdown() kills the run's tree


def _ensure_core_app() -> None:
    from PySide6.QtCore import QCoreApplication

    if QCoreApplication.instance() is None:
        _ensure_core_app.app = QCoreApplication([])  # type: ignore[attr-defined]
