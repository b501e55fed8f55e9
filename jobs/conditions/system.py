"""`SystemConditions`: the conditions as this computer reports them, through maintained
libraries and the platform's own APIs.

- AC power: `psutil.sensors_battery()` on Linux, Windows and macOS (about 10 µs here); no
  battery at all (a desktop) means AC power. Read when asked: the gate polls it every few
  seconds while a run waits for it.
- Network: Qt's `QNetworkInformation` reachability, with its change signal. On Linux the backend
  is NetworkManager when the system bus has it, else glib, which reports "Online" for any
  default route (NOTES item 38): "network" therefore means "a route", not "the internet".
  Without a Qt application on this thread (the command line acting on the store) or without a
  backend, a non-loopback interface that is up with an address counts (psutil).
- A named server: a TCP connection with a short timeout (`network:HOST:PORT`), made by the
  gate's worker thread, never the GUI thread.

The QObject that listens to QNetworkInformation lives on the thread that made this object (the
GUI thread); worker threads only read the plain bool it keeps.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Callable

import psutil
from PySide6.QtCore import QCoreApplication, QObject, QThread, Slot

log = logging.getLogger(__name__)


class SystemConditions:
    def __init__(self) -> None:
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._online: bool | None = None  # from QNetworkInformation; None: unknown, ask psutil
        self._watcher: _ReachabilityWatcher | None = None
        self._warned_power = False
        app = QCoreApplication.instance()
        if app is not None and QThread.currentThread() is app.thread():
            self._watcher = _ReachabilityWatcher(self._set_online)

    @property
    def network_backend(self) -> str | None:
        """QNetworkInformation's backend ("networkmanager", "glib", ...), None without one."""
        return self._watcher.backend if self._watcher is not None else None

    def ac_power(self) -> bool | None:
        try:
            battery = psutil.sensors_battery()
        except (AttributeError, NotImplementedError, OSError, RuntimeError) as exc:
            if not self._warned_power:
                self._warned_power = True
                log.warning("cannot tell whether this computer is on AC power (%s); ac-power counts as met", exc)
            return None
        if battery is None:
            return True  # no battery: always on mains
        return None if battery.power_plugged is None else bool(battery.power_plugged)

    def network(self) -> bool:
        online = self._online
        return online if online is not None else interfaces_up()

    def reachable(self, host: str, port: int, timeout: float) -> bool:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except (OSError, ValueError):
            return False

    def subscribe(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def _set_online(self, online: bool | None) -> None:
        changed = online != self._online
        self._online = online
        if changed:
            words = "unknown" if online is None else "connected" if online else "not connected"
            log.info("network reachability changed: %s", words)
            with self._lock:
                callbacks = list(self._callbacks)
            for callback in callbacks:
                callback()


def interfaces_up() -> bool:
    """A network interface other than loopback is up and has an address (psutil)."""
    try:
        stats = psutil.net_if_stats()
        addresses = psutil.net_if_addrs()
    except (OSError, RuntimeError):
        return True  # cannot tell: do not hold runs forever
    for name, stat in stats.items():
        if not stat.isup or "loopback" in getattr(stat, "flags", "") or name == "lo":
            continue
        for address in addresses.get(name, ()):
            if address.family in (socket.AF_INET, socket.AF_INET6) and not str(address.address).startswith("fe80"):
                return True
    return False


class _ReachabilityWatcher(QObject):
    """Follows QNetworkInformation's reachability on the GUI thread."""

    def __init__(self, report: Callable[[bool | None], None]) -> None:
        super().__init__()
        from PySide6.QtNetwork import QNetworkInformation

        self._report = report
        self.backend: str | None = None
        loaded = QNetworkInformation.instance() is not None or QNetworkInformation.loadDefaultBackend()
        if not loaded:
            loaded = QNetworkInformation.loadBackendByFeatures(QNetworkInformation.Feature.Reachability)
        info = QNetworkInformation.instance()
        if not loaded or info is None:
            log.info("no network information backend; a network interface that is up counts as connected")
            return
        self.backend = info.backendName()
        info.reachabilityChanged.connect(self._changed)
        self._changed(info.reachability())

    @Slot(object)
    def _changed(self, reachability: object) -> None:
        from PySide6.QtNetwork import QNetworkInformation

        kind = QNetworkInformation.Reachability
        if reachability in (kind.Online, kind.Site):
            self._report(True)
        elif reachability in (kind.Disconnected, kind.Local):
            self._report(False)
        else:
            self._report(None)
