"""Builds wake-up digests while Jobdesk schedules: after a start and after each sleep.

When Jobdesk starts, the runs missed while it was closed have just been handled by each job's
missed-run policy (jobs.reconcile): the rows that ended `missed` become one digest. After the
computer slept, the scheduler's next pass does the same for the slots that passed asleep. Sleep
is known from logind's PrepareForSleep (the window's desktop.sleep_watch calls `note_sleep`; a
D-Bus connection has no place in the core) or, everywhere, from the clock watchdog's jump
(jobs.scheduler.ClockWatchdog), which stays the fallback; both may report the same sleep, and the
second finds nothing left to gather. A digest is sealed right after the scheduler pass that
follows the wake, so it holds that pass's missed rows.

A heartbeat in the database (`last_seen`, every minute) says when Jobdesk last ran, so a digest
after a close can say for how long it was closed. `serve` builds digests too; `jobdesk missed`
shows them there.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Any

from PySide6.QtCore import QTimer

from jobs import digest_store as store

log = logging.getLogger(__name__)

HEARTBEAT_MS = 60_000


class WakeDigests:
    """Made by `JobService.start()` before it reconciles (`floor`: rows older than this session
    never join a digest), started once the scheduler and its watchdog run."""

    def __init__(self, service: Any) -> None:
        self._service = service
        self._engine = service.engine
        self.floor = store.max_run_id(self._engine)
        self._previous_seen = store.last_seen(self._engine)
        self._started_at = time.time()
        self._asleep_since: float | None = None
        # Wakes to seal: (scheduler.process_count when noted, kind, since, until); popleft/append: atomic
        self._pending: deque[tuple[int, str, float | None, float]] = deque()
        self._heartbeat: QTimer | None = None
        self._writing: threading.Thread | None = None  # the heartbeat write under way
        self._sealing = threading.Lock()
        self._in_background = False  # gather on a thread of its own (start)
        self.opened: int | None = None  # the last digest this session opened (a window made later tells of it)

    def start(self, *, in_background: bool = False) -> None:
        """Gather what was missed while closed; then listen for wakes. `in_background` (a window):
        the gathering is a write, which waits for the catch-up's run threads to let go of the
        file: 134 ms of the GUI thread after a 40-minute close at 10,000 jobs."""
        service = self._service
        service.scheduler.after_pass.append(self._after_pass)
        if service.watchdog is not None:
            service.watchdog.woke.connect(self._clock_jumped)
        since = self._previous_seen if self._previous_seen is not None and self._previous_seen < self._started_at else None
        self._in_background = in_background
        self._seal_soon(store.CLOSED, since, self._started_at, lower_bound=False)
        self._heartbeat = QTimer()
        self._heartbeat.setInterval(HEARTBEAT_MS)
        self._heartbeat.timeout.connect(self._beat)
        self._heartbeat.start()
        self._beat()

    def note_sleep(self, going: bool) -> None:
        """logind's PrepareForSleep(going): True before the computer sleeps, False after it woke."""
        now = time.time()
        if going:
            self._asleep_since = now
            self._beat(wait=True)
            return
        since, self._asleep_since = self._asleep_since, None
        log.info("the computer woke up (logind)%s", "" if since is None else f" after {store.away_words(now - since)}")
        self.woke(store.ASLEEP, since if since is not None else now, now)

    def woke(self, kind: str, since: float, until: float) -> None:
        """Gather the runs missed in [since, until] once the scheduler's passes (forced now) have
        handed over everything due: a pass that began before this call may have read its due
        jobs before the wake, and a burst is handed over a few jobs a pass."""
        self._pending.append((self._service.scheduler.process_count, kind, since, until))
        self._service.scheduler.wakeup()

    def _clock_jumped(self, gap: float) -> None:
        jump = self._service.watchdog.last_jump
        if gap > 0 and jump is not None:
            self.woke(store.ASLEEP, jump[0], jump[1])

    def _after_pass(self) -> None:
        """On the scheduler's pass thread (`woke` appends on the GUI thread meanwhile): seal the
        wakes noted before this pass began, once it left nothing due."""
        scheduler = self._service.scheduler
        if not scheduler.caught_up:
            return
        while self._pending and self._pending[0][0] < scheduler.process_count:
            _noted_at, kind, since, until = self._pending.popleft()
            self._seal_soon(kind, since, until, lower_bound=True)

    def _seal_soon(self, kind: str, since: float | None, until: float, *, lower_bound: bool) -> None:
        """`_seal` now, or on a thread of its own when started `in_background`."""
        if not self._in_background:
            self._seal(kind, since, until, lower_bound=lower_bound)
            return
        threading.Thread(target=self._seal, args=(kind, since, until), kwargs={"lower_bound": lower_bound},
                         name="jobdesk-digest", daemon=True).start()  # fmt: skip

    def _seal(self, kind: str, since: float | None, until: float, *, lower_bound: bool) -> None:
        """`lower_bound`: only slots after `since` (a sleep); after a close every missed row of
        this start counts, and `since` only dates the digest."""
        try:
            with self._sealing:  # one at a time: each reads the open digest, then writes it
                sealed = store.seal(self._engine, kind, since, until, self.floor, bounded=lower_bound)
        except Exception:
            log.exception("could not gather the missed runs into a wake-up digest")
            return
        if sealed is None:
            return
        if sealed[1]:
            self.opened = sealed[0]
        log.warning("wake-up digest #%d: %d missed run(s) after %s (jobdesk missed lists them)", sealed[0], sealed[2],
                    "a sleep" if kind == store.ASLEEP else "a close")  # fmt: skip
        self._service.events.digest_changed.emit(sealed[0], sealed[1])

    def _beat(self, *, wait: bool = False) -> None:
        """Write "Jobdesk was up now". On a thread of its own: a commit's fsync (~50 ms here) or a
        writer holding the file must not stall the event loop; `wait` (before a sleep) waits."""
        if not self._service.scheduling:  # shut down: the last beat stands as when it stopped
            if self._heartbeat is not None:
                self._heartbeat.stop()
            return
        if self._writing is not None and self._writing.is_alive():
            return  # the last one is still waiting for the file: this one adds nothing
        self._writing = threading.Thread(target=self._write_last_seen, args=(time.time(),), name="jobdesk-heartbeat",
                                         daemon=True)  # fmt: skip
        self._writing.start()
        if wait:
            self._writing.join(5.0)

    def _write_last_seen(self, when: float) -> None:
        try:
            store.save_last_seen(self._engine, when)
        except Exception:  # a locked or damaged file, or the engine closed at quit: the next beat tries again
            log.debug("heartbeat not written", exc_info=True)
