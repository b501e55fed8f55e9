"""The wake-up digest card: runs missed while the computer slept or Jobdesk was closed.

One card above the tabs, "While the computer was asleep (3 h 12 min): 4 runs of 2 jobs were
missed", and per job **Run latest / Run all missed / Skip** (jobs.digest_choice does what they
say and records it in history). Each job's missed-run policy has already acted; the card offers
only what it did not run, so ignoring the card keeps the policy's outcome. A new digest also
sends one notification. The digest is read and the choice carried out on worker threads (they
query and write the database); their results come back through queued signals (NOTES item 2).
Logind's sleep signal reaches the core through desktop.sleep_watch, made here too.
"""

from __future__ import annotations

import html
import logging
from typing import Any, Callable

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from desktop.digest_rows import TOOLTIP_SLOTS, DigestRowsModel, DigestRowsView
from desktop.gui_bridge import ensure_bridge, post
from desktop.formatting import status_icon
from desktop.naming import named
from jobs import digest_store as store
from jobs.digest_store import Digest
from jobs.model import RunStatus
from jobs.quick_thread import start_soon

log = logging.getLogger(__name__)

VISIBLE_ROWS = 5  # more jobs scroll inside the card (desktop.digest_rows)
# At 10,000 jobs a start's catch-up starts ~100 runs of jobs in the digest, and each start asks
# for a reload: reloads are coalesced.
RELOAD_DELAY_MS = 250
NOTIFICATION_TITLE = "Missed runs"
POLICY_NOTE = "Without a choice, each job's missed-run policy stands."


class _Worker(QObject):
    """Runs a callable on a daemon thread; `done(tag, result or Exception)` on the GUI thread."""

    done = Signal(object, object)

    def start(self, tag: object, work: Callable[[], object]) -> None:
        ensure_bridge()
        start_soon(self._run, tag, work)  # the GUI thread does not wait for it (jobs.quick_thread)

    def _run(self, tag: object, work: Callable[[], object]) -> None:
        result: object
        try:
            result = work()
        except Exception as exc:  # shown on the card (a refused choice says why)
            result = exc
        post(self, lambda: self.done.emit(tag, result))  # dropped if the card went away meanwhile


class DigestCard(QFrame):
    """Signals: notify_requested(str, str): title and text of the one notification a new digest gets."""

    notify_requested = Signal(str, str)

    def __init__(self, service: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        named(self, "digestCard", "Missed runs")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        self._service = service
        self.digest: Digest | None = None
        self.notify_next = False
        self.sleep_watch: QObject | None = None  # desktop.sleep_watch, set by install_digest_card
        self.window_: Any = None  # the main window, for its notifier and tray (install_digest_card)
        self._worker = _Worker(self)
        self._worker.done.connect(self._on_done)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self._load)
        self._headline_text = ""
        self._done: set[str] = set()  # jobs whose choice was carried out, their buttons still off

        icon = QLabel(self)
        icon.setPixmap(status_icon(RunStatus.MISSED).pixmap(20, 20))
        self.headline = named(QLabel(self), "digestHeadline")
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.message = named(QLabel(self), "digestMessage")  # a refused choice says why here
        self.message.setWordWrap(True)
        self.message.hide()
        self.model = DigestRowsModel(self)
        self.rows = named(DigestRowsView(self.model, self), "digestRows", "Jobs with missed runs")
        self.rows.cells.chosen.connect(self.choose)

        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.message)
        text.addWidget(self.rows)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(text, 1)
        self.hide()

    # --- loading -------------------------------------------------------------------------------

    @Slot(int, bool)
    def on_digest_changed(self, _digest_id: int, new: bool) -> None:
        self.notify_next = self.notify_next or new
        self.reload()

    @Slot(object)
    def on_run_started(self, record: Any) -> None:
        """A run of a job in the digest started (the policy's catch-up, just after start-up):
        Run latest may no longer make sense for it."""
        entry = self.digest.entry(record.job_id) if self.digest is not None else None
        if entry is not None and entry.ran_later is None:
            self.reload()

    def reload(self) -> None:
        if not self._reload_timer.isActive():
            self._reload_timer.start()  # what the others asked for meanwhile is read then too

    def _load(self) -> None:
        engine = self._service.engine
        self._worker.start("load", lambda: store.read_open(engine, newest=TOOLTIP_SLOTS))  # what the rows show

    def choose(self, job_id: str, choice: str) -> None:
        """What the row's buttons do: carry out `choice` for the job (on a worker thread)."""
        from jobs.digest_choice import choose

        if self.digest is None or self.model.is_busy(job_id):
            return
        self.model.set_busy(job_id, True)  # its buttons are off meanwhile
        service, digest_id = self._service, self.digest.id
        self._worker.start(("choose", job_id), lambda: choose(service, job_id, choice, digest_id))

    @Slot(object, object)
    def _on_done(self, tag: object, result: object) -> None:
        if tag == "load":
            if isinstance(result, Exception):
                log.warning("cannot read the wake-up digest: %s", result)
                return
            assert result is None or isinstance(result, Digest)
            self.show_digest(result)
            if result is not None and self.notify_next:
                self.notify_requested.emit(NOTIFICATION_TITLE, f"{result.headline()}. Choose in Jobdesk: run the latest, "
                                                          "run all missed, or skip.")  # fmt: skip
            self.notify_next = False
            return
        assert isinstance(tag, tuple)
        job_id = str(tag[1])
        if isinstance(result, Exception):
            self.message.setText(str(result))
            self.message.show()
            self.model.set_busy(job_id, False)
        else:
            self.message.hide()
            self._done.add(job_id)  # its buttons stay off until a digest read after the choice shows it
        self.reload()  # the choice also sends digest_changed when scheduling; this covers the rest

    # --- showing -------------------------------------------------------------------------------

    def show_digest(self, digest: Digest | None) -> None:
        """Show `digest` (None hides the card). The same jobs in the same order update only the
        rows whose entry changed: a catch-up reloads the digest every RELOAD_DELAY_MS."""
        self.digest = digest
        for job_id in self._done:  # gone from the digest by now, or offered again (a slot could not start)
            self.model.set_busy(job_id, False)
        self._done.clear()
        if digest is None:
            self.model.set_entries([])
            self.hide()
            return
        self._set_headline(digest)
        self.model.set_entries(list(digest.entries))
        self.rows.setFixedHeight(min(len(digest.entries), VISIBLE_ROWS) * self.rows.row_height())
        self.show()

    def _set_headline(self, digest: Digest) -> None:
        text = f"<b>{html.escape(digest.headline())}</b><br>{html.escape(POLICY_NOTE)}"
        if text != self._headline_text:
            self.headline.setText(text)
            self._headline_text = text

    # --- the notification (install_digest_card connects these) ---------------------------------

    @Slot(str, str)
    def send_notification(self, title: str, body: str) -> None:
        """The desktop's notification service (clicking it shows the window), else the tray's
        balloon; the card itself says it in the window either way."""
        if self.window_ is not None and not self.window_.notifier.desktop.send_text(title, body):
            self.tray_message(title, body)

    @Slot(str, str)
    def tray_message(self, title: str, body: str) -> None:
        if self.window_ is not None and self.window_.tray.available:
            self.window_.tray.show_message(title, body)

    @Slot(str)
    def notification_clicked(self, title: str) -> None:
        if self.window_ is not None and title == NOTIFICATION_TITLE:
            self.window_.show_window()

    def choice_index(self, job_id: str, choice: str) -> QModelIndex:
        """The cell of the job's `choice` button in `rows` (invalid when the job has no row)."""
        return self.model.choice_index(job_id, choice)

    def choice_enabled(self, job_id: str, choice: str) -> bool:
        index = self.choice_index(job_id, choice)
        return index.isValid() and bool(index.flags() & Qt.ItemFlag.ItemIsEnabled)


def install_digest_card(window: Any) -> DigestCard:
    """Put the card under the damage notice at the top of `window`'s central area, feed it the
    core's digests and logind's sleep signal, and let it notify through the window's notifier
    (call after the window made its tray and notifier)."""
    from desktop.sleep_watch import LogindSleepWatch

    card = DigestCard(window.service, window)
    window.centralWidget().layout().insertWidget(1, card)
    window.service.events.digest_changed.connect(card.on_digest_changed)
    window.service.events.run_started.connect(card.on_run_started)
    card.window_ = window
    card.notify_requested.connect(card.send_notification)
    window.notifier.desktop.text_clicked.connect(card.notification_clicked)
    window.notifier.desktop.text_undelivered.connect(card.tray_message)
    card.sleep_watch = LogindSleepWatch(window.service, parent=card)
    # A digest made by a start before this window existed is told of once too; one left open
    # by an earlier session is shown without a second notification.
    card.notify_next = getattr(window.service.wake_digests, "opened", None) is not None
    card.reload()
    return card
