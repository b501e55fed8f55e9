"""Worker side: a run's entries go to its Redis stream from a thread of their own.

The job's output thread only appends to a list here, so a slow or restarting Redis never
blocks the job's pipes (or the pool process's SIGTERM handling). Entries keep their order and
carry ids of our own ("0-1", "0-2", ...): a batch whose answer was lost is sent again, and
Redis refuses the ids it already has, so nothing is written twice. While Redis is away the
entries wait here (the run's output is capped like a local log, so they are bounded) and go
out once it is back, the outcome last.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

from jobs.remote.protocol import STREAM_MAXLEN, STREAM_TTL

log = logging.getLogger(__name__)

_BATCH = 200
_BACKOFF_FIRST, _BACKOFF_CAP = 0.1, 2.0


class Publisher:
    def __init__(self, client: Any, key: str) -> None:
        self._client = client
        self._key = key
        self._pending: deque[tuple[int, dict[str, str]]] = deque()
        self._seq = 0
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._send_forever, name=f"publish-{key}", daemon=True)
        self._thread.start()

    def add(self, kind: str, **fields: Any) -> None:
        entry = {"kind": kind, **{name: "" if value is None else str(value) for name, value in fields.items()}}
        with self._cond:
            self._seq += 1
            self._pending.append((self._seq, entry))
            self._cond.notify()

    def close(self, timeout: float) -> bool:
        """Send what is left (for up to `timeout` seconds); True when all of it went out."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout)
        with self._cond:
            self._closing = True
            sent = not self._pending
            self._pending.clear()
        return sent

    def _send_forever(self) -> None:
        backoff = _BACKOFF_FIRST
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending:
                    return
                batch = list(self._pending)[:_BATCH]
            try:
                self._send(batch)
            except Exception as exc:  # Redis away (restart, network): keep the entries, try again
                log.warning("cannot publish to %s (%s); trying again", self._key, exc)
                time.sleep(backoff)
                backoff = min(_BACKOFF_CAP, backoff * 2)
                continue
            backoff = _BACKOFF_FIRST
            with self._cond:
                for _ in batch:
                    self._pending.popleft()

    def _send(self, batch: list[tuple[int, dict[str, str]]]) -> None:
        import redis

        pipe = self._client.pipeline(transaction=False)
        for seq, entry in batch:
            pipe.xadd(self._key, entry, id=f"0-{seq}", maxlen=STREAM_MAXLEN, approximate=True)
        pipe.expire(self._key, STREAM_TTL)
        for result in pipe.execute(raise_on_error=False):
            if isinstance(result, redis.ResponseError) and "equal or smaller" not in str(result):
                raise result  # anything but "already there"
            if isinstance(result, (redis.ConnectionError, redis.TimeoutError)):
                raise result
