"""`Alerter`: e-mails and webhooks about finished runs, sent on one worker thread.

The dispatcher hands every run that ended to `consider` (quick: it only queues the record, on
whatever thread the run ended). The worker looks up the job, applies its notify policy
(jobs.alerts.policy), picks the targets (the job's own addresses and URLs, else the settings'
defaults), stores them on the run as `pending` and sends each one with a timeout. A failure that
may pass (no connection, a busy server, HTTP 5xx) is tried again after `retry_delays`, at most
`len(retry_delays) + 1` attempts in all; others fail at once. Every attempt's result is stored
on the run (`runs.alerts`), logged, and announced (`JobEvents.run_alerted`), so `history --json`
and the window show it. A delivery never holds up or changes the run itself.

`close` sends what is due within its time budget and leaves the rest `pending` in the store;
the next start (`resume_pending`) sends those of the last two days.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from jobs.alerts.channels import DeliveryError, email_text, post_webhook, send_email, webhook_body
from jobs.alerts.config import AlertSettings
from jobs.alerts.policy import wants_notice
from jobs.events import JobEvents
from jobs.history import HistoryRepository
from jobs.model import AlertDelivery, JobSpec, RunRecord
from jobs.records_json import run_json
from jobs.quick_thread import start_soon

log = logging.getLogger(__name__)

RETRY_DELAYS = (5.0, 30.0)  # three attempts in all
TIMEOUT = 10.0
RESUME_WINDOW = timedelta(days=2)
EMAIL, WEBHOOK = "email", "webhook"


class Alerter:
    def __init__(self, history: HistoryRepository, settings: Callable[[], AlertSettings],
                 spec_of: Callable[[str], JobSpec | None], events: JobEvents | None = None, *,
                 retry_delays: tuple[float, ...] = RETRY_DELAYS, timeout: float = TIMEOUT) -> None:  # fmt: skip
        self._history = history
        self._settings = settings
        self._spec_of = spec_of
        self._events = events
        self.retry_delays = retry_delays
        self.timeout = timeout
        self._lock = threading.Condition()
        self._new: list[RunRecord] = []  # finished runs not yet looked at
        self._due: list[tuple[float, int, int, int]] = []  # heap of (when, seq, run id, delivery index)
        self._runs: dict[int, tuple[RunRecord, list[AlertDelivery]]] = {}  # runs with deliveries under way
        self._seq = itertools.count()
        self._closing = False
        self._thread: threading.Thread | None = None

    # --- input (any thread) -------------------------------------------------------------------

    def consider(self, record: RunRecord) -> None:
        """A run ended: alert about it if its job wants that. Never blocks."""
        if not record.status.is_final:
            return
        with self._lock:
            if self._closing:
                return
            self._new.append(record)
            self._ensure_thread()
            self._lock.notify()

    def resume_pending(self) -> None:
        """Send what the last session left pending (runs of the last two days). The search runs
        on a thread of its own: over 10 million runs it reads the last two days' rows (~1.8 s
        here), which on the GUI thread froze the window's start."""
        start_soon(self._resume_pending)  # from the GUI thread at start: no wait (jobs.quick_thread)

    def _resume_pending(self) -> None:
        since = datetime.now(timezone.utc) - RESUME_WINDOW
        try:
            records = self._history.with_pending_alerts(since)
        except Exception:  # the database went away (shutdown): the next start tries again
            log.exception("cannot read the alerts left pending")
            return
        for record in records:
            deliveries = list(record.alerts)
            with self._lock:
                if self._closing:
                    return  # they stay pending in the store for the next start
                self._runs[record.id] = (record, deliveries)
                for index, delivery in enumerate(deliveries):
                    if delivery.state == "pending":
                        heapq.heappush(self._due, (time.monotonic(), next(self._seq), record.id, index))
                self._ensure_thread()
                self._lock.notify()

    def close(self, timeout: float = 5.0) -> None:
        """Send what is due now (within `timeout`), then stop; later retries stay pending."""
        with self._lock:
            self._closing = True
            self._lock.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def idle(self) -> bool:
        with self._lock:
            return not self._new and not self._due

    def _ensure_thread(self) -> None:  # caller holds the lock
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="alerts", daemon=True)
            self._thread.start()

    # --- the worker ---------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                while True:
                    now = time.monotonic()
                    if self._new or (self._due and self._due[0][0] <= now):
                        break
                    if self._closing:
                        return
                    self._lock.wait(self._due[0][0] - now if self._due else None)
                new, self._new = self._new, []
                item = heapq.heappop(self._due) if self._due and self._due[0][0] <= now and not new else None
            try:
                for record in new:
                    self._plan(record)
                if item is not None:
                    self._attempt(item[2], item[3])
            except Exception:  # a bug or the database: log it, keep the worker alive
                log.exception("alert delivery failed unexpectedly")

    def _plan(self, record: RunRecord) -> None:
        """Decide whether and where `record` is told about; store the deliveries as pending."""
        spec = self._spec_of(record.job_id)
        if spec is None or not wants_notice(record, spec.notify):
            return
        settings = self._settings()
        emails = spec.email or settings.email
        webhooks = spec.webhooks or settings.webhooks
        deliveries = [AlertDelivery(EMAIL, to, "pending") for to in emails]
        deliveries += [AlertDelivery(WEBHOOK, url, "pending") for url in webhooks]
        if not deliveries:
            return
        self._history.set_alerts(record.id, deliveries)
        with self._lock:
            self._runs[record.id] = (record, deliveries)
            for index in range(len(deliveries)):
                heapq.heappush(self._due, (time.monotonic(), next(self._seq), record.id, index))
        self._announce(record.id)

    def _attempt(self, run_id: int, index: int) -> None:
        with self._lock:
            record, deliveries = self._runs[run_id]
            delivery = deliveries[index]
        attempts = delivery.attempts + 1
        try:
            self._send(record, delivery)
        except DeliveryError as exc:
            again = exc.transient and attempts <= len(self.retry_delays)
            state = "pending" if again else "failed"  # closing: a later retry stays pending for the next start
            delivery = replace(delivery, state=state, attempts=attempts, error=str(exc), at=_now())
            log.warning("run #%d: %s to %s failed (attempt %d): %s%s", run_id, delivery.channel, delivery.target,
                        attempts, exc, "; trying again later" if again else "")  # fmt: skip
            if again:
                with self._lock:
                    heapq.heappush(self._due, (time.monotonic() + self.retry_delays[attempts - 1], next(self._seq),
                                               run_id, index))  # fmt: skip
        else:
            delivery = replace(delivery, state="sent", attempts=attempts, error=None, at=_now())
            log.info("run #%d: %s sent to %s", run_id, delivery.channel, delivery.target)
        with self._lock:
            deliveries[index] = delivery
            done = all(d.state != "pending" for d in deliveries)
            snapshot = list(deliveries)
            if done:
                self._runs.pop(run_id, None)
        self._history.set_alerts(run_id, snapshot)
        self._announce(run_id)

    def _send(self, record: RunRecord, delivery: AlertDelivery) -> None:
        settings = self._settings()
        if delivery.channel == EMAIL:
            subject, body = email_text(record)
            send_email(settings.smtp, delivery.target, subject, body, timeout=self.timeout)
        else:
            post = replace(record, alerts=())  # the run as it ended; deliveries are not part of it yet
            post_webhook(delivery.target, webhook_body(run_json(post)), settings.webhook_secret, run_id=record.id,
                         timeout=self.timeout)  # fmt: skip

    def _announce(self, run_id: int) -> None:
        if self._events is None:
            return
        record = self._history.get(run_id)
        if record is not None:
            self._events.run_alerted.emit(record)


def _now() -> datetime:
    return datetime.now(timezone.utc)
