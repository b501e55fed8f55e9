"""The Celery application of both sides: the desktop sends with it, `jobdesk worker` runs it.

Settings that matter for Jobdesk's contract:
- JSON only for tasks, results and events (`accept_content`): a pickled message is code execution
  on the worker, and JSON is enough for a command line and an outcome;
- task events on (`-E` and sent events), so Flower and `celery events` show every run;
- acknowledged when a worker starts the task (not late) and one task fetched at a time: a worker
  that dies mid-run does not get its run handed to another worker (jobs may not be idempotent);
  a run only waiting in the queue still goes to the next worker;
- short connect timeouts and few publish retries: the desktop learns "broker unreachable" in
  seconds, never by blocking a scheduler;
- no result backend: a run's outcome comes back through its own stream (jobs.remote.protocol),
  and a result backend made every send subscribe to a result channel (measured: the sender
  thread fell behind at 50 runs a second).
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

from jobs.remote.broker import CONNECT_TIMEOUT

SOCKET_TIMEOUT = 10.0


def make_app(url: str, *, name: str = "jobdesk") -> Any:
    from celery import Celery  # here: the desktop imports this module on the GUI thread

    app = Celery(name, broker=url, set_as_current=False)
    transport: dict[str, Any] = {
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_timeout": SOCKET_TIMEOUT,
        "socket_keepalive": True,
        "retry_on_timeout": True,
        "visibility_timeout": 3600,
    }
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        event_serializer="json",
        worker_send_task_events=True,
        task_ignore_result=True,
        task_acks_late=False,
        task_reject_on_worker_lost=False,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=CONNECT_TIMEOUT,
        broker_transport_options=transport,
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5},
        worker_hijack_root_logger=False,
        enable_utc=True,
    )
    if urlsplit(url).scheme == "rediss":
        tls = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
        app.conf.update(broker_use_ssl=tls)
    return app


def redis_client(url: str, *, socket_timeout: float = SOCKET_TIMEOUT) -> Any:
    """A redis-py client for our own keys (streams, heartbeats, cancels), with the same timeouts."""
    import redis

    options: dict[str, Any] = {}
    if urlsplit(url).scheme == "rediss":
        options["ssl_cert_reqs"] = "required"
    return redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=socket_timeout, health_check_interval=30,
        **options,
    )
