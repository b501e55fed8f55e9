"""Logind's PrepareForSleep over the system bus, for the wake-up digest (jobs.wake_digest).

logind sends PrepareForSleep(true) just before the computer suspends or hibernates and
PrepareForSleep(false) right after it resumed: the core then forces a scheduler pass and
gathers what was missed in between into a digest, at once rather than at the clock watchdog's
next check (which stays the fallback where there is no system bus: other systems, containers).
The signal is connected with `QtCore.SLOT("prepareForSleep(bool)")`: given as a plain string,
PySide drops its first character and the connection silently fails (NOTES item 38).
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import SLOT, QObject, Slot

log = logging.getLogger(__name__)

LOGIND = "org.freedesktop.login1"
LOGIND_PATH = "/org/freedesktop/login1"
LOGIND_MANAGER = "org.freedesktop.login1.Manager"


class LogindSleepWatch(QObject):
    """`connected`: whether the signal is being listened to (False without a system bus)."""

    def __init__(self, service: Any, bus: Any = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self.connected = False
        try:
            from PySide6.QtDBus import QDBusConnection

            bus = QDBusConnection.systemBus() if bus is None else bus
            if bus.isConnected():
                self.connected = bool(bus.connect(LOGIND, LOGIND_PATH, LOGIND_MANAGER, "PrepareForSleep", self,
                                                  SLOT("prepareForSleep(bool)")))  # fmt: skip
        except Exception:  # no QtDBus or no bus library: the clock watchdog alone notices sleep
            log.debug("logind's sleep signal is not available", exc_info=True)
        log.debug("logind PrepareForSleep %s", "connected" if self.connected else "not available; the clock watchdog stands in")

    @Slot(bool)
    def prepareForSleep(self, going: bool) -> None:  # noqa: N802  (the D-Bus signal's slot signature)
        digests = self._service.wake_digests
        log.info("logind: %s", "going to sleep" if going else "woke up")
        if digests is not None and self._service.scheduling:
            digests.note_sleep(going)
