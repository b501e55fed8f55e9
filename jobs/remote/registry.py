"""Which workers are online on which pool: read from the heartbeats workers write to Redis.

For showing (`jobdesk workers`, the window) a worker is online while its last heartbeat is
younger than HEARTBEAT_TIMEOUT by this computer's clock. For deciding that a run's worker is
lost, `Liveness` never compares clocks of two machines: it notes when each worker's beat
counter last changed, on this computer's monotonic clock.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from jobs.remote.protocol import HEARTBEAT_TIMEOUT, NODES_KEY, POOLS_KEY, worker_key


@dataclass(frozen=True)
class WorkerInfo:
    node: str
    pool: str
    host: str
    pid: int
    concurrency: int
    active: tuple[str, ...]  # task ids in progress
    beat: int
    heartbeat_at: float  # epoch seconds, the worker's clock

    def online(self, now: float) -> bool:
        return now - self.heartbeat_at < HEARTBEAT_TIMEOUT


@dataclass(frozen=True)
class PoolInfo:
    name: str
    workers: tuple[WorkerInfo, ...]  # online ones
    running: int
    last_heartbeat: float | None

    @property
    def online(self) -> int:
        return len(self.workers)


@dataclass(frozen=True)
class Snapshot:
    workers: tuple[WorkerInfo, ...]  # every registry entry still there, online or not
    pools: tuple[str, ...]  # every pool ever seen
    taken_at: float

    def pool(self, name: str) -> PoolInfo:
        mine = [w for w in self.workers if w.pool == name]
        online = tuple(w for w in mine if w.online(self.taken_at))
        last = max((w.heartbeat_at for w in mine), default=None)
        return PoolInfo(name, online, sum(len(w.active) for w in online), last)

    def by_pool(self, also: tuple[str, ...] = ()) -> list[PoolInfo]:
        names = sorted({*self.pools, *(w.pool for w in self.workers), *also})
        return [self.pool(name) for name in names]


def read(client: Any) -> Snapshot:
    """One look at the registry (three round trips). Entries that expired are dropped from it."""
    nodes = sorted(n.decode() if isinstance(n, bytes) else str(n) for n in client.smembers(NODES_KEY))
    values = client.mget([worker_key(node) for node in nodes]) if nodes else []
    pools = tuple(sorted(p.decode() if isinstance(p, bytes) else str(p) for p in client.smembers(POOLS_KEY)))
    workers, gone = [], []
    for node, value in zip(nodes, values):
        info = _parse(node, value)
        if info is None:
            gone.append(node)
        else:
            workers.append(info)
    if gone:
        client.srem(NODES_KEY, *gone)
    return Snapshot(tuple(workers), pools, time.time())


def _parse(node: str, value: Any) -> WorkerInfo | None:
    if value is None:
        return None
    try:
        data = json.loads(value)
        return WorkerInfo(
            node=node, pool=str(data["pool"]), host=str(data.get("host", "")), pid=int(data.get("pid", 0)),
            concurrency=int(data.get("concurrency", 0)), active=tuple(str(t) for t in data.get("active", ())),
            beat=int(data.get("beat", 0)), heartbeat_at=float(data.get("time", 0.0)),
        )
    except (ValueError, KeyError, TypeError):
        return None


class Liveness:
    """Follows the workers' beats over several looks: alive means the beat counter moved within
    `timeout` seconds of this computer's monotonic clock."""

    def __init__(self, timeout: float = HEARTBEAT_TIMEOUT) -> None:
        self.timeout = timeout
        self._beats: dict[str, tuple[int, float]] = {}  # node -> (beat, when it was seen to change)

    def update(self, snapshot: Snapshot, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for worker in snapshot.workers:
            known = self._beats.get(worker.node)
            if known is None:  # first sight: trust its own clock once (a dead worker's entry lingers)
                self._beats[worker.node] = (worker.beat, now - max(0.0, snapshot.taken_at - worker.heartbeat_at))
            elif known[0] != worker.beat:
                self._beats[worker.node] = (worker.beat, now)

    def forgive(self, now: float | None = None) -> None:
        """After the broker was away, give every worker a fresh timeout to write again."""
        now = time.monotonic() if now is None else now
        self._beats = {node: (beat, now) for node, (beat, _) in self._beats.items()}

    def alive(self, node: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        known = self._beats.get(node)
        return known is not None and now - known[1] < self.timeout

    def running(self, snapshot: Snapshot, now: float | None = None) -> dict[str, float]:
        """task id -> when (monotonic) its worker's beat last moved, for tasks in progress on
        workers alive now: the last moment the task is known to have been going."""
        return {task: self._beats[w.node][1] for w in snapshot.workers if self.alive(w.node, now) for task in w.active}

    def pool_alive(self, snapshot: Snapshot, pool: str, now: float | None = None) -> bool:
        return any(w.pool == pool and self.alive(w.node, now) for w in snapshot.workers)
