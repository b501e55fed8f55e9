"""Telling the user that a run ended, per the job's notify policy (never / failure / always).

`Notifier.notify(record, spec)` makes the whole decision, in one place:

1. policy (jobs.alerts.policy, shared with e-mail and webhooks): `Notify.NEVER` says nothing;
   `FAILURE` speaks only for failed, timed-out, killed or interrupted runs and for a run that
   waited past its conditions' deadline; `ALWAYS` for every finished run (slots missed while
   closed and skipped rows are not "runs that ended" and never notify);
2. channel: the tray's balloon when a tray really exists (clicking it opens the run's output);
   else the desktop's notification service (freedesktop, over the D-Bus session bus) when the bus
   is connected and the service is registered; else a banner in the window with a "View output"
   button. The banner floats in the empty part of the tab bar's row: it covers no control and
   moves nothing (one that pushed the window down made a user click the wrong job's Pause).

Nothing here blocks: the D-Bus presence check is an asynchronous `NameHasOwner` call made once.
WORKAROUND: PySide6 marshals every Python int as int32, so a `Notify` call built with QtDBus has
the signature (sisssasa{sv}i) and GDBus-based servers reject it (they want a uint32
replaces_id). The notification itself is therefore sent by `gdbus call` (or `notify-send`) in a
detached process, which types the arguments from the service's introspection data.
"""

from __future__ import annotations

import logging
import shutil
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QProcess, QRect, Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QTabWidget, QToolButton

from desktop.elided_label import ElidedLabel
from desktop.formatting import format_duration, status_icon
from desktop.history.run_text import own_error, stderr_last_lines
from desktop.naming import named
from jobs.alerts.policy import wants_notice
from jobs.model import JobSpec, Notify, RunRecord, RunStatus

log = logging.getLogger(__name__)

FREEDESKTOP = "org.freedesktop.Notifications"
FREEDESKTOP_PATH = "/org/freedesktop/Notifications"
TRAY, DBUS, BANNER = "tray", "dbus", "banner"
EXPIRE_MS = 10_000
STDERR_LINES = 2  # of a failed run's stderr, in the notification


def wants_notification(record: RunRecord, spec: JobSpec | None) -> bool:
    """The job's policy applied to a finished run: the same rule as e-mail and webhooks
    (jobs.alerts.policy; a run that waited past its conditions' deadline counts as a failure)."""
    return wants_notice(record, spec.notify if spec is not None else Notify.FAILURE)


def message_for(record: RunRecord, spec: JobSpec | None) -> tuple[str, str]:
    """("Nightly report failed", "exit code 2 after 12.3 s\nValueError: bad row 7"): what ended,
    then for a failure the last lines of stderr, which usually say why. An error text that only
    repeats the exit code ("exit code 2") counts as none, so the duration is not lost."""
    name = spec.name if spec is not None else record.job_name
    if record.status is RunStatus.SUCCEEDED:
        title = f"{name} succeeded"
    elif record.status is RunStatus.FAILED:
        title = f"{name} failed"
    else:
        title = f"{name}: {record.status.value}"
    if record.attempt > 1:  # the final attempt of a chain of retries (jobs.retries)
        title += f" after {record.attempt} attempts"
    duration = record.duration
    after = f" after {duration:.1f} s" if duration is not None and duration < 60 else (
        f" after {format_duration(duration)}" if duration is not None else ""
    )
    error = own_error(record)
    if error:
        head = error.splitlines()[0][:300]
    elif record.exit_code is not None:
        head = f"exit code {record.exit_code}{after}"
    else:
        head = f"run #{record.id}{after}"
    lines = [head]
    if record.status.is_failure:
        lines.extend(stderr_last_lines(record, STDERR_LINES))
    return title, "\n".join(lines)


class DesktopNotifications(QObject):
    """The freedesktop notification service, if this session has one (found out asynchronously)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available = False
        self._watcher = None
        self._sender = shutil.which("gdbus") or shutil.which("notify-send")
        try:
            from PySide6.QtDBus import QDBusConnection, QDBusMessage, QDBusPendingCallWatcher

            bus = QDBusConnection.sessionBus()
            if not bus.isConnected() or self._sender is None:
                return
            ask = QDBusMessage.createMethodCall(
                "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner"
            )
            ask.setArguments([FREEDESKTOP])
            self._watcher = QDBusPendingCallWatcher(bus.asyncCall(ask), self)
            self._watcher.finished.connect(self._answered)
        except Exception:  # no QtDBus module or no bus library: just no desktop notifications
            log.debug("no D-Bus session bus", exc_info=True)

    @Slot(object)
    def _answered(self, watcher: object) -> None:
        try:
            reply = watcher.reply()  # type: ignore[attr-defined]
            arguments = reply.arguments()
            self.available = bool(arguments and arguments[0])
        except Exception:
            self.available = False
        log.debug("desktop notification service %s", "found" if self.available else "not found")

    def send(self, title: str, body: str, icon_path: str = "") -> bool:
        if not self.available or self._sender is None:
            return False
        if self._sender.endswith("gdbus"):
            args = ["call", "--session", "--dest", FREEDESKTOP, "--object-path", FREEDESKTOP_PATH,
                    "--method", f"{FREEDESKTOP}.Notify", "Jobdesk", "0", icon_path, title, body, "[]", "{}",
                    str(EXPIRE_MS)]  # fmt: skip
        else:
            args = ["--app-name=Jobdesk", f"--expire-time={EXPIRE_MS}", *([f"--icon={icon_path}"] if icon_path else []),
                    title, body]  # fmt: skip
        started, _pid = QProcess.startDetached(self._sender, args)
        return bool(started)


class Banner(QFrame):
    """A dismissible notice over the empty right part of `tabs`' tab bar: icon, message, "View
    output", close. It is no part of any layout, so showing it moves nothing.

    Signals:
        view_requested(int): "View output" was pressed for this run id.
    """

    view_requested = Signal(int)
    GAP = 16  # px between the last tab and the banner

    def __init__(self, tabs: QTabWidget) -> None:
        super().__init__(tabs)
        self.setObjectName("notificationBanner")
        self._tabs = tabs
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self.run_id: int | None = None
        self.icon_label = named(QLabel(self), "bannerIcon")
        self.text_label = named(ElidedLabel(self), "bannerText")
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        self.view_button = named(QPushButton("View output", self), "bannerViewOutput")
        self.close_button = named(QToolButton(self), "bannerClose")
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.icon_label)
        layout.addWidget(self.text_label, 1)
        layout.addWidget(self.view_button)
        layout.addWidget(self.close_button)
        self.view_button.clicked.connect(self._view)
        self.close_button.clicked.connect(self.hide)
        tabs.installEventFilter(self)  # its resizes (the tab bar gets far more events: not watched)
        self.hide()

    def show_message(self, title: str, body: str, record: RunRecord) -> None:
        self.run_id = record.id
        self.icon_label.setPixmap(status_icon(record.status).pixmap(16, 16))
        self.text_label.set_full_text(" — ".join([title, *body.splitlines()]), f"{title}\n{body}")
        self.place()
        self.show()
        self.raise_()

    def place(self) -> None:
        """Fill the tab bar's row right of the last tab (the tab bar spans the whole width)."""
        bar = self._tabs.tabBar()
        last = bar.tabRect(bar.count() - 1) if bar.count() else QRect()
        left = bar.x() + last.right() + self.GAP
        height = bar.height()
        for button in (self.view_button, self.close_button):
            button.setFixedHeight(max(16, height - 4))
        self.setGeometry(QRect(left, bar.y(), max(0, self._tabs.width() - left - 2), height))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest, QEvent.Type.Move) and self.isVisible():
            self.place()
        return False

    @Slot()
    def _view(self) -> None:
        if self.run_id is not None:
            self.view_requested.emit(self.run_id)
        self.hide()


class Notifier(QObject):
    """Decides whether and where to tell about a finished run.

    Signals:
        view_requested(int): the user clicked a notification of this run id.
    """

    view_requested = Signal(int)

    def __init__(
        self,
        banner: Banner,
        tray: object | None = None,
        *,
        tray_available: Callable[[], bool] | None = None,
        desktop: DesktopNotifications | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._banner = banner
        self._tray = tray  # desktop.tray.Tray
        self._tray_available = tray_available or (lambda: False)
        self._desktop = desktop
        self._last_run_id: int | None = None
        self.last: tuple[str, str, str] | None = None  # (channel, title, body) of the last notification
        banner.view_requested.connect(self.view_requested)
        if tray is not None:
            tray.icon.messageClicked.connect(self._tray_message_clicked)  # type: ignore[attr-defined]

    def channel(self) -> str:
        if self._tray is not None and self._tray_available():
            return TRAY
        if self._desktop is not None and self._desktop.available:
            return DBUS
        return BANNER

    def notify(self, record: RunRecord, spec: JobSpec | None) -> str | None:
        """Tell about `record` if its job's policy wants it; returns the channel used, or None."""
        if not wants_notification(record, spec):
            return None
        title, body = message_for(record, spec)
        channel = self.channel()
        if channel == DBUS and not self._desktop.send(title, body):  # type: ignore[union-attr]
            channel = BANNER
        if channel == TRAY:
            self._last_run_id = record.id
            self._tray.show_message(title, body, failed=record.status.is_failure)  # type: ignore[union-attr]
        elif channel == BANNER:
            self._banner.show_message(title, body, record)
        self.last = (channel, title, body)
        log.info("notified (%s): %s: %s", channel, title, body)
        return channel

    @Slot()
    def _tray_message_clicked(self) -> None:
        if self._last_run_id is not None:
            self.view_requested.emit(self._last_run_id)
