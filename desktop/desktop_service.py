"""Notifications through the desktop's own service, with buttons that act.

`desktop-notifier` speaks each platform's service (freedesktop Notifications over D-Bus on Linux
via dbus-fast, WinRT toasts on Windows, the Notification Center in a macOS bundle) and calls
back when the user clicks the body or a button. A run's notification has "Show output" (raise
the window, select the run in History, show its output; clicking the body does the same) and
"Run again" (run the job now).

The library is asyncio-based; Jobdesk runs Qt on a qasync loop (desktop.app), so sending is a
task on that loop, on the GUI thread, and never blocks it. Its constructor needs no loop (on
Linux it only stores the name: the D-Bus connection is made at the first send, inside the
loop); the callbacks run on the loop (on Windows on a WinRT thread), so they only emit signals,
which Qt queues onto the GUI thread.

No service, no bus, or no running loop (a test without qasync): `send` returns False at once or
`undelivered` fires when the attempt failed, and `desktop.notifications.Notifier` falls back to
the tray balloon or the in-window banner. After a failure the service is not tried again for
`RETRY_AFTER` seconds, so a session without one costs one attempt a minute, not one per run.
This replaces `gdbus`/`notify-send` subprocesses (clicking those did nothing): dbus-fast types
`Notify`'s arguments from the service's introspection data, so QtDBus marshalling every Python
int as int32 (which GDBus-based servers reject for `replaces_id`) no longer matters.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.icons import icon_path
from jobs.model import RunRecord
from jobs.quick_thread import start_soon

log = logging.getLogger(__name__)

APP_NAME = "Jobdesk"
SHOW_OUTPUT, RUN_AGAIN = "Show output", "Run again"
RETRY_AFTER = 60.0  # seconds without trying the service after it failed
SEND_TIMEOUT = 10.0  # a D-Bus-activated service may take a while to start; more is a failure


def no_session_bus() -> bool:
    """Linux/BSD with no session bus to find (dbus-fast looks at these two and nothing else)."""
    if sys.platform in ("win32", "darwin"):
        return False
    return not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.environ.get("DISPLAY")


def _import_library() -> type:
    """desktop-notifier's modules and this platform's backend class (imports: ~50 ms idle, a few
    hundred with the start-up's threads busy)."""
    from desktop_notifier.main import get_backend_class

    return get_backend_class()


def warm_up() -> bool:
    """Import the library on a worker thread, so the first notification does not import it on the
    GUI thread (measured: a 150-300 ms freeze at 10,000 jobs). Nothing when no bus can be found."""
    if no_session_bus():
        return False
    start_soon(_quiet_import)  # jobs.quick_thread: the GUI thread does not wait for it to start
    return True


def _quiet_import() -> None:
    try:
        _import_library()
    except Exception:  # the first send says what is wrong, once
        pass


def _unavailable(exc: Exception) -> None:
    if isinstance(exc, RuntimeError):  # ours: the reason says it all
        log.warning("desktop notifications unavailable: %s", exc)
    else:
        log.warning("desktop notifications unavailable", exc_info=exc)


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class DesktopNotifications(QObject):
    """The platform's notification service (found out by trying it).

    Signals:
        show_requested(int): "Show output" or the notification's body was clicked, for this run id.
        run_again_requested(str): "Run again" was clicked, for this job id.
        delivered(object): the service took this RunRecord's notification.
        undelivered(object, str, str): it did not (record, title, body): show it another way.
    """

    show_requested = Signal(int)
    run_again_requested = Signal(str)
    delivered = Signal(object)
    undelivered = Signal(object, str, str)
    text_clicked = Signal(str)  # a `send_text` notification was clicked (its title)
    text_undelivered = Signal(str, str)  # a `send_text` notification did not get through (title, body)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._notifier: Any = None  # made at the first send: the import and bus wait until needed
        self._tasks: set[asyncio.Task[None]] = set()  # kept: an unreferenced task may vanish
        self._failed_at: float | None = None
        self._closed = False
        self.closing: asyncio.Task[None] | None = None  # the bus disconnecting, after close()

    @property
    def available(self) -> bool:
        """Worth trying now: a loop runs and the service did not just fail."""
        if self._closed or running_loop() is None:
            return False
        return self._failed_at is None or time.monotonic() - self._failed_at > RETRY_AFTER

    def send(self, record: RunRecord, title: str, body: str) -> bool:
        """Start sending; False if it cannot even start (then nothing else happens)."""
        loop = running_loop()
        if not self.available or loop is None:
            return False
        try:
            notifier = self._make_notifier()
        except Exception as exc:  # the library or its platform backend cannot load here
            _unavailable(exc)
            self._failed_at = time.monotonic()
            return False
        task = loop.create_task(self._send(notifier, record, title, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def send_text(self, title: str, body: str) -> bool:
        """A notification about no single run (the wake-up digest): no buttons; a click emits
        `text_clicked`, a failure `text_undelivered`. False if it cannot even start."""
        loop = running_loop()
        if not self.available or loop is None:
            return False
        try:
            notifier = self._make_notifier()
        except Exception as exc:  # the library or its platform backend cannot load here
            _unavailable(exc)
            self._failed_at = time.monotonic()
            return False
        task = loop.create_task(self._send_text(notifier, title, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _send_text(self, notifier: Any, title: str, body: str) -> None:
        dispatched: list[bool] = []
        try:
            await asyncio.wait_for(notifier.send(title, body, on_clicked=lambda: self.text_clicked.emit(title),
                                                 on_dispatched=lambda: dispatched.append(True)), SEND_TIMEOUT)  # fmt: skip
        except Exception:
            log.warning("desktop notification not sent", exc_info=True)
        if self._closed:
            return
        if dispatched:
            self._failed_at = None
        else:
            self._failed_at = time.monotonic()
            self.text_undelivered.emit(title, body)

    def _make_notifier(self) -> Any:
        if self._notifier is None:
            if no_session_bus():  # else each notification fails with a traceback in the log
                raise RuntimeError("no D-Bus session bus (neither DBUS_SESSION_BUS_ADDRESS nor DISPLAY is set)")
            if _import_library().__name__ == "DummyNotificationCenter":  # e.g. macOS outside the .app
                raise RuntimeError("desktop-notifier has no backend for this platform or start-up")
            from desktop_notifier import DesktopNotifier, Icon

            path = icon_path("jobdesk")
            self._notifier = DesktopNotifier(app_name=APP_NAME, app_icon=Icon(path=path) if path.exists() else None)
        return self._notifier

    async def _send(self, notifier: Any, record: RunRecord, title: str, body: str) -> None:
        from desktop_notifier import Button, Urgency

        run_id, job_id = record.id, record.job_id
        dispatched: list[bool] = []
        try:
            await asyncio.wait_for(notifier.send(
                title, body,
                urgency=Urgency.Critical if record.status.is_failure else Urgency.Normal,
                buttons=[Button(SHOW_OUTPUT, on_pressed=lambda: self.show_requested.emit(run_id)),
                         Button(RUN_AGAIN, on_pressed=lambda: self.run_again_requested.emit(job_id))],
                on_clicked=lambda: self.show_requested.emit(run_id),
                on_dispatched=lambda: dispatched.append(True),
            ), SEND_TIMEOUT)  # fmt: skip
        except Exception:  # the library logs its own failures; this is a timeout or its bug
            log.warning("desktop notification not sent", exc_info=True)
        if self._closed:
            return
        if dispatched:
            self._failed_at = None
            self.delivered.emit(record)
        else:
            self._failed_at = time.monotonic()
            self.undelivered.emit(record, title, body)

    def close(self) -> None:
        """Stop sending and drop the bus connection (the window is shutting down)."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        backend = getattr(self._notifier, "_backend", None)  # the library has no close of its own
        bus = getattr(backend, "bus", None)
        if bus is None:
            return
        try:
            bus.disconnect()  # a shutdown of the socket; the loop then closes it
            loop = running_loop()
            if loop is not None:
                self.closing = loop.create_task(bus.wait_for_disconnect())
        except Exception:
            log.debug("closing the notification bus failed", exc_info=True)
