"""`CeleryRunner`: runs a job on a `jobdesk worker` of its pool, through a Celery broker (Redis).

Nothing here blocks its caller: `start`, `recover` and `cancel` hand work to two threads of
this runner and return. The sender thread writes the run down as queued (with its task id, so
a restarted Jobdesk finds it: `recover`), checks the broker (a 2-second connect: "broker
unreachable: redis://host:6379 (connection refused)") and sends the task to the pool's queue;
it also carries out stops: the cancel key plus `revoke(terminate=True, signal=SIGTERM)`, whose
SIGTERM the task turns into ending the whole process tree (jobs.remote.task). The follower
thread (jobs.remote.follow) reads every run's stream and the workers' heartbeats.

Imported only when a job runs on a pool (or a remote run is recovered): a user without a broker
never loads Celery.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from jobs.model import RunOutcome, RunRecord, RunRequest, RunStatus
from jobs.remote import broker
from jobs.remote.celery_app import make_app, redis_client
from jobs.remote.follow import RUNNER_NAME, Follower, RemoteRun
from jobs.remote.protocol import CANCEL_TTL, HEARTBEAT_TIMEOUT, TASK_NAME, cancel_key, payload, queue_name
from jobs.runners.base import Execution, RunListener

log = logging.getLogger(__name__)

NAME = RUNNER_NAME
_CANCEL_TRIES = 60  # a stop retried about once a second while the broker is away


class CeleryRunner:
    name = NAME

    def __init__(self, url: str, *, output_interval: float = 0.1, heartbeat_timeout: float = HEARTBEAT_TIMEOUT) -> None:
        self.url = broker.check(url)
        self.output_interval = output_interval
        # Made on the sender thread: importing redis and Celery takes ~0.3 s and more, never on
        # the GUI thread that hands the first run over.
        self._client: Any = None
        self._app: Any = None
        self._work: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._follower = Follower(lambda: redis_client(self.url), self._give_up, heartbeat_timeout)
        self._sender = threading.Thread(target=self._send_forever, name="remote-sender", daemon=True)
        self._sender.start()

    # --- Runner ------------------------------------------------------------------------------

    def start(self, request: RunRequest, listener: RunListener) -> Execution:
        if not request.pool:
            raise ValueError("a remote run needs a pool")
        run = RemoteRun(uuid.uuid4().hex, request.pool, listener, request.log_path, wait_limit=request.wait_limit)
        self._work.put(lambda: self._send(run, request))
        return _RemoteExecution(self, run)

    def recover(self, record: RunRecord, listener: RunListener) -> Execution:
        """Follow a run a previous Jobdesk sent: its stream is read again from the start (the
        output its log already holds is passed over) and its real outcome is recorded."""
        if not record.handle:
            outcome = RunOutcome(RunStatus.INTERRUPTED, None, None, _utcnow(), error="Jobdesk stopped before the run was sent")
            threading.Thread(target=listener.finished, args=(outcome,), daemon=True).start()
            return _RemoteExecution(self, None)
        run = RemoteRun(record.handle, record.pool or "?", listener, record.log_path,
                        started=record.status is RunStatus.RUNNING, resume=True)
        self._follower.add(run)
        log.info("run #%d: following task %s on pool %s again", record.id, record.handle, record.pool)
        return _RemoteExecution(self, run)

    def close(self) -> None:
        """Stop following; runs in flight go on on their workers and are found again by the next start."""
        self._work.put(None)
        self._follower.close()
        self._sender.join(2.0)

    # --- the sender thread -------------------------------------------------------------------

    def _connect(self) -> Any:
        """The sender thread's Redis client, and the Celery app (made once, on this thread)."""
        if self._client is None:
            self._client = redis_client(self.url)
        if self._app is None:
            self._app = make_app(self.url)
        return self._client

    def _send_forever(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            try:
                item()
            except Exception:
                log.exception("remote runner: a send or stop failed")

    def _send(self, run: RemoteRun, request: RunRequest) -> None:
        run.listener.queued(run.handle, run.pool, None)  # the row has the task id before the task exists
        if run.cancel_reason is not None:
            self._follower.finish(run, RunOutcome(RunStatus.KILLED, None, None, _utcnow()))
            return
        try:
            self._connect().ping()
            self._follower.add(run)  # before sending: the stream is read from its first entry
            self._app.send_task(TASK_NAME, args=[payload(request, self.output_interval)], task_id=run.task_id,
                                queue=queue_name(run.pool), ignore_result=True)
        except Exception as exc:
            error = broker.unreachable(self.url, exc)
            log.warning("run #%s on pool %s: %s", request.run_id, run.pool, error)
            self._follower.finish(run, RunOutcome(RunStatus.FAILED, None, None, _utcnow(), error=error))

    def cancel(self, run: RemoteRun, reason: str) -> None:
        with self._follower.lock:
            if run.done or run.cancel_reason is not None:
                return
            run.cancel_reason = reason
        self._work.put(lambda: self._stop(run, reason, _CANCEL_TRIES))

    def _stop(self, run: RemoteRun, reason: str, tries: int) -> None:
        try:
            self._connect().set(cancel_key(run.task_id), reason, ex=CANCEL_TTL)
            self._app.control.revoke(run.task_id, terminate=True, signal="SIGTERM")
        except Exception as exc:
            if tries > 1 and not run.done:
                log.warning("cannot stop remote run %s yet (%s); trying again", run.task_id, broker.reason(exc))
                threading.Timer(1.0, lambda: self._work.put(lambda: self._stop(run, reason, tries - 1))).start()
            return
        if not run.started:  # no worker has it: it never runs (the task checks the cancel key first)
            self._follower.finish(run, RunOutcome(RunStatus.KILLED, None, None, _utcnow()))
        # A started run ends when its worker reports the killed tree (or when the worker is lost).

    def _give_up(self, run: RemoteRun, reason: str) -> None:
        """The desktop stopped waiting for this run (worker lost, no worker in time): make sure
        no worker runs it later, and that one still running it ends it."""

        def stop() -> None:
            try:
                self._connect().set(cancel_key(run.task_id), reason, ex=CANCEL_TTL)
                self._app.control.revoke(run.task_id)
            except Exception as exc:
                log.warning("remote run %s: cannot cancel it for good: %s", run.task_id, broker.reason(exc))

        self._work.put(stop)


class _RemoteExecution:
    def __init__(self, runner: CeleryRunner, run: RemoteRun | None) -> None:
        self._runner = runner
        self._run = run

    def cancel(self, reason: str) -> None:
        if self._run is not None:
            self._runner.cancel(self._run, reason)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
