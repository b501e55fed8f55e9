"""`jobdesk worker --broker URL --pool NAME [--concurrency N]`: a real Celery worker for one pool.

It is Celery's own worker (`worker_main`: prefork pool, task events on for Flower, remote
control for revoke) consuming the pool's queue, with one task, `jobdesk.run`. Before it
consumes anything it ends what a killed worker left running on this machine
(jobs.remote.leftovers). While it runs it writes a heartbeat to Redis every few seconds (pool,
host, tasks in progress), which the desktop reads to show the pool and to tell a lost worker.

This module and everything it imports stay free of Qt: a worker machine needs no display
libraries (tests/jobs/test_remote_run.py runs every worker with PySide6 unimportable).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from typing import Any

from jobs.remote import leftovers
from jobs.remote.broker import mask
from jobs.remote.protocol import (HEARTBEAT_INTERVAL, HEARTBEAT_TTL, NODES_KEY, POOLS_KEY, TASK_NAME, node_name,
                                  queue_name, worker_key)

log = logging.getLogger(__name__)


class Heartbeat:
    """Writes this worker's entry in the registry every HEARTBEAT_INTERVAL, from a thread of the
    worker's main process (the one that knows which tasks are in progress)."""

    def __init__(self, url: str, node: str, pool: str, concurrency: int) -> None:
        self._url = url
        self._entry: dict[str, Any] = {
            "node": node, "pool": pool, "host": socket.gethostname(), "pid": os.getpid(),
            "concurrency": concurrency, "started_at": time.time(), "beat": 0,
        }
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat_forever, name="jobdesk-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        try:
            from jobs.remote.celery_app import redis_client

            redis_client(self._url, socket_timeout=2.0).delete(worker_key(self._entry["node"]))
        except Exception:  # the registry entry expires by itself
            pass

    def _beat_forever(self) -> None:
        from jobs.remote.celery_app import redis_client

        client = redis_client(self._url, socket_timeout=5.0)
        while not self._stop.is_set():
            self._entry["beat"] += 1
            self._entry["time"] = time.time()
            self._entry["active"] = _active_task_ids()
            try:
                pipe = client.pipeline(transaction=False)
                pipe.set(worker_key(self._entry["node"]), json.dumps(self._entry), ex=HEARTBEAT_TTL)
                pipe.sadd(NODES_KEY, self._entry["node"])
                pipe.sadd(POOLS_KEY, self._entry["pool"])
                pipe.execute()
            except Exception as exc:  # Redis away: Celery reconnects on its own, and so do we
                log.warning("heartbeat not written (%s)", exc)
            self._stop.wait(HEARTBEAT_INTERVAL)


def _active_task_ids() -> list[str]:
    from celery.worker import state

    return sorted({request.id for request in list(state.active_requests) if request.id})


def run_worker(url: str, pool: str, concurrency: int, *, loglevel: str = "INFO") -> int:
    """Run the worker until it is stopped (Ctrl+C or SIGTERM: it finishes its runs first)."""
    from celery.signals import worker_ready, worker_shutdown

    from jobs.remote.celery_app import make_app
    from jobs.remote.task import run_task

    ended = leftovers.clean_up()
    if ended:
        print(f"jobdesk worker: ended {ended} process(es) a previous worker left running", flush=True)
    node = node_name(pool, os.getpid(), socket.gethostname())
    app = make_app(url)

    @app.task(name=TASK_NAME, bind=True)  # type: ignore[untyped-decorator]
    def run(task: Any, data: dict[str, Any]) -> dict[str, Any]:
        return run_task(url, str(task.request.id), str(task.request.hostname or node), data)

    heartbeat = Heartbeat(url, node, pool, concurrency)
    worker_ready.connect(lambda **_: heartbeat.start(), weak=False)
    worker_shutdown.connect(lambda **_: heartbeat.stop(), weak=False)
    print(f"jobdesk worker: pool {pool!r} on {mask(url)} as {node}", flush=True)
    app.worker_main(argv=[
        "worker", "--queues", queue_name(pool), "--concurrency", str(concurrency), "--task-events",
        "--hostname", node, "--pool", "prefork", "--loglevel", loglevel, "--without-mingle", "--without-gossip",
    ])
    return 0
