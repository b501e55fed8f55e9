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
import time
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

from desktop.elided_label import ElidedLabel
from desktop.gui_bridge import ensure_bridge, post
from desktop.formatting import status_icon
from desktop.naming import named
from jobs import digest_store as store
from jobs.digest_store import Digest, DigestEntry, MissedSlot
from jobs.model import RunStatus
from jobs.quick_thread import start_soon

log = logging.getLogger(__name__)

VISIBLE_ROWS = 5  # more jobs scroll inside the card
# At 10,000 jobs a start's catch-up starts ~100 runs of jobs in the digest: each start asked
# for a reload and each reload rebuilt every row (~1 s of GUI thread for 100 jobs). Reloads
# are coalesced, and rows are made a slice at a time with the event loop turning between.
RELOAD_DELAY_MS = 250
ROW_SLICE_S = 0.008
TOOLTIP_SLOTS = 12  # the newest missed slots a row's tooltip lists
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


@dataclass
class _Row:
    """One job's row: the entry it shows and its widgets."""

    entry: DigestEntry
    name: ElidedLabel
    slots: ElidedLabel
    buttons: list[QPushButton]


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
        self._busy: set[str] = set()  # jobs whose choice is being carried out
        self.sleep_watch: QObject | None = None  # desktop.sleep_watch, set by install_digest_card
        self.window_: Any = None  # the main window, for its notifier and tray (install_digest_card)
        self._worker = _Worker(self)
        self._worker.done.connect(self._on_done)
        self._reload_timer = QTimer(self, singleShot=True, interval=RELOAD_DELAY_MS)
        self._reload_timer.timeout.connect(self._load)
        self._shown = 0  # which show_digest call the rows being added belong to
        self._order: list[str] = []  # the job ids of the rows shown (or being made), in order
        self._made: dict[str, _Row] = {}  # the rows made so far, by job id
        self._headline_text = ""

        icon = QLabel(self)
        icon.setPixmap(status_icon(RunStatus.MISSED).pixmap(20, 20))
        self.headline = named(QLabel(self), "digestHeadline")
        self.headline.setWordWrap(True)
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.message = named(QLabel(self), "digestMessage")  # a refused choice says why here
        self.message.setWordWrap(True)
        self.message.hide()
        self.rows = named(QWidget(self), "digestRows")
        self.grid = QGridLayout(self.rows)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(10)
        self.grid.setColumnStretch(0, 1)  # the name takes what the buttons leave (elided)
        self.scroller = named(QScrollArea(self), "digestScroll")
        self.scroller.setWidget(self.rows)
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        text = QVBoxLayout()
        text.addWidget(self.headline)
        text.addWidget(self.message)
        text.addWidget(self.scroller)
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
        self._worker.start("load", lambda: store.read_open(engine))

    def choose(self, job_id: str, choice: str) -> None:
        """What the row's buttons do: carry out `choice` for the job (on a worker thread)."""
        from jobs.digest_choice import choose

        if self.digest is None or job_id in self._busy:
            return
        self._busy.add(job_id)
        self._set_row_enabled(job_id, False)
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
        self._busy.discard(job_id)
        if isinstance(result, Exception):
            self.message.setText(str(result))
            self.message.show()
            self._set_row_enabled(job_id, True)
        else:
            self.message.hide()
        self.reload()  # the choice also sends digest_changed when scheduling; this covers the rest

    # --- showing -------------------------------------------------------------------------------

    def show_digest(self, digest: Digest | None) -> None:
        """Show `digest`. When it lists the same jobs in the same order as the rows (made or
        being made), only the rows whose entry changed are updated: at 10,000 jobs a start's
        catch-up starts a run of each of ~100 jobs in the digest over a few seconds, and every
        reload (one per RELOAD_DELAY_MS) made all ~600 widgets again."""
        if digest is not None and [entry.job_id for entry in digest.entries] == self._order:
            self.digest = digest
            self._set_headline(digest)
            for entry in digest.entries:
                row = self._made.get(entry.job_id)
                if row is not None and row.entry != entry:
                    self._update_row(row, entry)
            return  # rows still to be made are made from this digest (_add_rows reads it)
        self.digest = digest
        self._shown += 1  # rows of an earlier digest still to be added are not added any more
        self._made.clear()
        self._order = []
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:  # nameless at once: `button()` must not find a row on its way out
                widget.setObjectName("")
                widget.setProperty("jobId", None)
                widget.hide()
                widget.deleteLater()
        if digest is None:
            self.hide()
            return
        self._order = [entry.job_id for entry in digest.entries]
        self._set_headline(digest)
        self.rows.hide()  # until filled (_add_rows)
        self._add_rows(self._shown, 0)
        row_height = max(QPushButton("Skip").sizeHint().height(), 2 * self.fontMetrics().lineSpacing()) + max(
            0, self.grid.verticalSpacing())  # fmt: skip
        self.scroller.setFixedHeight(min(len(digest.entries), VISIBLE_ROWS) * row_height)
        self.show()

    def _set_headline(self, digest: Digest) -> None:
        text = f"<b>{html.escape(digest.headline())}</b><br>{html.escape(POLICY_NOTE)}"
        if text != self._headline_text:
            self.headline.setText(text)
            self._headline_text = text

    def _add_rows(self, shown: int, start: int) -> None:
        """Rows of `self.digest` from `start` until ROW_SLICE_S has passed; the rest after the
        event loop turned (unless another digest was shown meanwhile). The rows widget stays
        hidden until the last row is in: while it showed, every slice's new widgets were shown,
        polished and laid out with all the rows before them in the next turn (gaps of 60-145 ms
        at 100 rows)."""
        if shown != self._shown or self.digest is None:
            return
        entries = self.digest.entries
        until = time.monotonic() + ROW_SLICE_S
        while start < len(entries):
            self._add_row(start, entries[start])
            start += 1
            if time.monotonic() >= until:
                break
        if start < len(entries):
            QTimer.singleShot(0, self, lambda: self._add_rows(shown, start))
        else:
            self.rows.show()

    def _add_row(self, row: int, entry: DigestEntry) -> None:
        # Name over "4 missed, 07:15 to 09:30", both elided: a long name never pushes the buttons away
        cell = QWidget(self.rows)
        lines = QVBoxLayout(cell)
        lines.setContentsMargins(0, 0, 0, 0)
        lines.setSpacing(0)
        name = named(ElidedLabel(cell), f"digestJob-{entry.job_id}")
        slots = named(ElidedLabel(cell), f"digestSlots-{entry.job_id}")
        slots.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        lines.addWidget(name)
        lines.addWidget(slots)
        self.grid.addWidget(cell, row, 0)
        made = _Row(entry, name, slots, [])
        for column, (choice, label, _enabled, _tip) in enumerate(_buttons(entry)):
            button = named(QPushButton(label, self.rows), f"digest-{choice}-{entry.job_id}", f"{label}: {entry.job_name}")
            button.setProperty("jobId", entry.job_id)
            button.clicked.connect(lambda _checked=False, j=entry.job_id, c=choice: self.choose(j, c))
            self.grid.addWidget(button, row, 1 + column)
            made.buttons.append(button)
        self._update_row(made, entry, new=True)
        self._made[entry.job_id] = made

    def _update_row(self, row: _Row, entry: DigestEntry, *, new: bool = False) -> None:
        """The texts, tooltips and enabled buttons of `row` for `entry` (what changed only)."""
        before = None if new else row.entry
        row.entry = entry
        if before is None or _tooltip_parts(before) != _tooltip_parts(entry):
            row.name.set_full_text(entry.job_name, slots_tooltip(entry))
        words = store.slot_words(entry)
        if before is None or words != store.slot_words(before):
            row.slots.set_full_text(words)
        old = _buttons(before) if before is not None else [None] * len(row.buttons)
        for button, wanted, was in zip(row.buttons, _buttons(entry), old):
            _choice, _label, enabled, tip = wanted
            if was is None or was[2] != enabled:
                button.setEnabled(enabled and entry.job_id not in self._busy)
            if was is None or was[3] != tip:
                button.setToolTip(tip)

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

    def button(self, job_id: str, choice: str) -> QPushButton | None:
        return self.rows.findChild(QPushButton, f"digest-{choice}-{job_id}")

    def _set_row_enabled(self, job_id: str, enabled: bool) -> None:
        """All of the row's buttons off, or back to what its entry allows."""
        row = self._made.get(job_id)
        if row is None:
            return
        for button, (_choice, _label, allowed, _tip) in zip(row.buttons, _buttons(row.entry)):
            button.setEnabled(enabled and allowed)


def slots_tooltip(entry: DigestEntry) -> str:
    """The job's name over its newest missed slots and why each was missed (a week away from an
    every-minute job is 10,000 slots: listing them all froze the window ~300 ms per reload)."""
    name, count, newest = _tooltip_parts(entry)
    lines = [f"{slot.scheduled_at.astimezone():%a %d %b %H:%M}: {slot.reason}" for slot in newest]
    earlier = [f"… and {count - len(newest):,} earlier"] if count > len(newest) else []
    return "\n".join([name, *earlier, *lines])


def _tooltip_parts(entry: DigestEntry) -> tuple[str, int, tuple[MissedSlot, ...]]:
    return entry.job_name, len(entry.slots), entry.slots[-TOOLTIP_SLOTS:]


def _buttons(entry: DigestEntry) -> list[tuple[str, str, bool, str]]:
    """(choice, label, enabled, tooltip) for the row of `entry`."""
    runnable = len(entry.runnable)
    if entry.ran_later is not None:
        latest_tip = f"A later slot already ran (run #{entry.ran_later}): running an older one now adds nothing"
    elif not runnable:
        latest_tip = "These runs are summed up in one row; they cannot be run one by one"
    else:
        latest_tip = f"Run the job once for its latest missed slot ({entry.last().astimezone():%a %H:%M})"
    return [
        ("run-latest", "Run latest", entry.can_run_latest, latest_tip),
        ("run-all", "Run all missed", runnable > 0,
         f"Run the job once for each of its {runnable} missed slots, one after another"),
        ("skip", "Skip", True, "Leave them missed; history says you skipped them"),
    ]  # fmt: skip


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
