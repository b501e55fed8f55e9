"""A real D-Bus session bus for tests, with a small freedesktop notification server on it.

`session_bus()` starts a private `dbus-daemon --session` (its address, and the process to end);
`NotificationServer` implements org.freedesktop.Notifications with dbus-fast: it records every
`Notify` call and can emit `ActionInvoked` the way a desktop does when a button is clicked.

No `from __future__ import annotations` here: dbus-fast reads the D-Bus signatures from the
method annotations at class creation.
"""

import shutil
import subprocess

from dbus_fast.aio import MessageBus
from dbus_fast.service import ServiceInterface, method, signal

NAME = "org.freedesktop.Notifications"
PATH = "/org/freedesktop/Notifications"


def start_session_bus() -> "tuple[str, subprocess.Popen[str]]":
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        raise RuntimeError("dbus-daemon is not installed (python3 dev.py installs it on Debian)")
    process = subprocess.Popen([daemon, "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    address = process.stdout.readline().strip() if process.stdout else ""
    if not address:
        process.kill()
        raise RuntimeError("dbus-daemon printed no address")
    return address, process


class NotificationServer(ServiceInterface):
    def __init__(self, server_name: str = "Test Notifications") -> None:
        super().__init__(NAME)
        self.server_name = server_name
        self.calls: list = []  # (app_name, summary, body, actions as [(key, label)], hints)
        self.bus = None
        self._next_id = 41

    async def start(self, address: str) -> None:
        self.bus = await MessageBus(bus_address=address).connect()
        self.bus.export(PATH, self)
        await self.bus.request_name(NAME)

    async def stop(self) -> None:
        if self.bus is not None:
            self.bus.disconnect()
            await self.bus.wait_for_disconnect()

    @method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s", actions: "as",
               hints: "a{sv}", expire_timeout: "i") -> "u":
        self._next_id += 1
        pairs = list(zip(actions[0::2], actions[1::2]))
        self.calls.append({"id": self._next_id, "app_name": app_name, "icon": app_icon, "summary": summary,
                           "body": body, "actions": pairs, "hints": hints})
        return self._next_id

    @method()
    def GetCapabilities(self) -> "as":
        return ["actions", "body"]

    @method()
    def GetServerInformation(self) -> "ssss":
        return [self.server_name, "jobdesk tests", "1.0", "1.2"]

    @method()
    def CloseNotification(self, notification_id: "u"):
        self.NotificationClosed(notification_id, 3)

    @signal()
    def ActionInvoked(self, notification_id: "u", action_key: "s") -> "us":
        return [notification_id, action_key]

    @signal()
    def NotificationClosed(self, notification_id: "u", reason: "u") -> "uu":
        return [notification_id, reason]

    def click(self, call: dict, label: str) -> None:
        """What the desktop does when the user clicks the button `label` ("default": the body)."""
        key = "default" if label == "default" else next(k for k, text in call["actions"] if text == label)
        self.ActionInvoked(call["id"], key)
