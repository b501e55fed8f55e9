"""`jobdesk worker` (run a Celery worker for a pool) and `jobdesk workers` (who is online).

`worker` needs no data directory and imports no Qt: it is what a worker machine runs. The broker
comes from --broker or JOBDESK_BROKER (the environment keeps the password out of `ps`).
`workers` reads the workers' heartbeats straight from the broker in this process (2-second
connect timeout), never through the running instance, whose event loop must not wait on the
network; the broker is --broker, JOBDESK_BROKER, or the one set with `jobdesk config broker`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from typing import Any

from jobs.command_errors import CommandFailed, UsageError
from jobs.paths import DataDir
from jobs.remote import broker
from jobs.remote.protocol import pool_problem

MAX_CONCURRENCY = 256


def add_remote_commands(sub: Any) -> None:
    worker = sub.add_parser(
        "worker", help="run jobs of a pool on this machine (a Celery worker; needs jobdesk[worker])",
        description="Run a Celery worker that runs the jobs sent to POOL. Stop it with Ctrl+C (it finishes its runs first).",
    )
    worker.add_argument("--broker", metavar="URL", help=f"redis://:PASSWORD@host:6379/0 or rediss://... (default: ${broker.ENV_VAR})")
    worker.add_argument("--pool", metavar="NAME", required=True, help="the pool whose jobs this worker runs (jobs say `--on NAME`)")
    worker.add_argument("--concurrency", metavar="N", type=int, default=None, help="runs at once (default: this machine's cores)")
    workers = sub.add_parser("workers", help="each pool's workers online, runs in progress and last heartbeat")
    workers.add_argument("--broker", metavar="URL", help=f"default: ${broker.ENV_VAR}, else `jobdesk config broker`")
    workers.add_argument("--json", action="store_true")


def _url(given: str | None, command: str) -> str | None:
    text = given if given is not None else broker.from_environment()
    if not text:
        return None
    try:
        return broker.check(text) or None
    except broker.BrokerUrlError as exc:
        raise UsageError(f"jobdesk {command}: --broker: {exc}") from None


def run_worker_command(args: argparse.Namespace) -> int:
    url = _url(args.broker, "worker")
    if url is None:
        raise UsageError(f"jobdesk worker: no broker: give --broker URL or set {broker.ENV_VAR}")
    problem = pool_problem(args.pool)
    if problem:
        raise UsageError(f"jobdesk worker: --pool: {problem}")
    concurrency = args.concurrency
    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"jobdesk worker: --concurrency: {concurrency} must be between 1 and {MAX_CONCURRENCY}")
    try:
        import celery  # noqa: F401
    except ImportError:
        raise CommandFailed('Celery is not installed here: pip install "jobdesk[worker]"') from None
    import os

    from jobs.remote.worker import run_worker

    return run_worker(url, args.pool, concurrency or os.cpu_count() or 1)


def show_workers(args: argparse.Namespace, data_dir: DataDir) -> int:
    url = _url(args.broker, "workers")
    if url is None and data_dir.root.exists():
        from jobs.client import send

        url = send(data_dir, {"op": "broker"}).get("url") or None
    if url is None:
        raise UsageError(f"jobdesk workers: no broker configured: `jobdesk config broker URL`, --broker or {broker.ENV_VAR}")
    from jobs.remote import registry
    from jobs.remote.celery_app import redis_client

    try:
        snapshot = registry.read(redis_client(url, socket_timeout=broker.CONNECT_TIMEOUT))
    except Exception as exc:
        raise CommandFailed(broker.unreachable(url, exc)) from None
    pools = [pool_json(info, snapshot.taken_at) for info in snapshot.by_pool()]
    if args.json:
        print(json.dumps(pools, indent=2))
    elif not pools:
        print(f"No worker has used {broker.mask(url)} yet. On a worker: jobdesk worker --broker URL --pool NAME")
    else:
        for pool in pools:
            last = _ago(pool["seconds_since_heartbeat"])
            print(f"{pool['pool']}: {pool['online']} online, {pool['running']} running, last heartbeat {last}")
            for worker in pool["workers"]:
                print(f"  {worker['node']}  {worker['running']}/{worker['concurrency']} running, "
                      f"heartbeat {_ago(worker['seconds_since_heartbeat'])}")
    return 0


def pool_json(info: Any, now: float) -> dict[str, Any]:
    """One pool as `workers --json` shows it (keys are only ever added)."""
    return {
        "pool": info.name,
        "online": info.online,
        "running": info.running,
        "last_heartbeat": _iso(info.last_heartbeat),
        "seconds_since_heartbeat": None if info.last_heartbeat is None else round(max(0.0, now - info.last_heartbeat), 1),
        "workers": [{
            "node": w.node, "host": w.host, "pid": w.pid, "concurrency": w.concurrency, "running": len(w.active),
            "task_ids": list(w.active), "last_heartbeat": _iso(w.heartbeat_at),
            "seconds_since_heartbeat": round(max(0.0, now - w.heartbeat_at), 1),
        } for w in info.workers],
    }


def _iso(epoch: float | None) -> str | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, timezone.utc).astimezone().isoformat(timespec="seconds")


def _ago(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:.0f}s ago"
