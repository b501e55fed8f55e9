"""Desktop side: one thread follows every remote run in flight through its Redis stream.

It reads the runs' streams in one blocking XREAD (100 ms at most, so new runs join quickly),
writes output into the local logs (jobs.remote.remote_log) and passes the reports on to each
run's listener. About once a second it reads the workers' heartbeats:
- a run still waiting: is any worker of its pool alive? If not, the run says "no worker on
  pool gpu", and past its wait limit (the job's missed-run grace) it ends `missed`;
- a run started: is its task in progress on a worker that is alive? If not for the heartbeat
  timeout, it ends `interrupted` ("worker lost") and is cancelled for good: never re-run.
While Redis is away it retries with a backoff and keeps every run; once Redis is back each
worker gets a fresh timeout to write again, and the runs go on from where their streams are.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from jobs.model import RunOutcome, RunStatus
from jobs.remote import registry
from jobs.remote.protocol import HEARTBEAT_TIMEOUT, log_notes, outcome_from_dict, stream_key
from jobs.remote.remote_log import RemoteLog
from jobs.runners.base import RunHandle, RunListener, RunStarted, Stream

log = logging.getLogger(__name__)

RUNNER_NAME = "celery"
_BLOCK_MS = 100
_CHECK_EVERY = 1.0
_BACKOFF_FIRST, _BACKOFF_CAP = 0.2, 2.0


def no_worker_note(pool: str) -> str:
    return f"no worker on pool {pool}"


@dataclass
class RemoteRun:
    """One run the follower watches (its fields are the follower thread's, except
    `cancel_reason` and `done`, which take the runner's lock)."""

    task_id: str
    pool: str
    listener: RunListener
    log_path: Path | None
    wait_limit: float | None = None  # seconds it may wait with no worker on its pool
    started: bool = False
    resume: bool = False  # re-attached after a restart: its log already holds some output
    last_id: str = "0-0"
    log: RemoteLog | None = None
    note: str | None = None
    cancel_reason: str | None = None
    done: bool = False
    waiting_since: float = field(default_factory=time.monotonic)
    seen_at: float = field(default_factory=time.monotonic)  # last sign of life (entry or heartbeat)

    @property
    def handle(self) -> RunHandle:
        return RunHandle(RUNNER_NAME, ref=self.task_id)


class Follower:
    def __init__(self, make_client: Callable[[], Any], on_give_up: Callable[[RemoteRun, str], None],
                 heartbeat_timeout: float = HEARTBEAT_TIMEOUT) -> None:
        self._make_client = make_client  # called on the follower's thread (importing redis takes a while)
        self._client: Any = None
        self._on_give_up = on_give_up  # cancel the task for good (runs on the sender thread)
        self._timeout = heartbeat_timeout
        self._liveness = registry.Liveness(heartbeat_timeout)
        self.lock = threading.Lock()  # guards the runs, and each run's `done` and `cancel_reason`
        self._runs: dict[str, RemoteRun] = {}
        self._wake = threading.Event()
        self._closed = False
        self._next_check = 0.0
        self._thread = threading.Thread(target=self._follow_forever, name="remote-runs", daemon=True)
        self._thread.start()

    def add(self, run: RemoteRun) -> None:
        with self.lock:
            self._runs[run.task_id] = run
        self._wake.set()

    def close(self) -> None:
        """Stop following (the runs go on on their workers; a later start follows them again)."""
        self._closed = True
        self._wake.set()
        self._thread.join(2.0)
        with self.lock:
            runs = list(self._runs.values())
        for run in runs:
            if run.log is not None:
                run.log.abandon()

    def finish(self, run: RemoteRun, outcome: RunOutcome, *, cap: int | None = None) -> bool:
        """End `run` once: close its log, tell its listener. False if it had ended already."""
        with self.lock:
            if run.done:
                return False
            run.done = True
            self._runs.pop(run.task_id, None)
            reason = run.cancel_reason
        if reason is not None and outcome.status is RunStatus.KILLED:
            outcome = replace(outcome, error=f"killed: {reason}")
        if run.log is None and run.log_path is not None and (run.started or outcome.started_at is not None):
            run.log = self._open_log(run)
        if run.log is not None:
            truncated = cap if outcome.truncated and cap is not None else None
            discarded = max(0, outcome.output_bytes - cap) if truncated is not None and cap is not None else 0
            run.log.close(log_notes(outcome), truncated_after=truncated, discarded=discarded)
        try:
            run.listener.finished(outcome)
        except Exception:
            log.exception("recording the end of remote run %s failed", run.task_id)
        return True

    # --- the thread ----------------------------------------------------------------------------

    def _follow_forever(self) -> None:
        try:
            self._client = self._make_client()
        except Exception:  # redis not installed: the sender says so for every run
            log.exception("cannot follow remote runs")
            return
        backoff = _BACKOFF_FIRST
        away_since: float | None = None
        while not self._closed:
            with self.lock:
                runs = dict(self._runs)
            if not runs:
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            try:
                self._read(runs)
                if time.monotonic() >= self._next_check:
                    self._check(runs)
                    self._next_check = time.monotonic() + _CHECK_EVERY
            except Exception as exc:
                if not _is_connection_error(exc):
                    log.exception("following remote runs failed; trying again")
                elif away_since is None:
                    log.warning("lost the broker while following %d remote run(s) (%s); trying again", len(runs), exc)
                away_since = away_since or time.monotonic()
                time.sleep(backoff)
                backoff = min(_BACKOFF_CAP, backoff * 2)
                continue
            if away_since is not None:  # back: everyone gets a fresh heartbeat timeout
                log.warning("the broker is back after %.1fs", time.monotonic() - away_since)
                now = time.monotonic()
                self._liveness.forgive(now)
                for run in runs.values():
                    run.seen_at = now
                away_since = None
            backoff = _BACKOFF_FIRST

    def _read(self, runs: dict[str, RemoteRun]) -> None:
        streams = {stream_key(task_id): run.last_id for task_id, run in runs.items()}
        answer = self._client.xread(streams, count=500, block=_BLOCK_MS)
        for key, entries in answer or ():
            task_id = (key.decode() if isinstance(key, bytes) else str(key)).rsplit(":", 1)[1]
            run = runs.get(task_id)
            if run is None:
                continue
            for entry_id, fields in entries:
                run.last_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
                if run.done:
                    break
                self._apply(run, {k.decode(): v.decode("utf-8", errors="replace") for k, v in fields.items()})

    def _apply(self, run: RemoteRun, entry: dict[str, str]) -> None:
        kind = entry.get("kind")
        run.seen_at = time.monotonic()
        if kind == "started":
            self._started(run, entry)
        elif kind == "output":
            if run.log is None and run.log_path is not None:
                run.log = self._open_log(run)
            text = entry.get("text", "")
            stream: Stream = "stderr" if entry.get("stream") == "stderr" else "stdout"
            new = run.log.feed(text, stream) if run.log is not None else text
            if new:
                try:
                    run.listener.output(new, stream)
                except Exception:
                    log.exception("passing on the output of remote run %s failed", run.task_id)
        elif kind == "finished":
            outcome = outcome_from_dict(json.loads(entry.get("outcome") or "{}"))
            cap = int(entry["cap"]) if entry.get("cap", "").isdigit() else None
            if self.finish(run, outcome, cap=cap):
                self._forget_stream(run)

    def _started(self, run: RemoteRun, entry: dict[str, str]) -> None:
        if run.started:
            return  # a re-attached run reads its stream again from the start
        run.started = True
        if run.log is None and run.log_path is not None:
            run.log = self._open_log(run)
        started_at = datetime.fromtimestamp(float(entry.get("started_at") or time.time()), timezone.utc)
        pid = int(entry["pid"]) if entry.get("pid", "").isdigit() else None
        began = float(entry["process_started_at"]) if entry.get("process_started_at") else None
        info = RunStarted(started_at, RunHandle(RUNNER_NAME, pid=pid, process_started_at=began, ref=run.task_id),
                          host=entry.get("host") or None)
        try:
            run.listener.started(info)
        except Exception:
            log.exception("recording the start of remote run %s failed", run.task_id)

    def _open_log(self, run: RemoteRun) -> RemoteLog | None:
        assert run.log_path is not None
        try:
            return RemoteLog(run.log_path, resume=run.resume)
        except OSError as exc:
            log.warning("remote run %s: cannot write its log %s: %s", run.task_id, run.log_path, exc)
            return None

    def _check(self, runs: dict[str, RemoteRun]) -> None:
        snapshot = registry.read(self._client)
        now = time.monotonic()
        self._liveness.update(snapshot, now)
        in_progress = self._liveness.running(snapshot, now)
        for run in runs.values():
            if run.done:
                continue
            if run.task_id in in_progress:
                run.seen_at = max(run.seen_at, in_progress[run.task_id])
                if not run.started:
                    run.started = True  # its `started` entry is lost (Redis restarted): the worker says so
            if run.started:
                if now - run.seen_at > self._timeout:
                    self._lost(run)
                continue
            alive = self._liveness.pool_alive(snapshot, run.pool, now)
            note = None if alive else no_worker_note(run.pool)
            if alive:
                run.waiting_since = now
            if note != run.note:
                run.note = note
                try:
                    run.listener.queued(run.handle, run.pool, note)
                except Exception:
                    log.exception("recording the wait of remote run %s failed", run.task_id)
            if note is not None and run.wait_limit is not None and now - run.waiting_since > run.wait_limit:
                self._on_give_up(run, note)
                self.finish(run, RunOutcome(RunStatus.MISSED, None, None, _utcnow(), error=note))

    def _lost(self, run: RemoteRun) -> None:
        error = f"worker lost: no heartbeat with this run for {self._timeout:g}s"
        log.warning("remote run %s on pool %s: %s", run.task_id, run.pool, error)
        self._on_give_up(run, "worker lost")
        if self.finish(run, RunOutcome(RunStatus.INTERRUPTED, None, None, _utcnow(), error=error)):
            self._forget_stream(run)

    def _forget_stream(self, run: RemoteRun) -> None:
        try:
            self._client.delete(stream_key(run.task_id))
        except Exception:  # it expires by itself
            pass


def _is_connection_error(exc: BaseException) -> bool:
    import redis

    return isinstance(exc, (redis.ConnectionError, redis.TimeoutError, OSError))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)
