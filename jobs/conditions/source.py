"""`ConditionSource`: what the machine says about the conditions a job may wait for.

One small interface, so the gate (jobs.conditions.gate) never knows where an answer comes from:
`SystemConditions` (jobs.conditions.system) asks the operating system, `MemoryConditions` (here)
is set by hand, for tests and for anyone who wants to drive the gate themselves.

Threads: `ac_power` and `network` are quick (cached or a few microseconds) and may be called
from any thread; `reachable` blocks up to its timeout and is called only from the gate's worker
thread. `subscribe` callbacks may run on any thread and must only wake someone up.
"""

from __future__ import annotations

import threading
from typing import Callable, Protocol


class ConditionSource(Protocol):
    def ac_power(self) -> bool | None:
        """True on AC power (or on a machine without a battery), False on battery, None when
        this machine cannot tell (then the condition is taken as met, and logged)."""

    def network(self) -> bool:
        """True when the system says it is connected: a route, not the internet (NOTES 38)."""

    def reachable(self, host: str, port: int, timeout: float) -> bool:
        """Whether a TCP connection to host:port succeeds within `timeout` seconds. Blocks."""

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call `callback` (from any thread) whenever a condition may have changed."""


class MemoryConditions:
    """A ConditionSource whose answers are set by hand; every change notifies subscribers.

    `probes` counts the reachability checks made, by (host, port).
    """

    def __init__(self, *, ac_power: bool | None = True, network: bool = True) -> None:
        self._lock = threading.Lock()
        self._ac_power = ac_power
        self._network = network
        self._reachable: dict[tuple[str, int], bool] = {}
        self._callbacks: list[Callable[[], None]] = []
        self.probes: dict[tuple[str, int], int] = {}

    def ac_power(self) -> bool | None:
        return self._ac_power

    def network(self) -> bool:
        return self._network

    def reachable(self, host: str, port: int, timeout: float) -> bool:
        with self._lock:
            self.probes[(host, port)] = self.probes.get((host, port), 0) + 1
            return self._network and self._reachable.get((host, port), False)

    def subscribe(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def set_ac_power(self, value: bool | None) -> None:
        self._ac_power = value
        self._changed()

    def set_network(self, value: bool) -> None:
        self._network = value
        self._changed()

    def set_reachable(self, host: str, port: int, value: bool) -> None:
        with self._lock:
            self._reachable[(host, port)] = value
        self._changed()

    def _changed(self) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback()
