"""Telling the user that a run ended, per the job's notify policy (never / failure / always).

`Notifier.notify(record, spec)` makes the whole decision, in one place:

1. policy (jobs.alerts.policy, shared with e-mail and webhooks): `Notify.NEVER` says nothing;
   `FAILURE` speaks only for failed, timed-out, killed or interrupted runs and for a run that
   waited past its conditions' deadline; `ALWAYS` for every finished run (slots missed while
   closed and skipped rows are not "runs that ended" and never notify);
2. channel: the desktop's notification service (desktop.desktop_service: desktop-notifier on the
   qasync loop) with "Show output" and "Run again" buttons, when a loop runs and the service did
   not just fail; else (or when sending fails, which is found out asynchronously) the tray's
   balloon when a tray really exists (clicking it opens the run's output); else a banner in the
   window with a "View output" button. The banner floats in the empty part of the tab bar's row:
   it covers no control and moves nothing (one that pushed the window down made a user click
   the wrong job's Pause).

Nothing here blocks: sending is an asyncio task; its failure arrives as a signal.
"""

from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QRect, Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QTabWidget, QToolButton

from desktop.desktop_service import DesktopNotifications
from desktop.elided_label import ElidedLabel
from desktop.formatting import format_duration, status_icon
from desktop.history.run_text import own_error, stderr_last_lines
from desktop.naming import named
from jobs.alerts.policy import wants_notice
from jobs.model import JobSpec, Notify, RunRecord, RunStatus

log = logging.getLogger(__name__)

TRAY, DBUS, BANNER = "tray", "dbus", "banner"  # DBUS: the desktop's service, whatever the platform
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
        self._icon_status: RunStatus | None = None  # whose icon icon_label shows
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
        """Show (or replace) the message. While it shows, only what changed is redone: in a
        burst of 100 failed runs each one replaced the last, and re-placing and re-raising the
        banner every time cost the GUI thread ~20 calls into Qt per run."""
        self.run_id = record.id
        if record.status is not self._icon_status:
            self.icon_label.setPixmap(status_icon(record.status).pixmap(16, 16))
            self._icon_status = record.status
        self.text_label.set_full_text(" — ".join([title, *body.splitlines()]), f"{title}\n{body}")
        if not self.isVisible():  # while visible, eventFilter keeps it placed
            self.place()
            self.show()
            self.raise_()

    def place(self) -> None:
        """Fill the tab bar's row right of the last tab (the tab bar spans the whole width)."""
        bar = self._tabs.tabBar()
        last = bar.tabRect(bar.count() - 1) if bar.count() else QRect()
        left = bar.x() + last.right() + self.GAP
        height = bar.height()
        if self.view_button.height() != max(16, height - 4):
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
        view_requested(int): the user clicked a notification of this run id (or "Show output").
        run_again_requested(str): "Run again" was clicked on a notification of this job id.
    """

    view_requested = Signal(int)
    run_again_requested = Signal(str)

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
        # The desktop's service with buttons that act; made here unless a test brings its own
        self.desktop = desktop if desktop is not None else DesktopNotifications(self)
        self._last_run_id: int | None = None
        self.last: tuple[str, str, str] | None = None  # (channel, title, body) of the last notification
        banner.view_requested.connect(self.view_requested)
        if tray is not None:
            tray.icon.messageClicked.connect(self._tray_message_clicked)  # type: ignore[attr-defined]
        self.desktop.show_requested.connect(self.view_requested)
        self.desktop.run_again_requested.connect(self.run_again_requested)
        self.desktop.undelivered.connect(self._undelivered)

    def channel(self) -> str:
        if self.desktop.available:
            return DBUS
        return self._fallback_channel()

    def _fallback_channel(self) -> str:
        return TRAY if self._tray is not None and self._tray_available() else BANNER

    def notify(self, record: RunRecord, spec: JobSpec | None) -> str | None:
        """Tell about `record` if its job's policy wants it; returns the channel tried, or None."""
        if not wants_notification(record, spec):
            return None
        return self.tell(record, *message_for(record, spec))

    def tell(self, record: RunRecord, title: str, body: str) -> str:
        """Say `title`/`body` about `record` on the best channel there is; returns it."""
        channel = self.channel()
        if channel == DBUS and not self.desktop.send(record, title, body):
            channel = self._fallback_channel()
        self._show(channel, record, title, body)
        return channel

    def _show(self, channel: str, record: RunRecord, title: str, body: str) -> None:
        if channel == TRAY:
            self._last_run_id = record.id
            self._tray.show_message(title, body, failed=record.status.is_failure)  # type: ignore[union-attr]
        elif channel == BANNER:
            self._banner.show_message(title, body, record)
        self.last = (channel, title, body)
        log.info("notified (%s): %s: %s", channel, title, body)

    @Slot(object, str, str)
    def _undelivered(self, record: RunRecord, title: str, body: str) -> None:
        """The desktop's service did not take it (no service, no bus): say it another way."""
        self._show(self._fallback_channel(), record, title, body)

    def close(self) -> None:
        """The window is shutting down: no more sending, the bus connection closed."""
        self.desktop.close()

    @Slot()
    def _tray_message_clicked(self) -> None:
        if self._last_run_id is not None:
            self.view_requested.emit(self._last_run_id)
