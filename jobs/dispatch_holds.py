"""The dispatcher's runs held by the condition gate (a part of `Dispatcher`, kept apart).

A run the overlap policy admitted asks the gate (jobs.conditions.gate) before it queues for a
global slot. If its job's conditions do not hold it is *held*: it keeps its job's place (the
overlap policy sees it in progress), its row says `waiting` and what for ("AC power"), and the
gate's worker re-checks it. The gate then releases it (it queues for a slot and starts), or
expires it past the job's deadline (it ends `missed`, "on battery for 6h"); Stop ends it
`killed`. A held run whose servers are not probed yet has no row until the first check, so a
reachable server never shows a run as waiting. Everything here runs on any thread under the
dispatcher's lock, and never blocks: the gate's answers here come from what it knows already.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Any

from jobs.conditions.gate import ConditionGate, HeldRun
from jobs.history import HistoryRepository
from jobs.model import RunStatus

log = logging.getLogger(__name__)


class ConditionHolds:
    """Mixin of `jobs.dispatcher.Dispatcher`: the held runs and the gate's `HoldOwner` side."""

    if TYPE_CHECKING:  # the Dispatcher's state and methods used here
        _lock: threading.Lock
        _held: dict[int, Any]
        _waiting: deque[Any]
        _history: HistoryRepository
        gate: ConditionGate | None

        def _take_startable(self) -> list[Any]: ...

        def _start_run(self, pending: Any) -> None: ...

        def _write_queued_row(self, pending: Any) -> None: ...

        def _write_failed(self, pending: Any, what: str, exc: Exception, *, ended: bool = False) -> str: ...

        def _end_unstarted(self, pending: Any, status: RunStatus, error: str) -> None: ...

        def _release(self, pending: Any) -> None: ...

        def _emit(self, signal_name: str, run_id: int, fallback: Any = None) -> None: ...

    def _queue_for_slot(self, pending: Any) -> None:
        """A run the overlap policy admitted: into the queue for a global slot, or held while
        its job's conditions do not hold. Caller holds the lock."""
        gate = self.gate
        if gate is None or not pending.job.requires or pending.ignore_conditions:
            self._waiting.append(pending)
            return
        verdict = gate.check(pending.job)
        if verdict.met:
            self._waiting.append(pending)
            return
        self._held[pending.run_id] = pending
        pending.waiting_for = verdict.words if verdict.unmet else None  # servers not probed yet: not shown

    def _held_now(self, pending: Any) -> None:
        """After a run was held (lock released): show it waiting, and have the gate watch it."""
        if pending.waiting_for is not None:
            self._write_waiting_row(pending, pending.waiting_for)
        if self.gate is not None:
            self.gate.wake()

    def _write_waiting_row(self, pending: Any, waiting_for: str, *, held: bool = True) -> None:
        with self._lock:
            if held and pending.run_id not in self._held:
                return  # released or stopped meanwhile
            pending.waiting_for = waiting_for
            try:
                if pending.row_written:
                    self._history.mark_waiting(pending.run_id, waiting_for)
                else:
                    self._history.create(pending.job, pending.cause, RunStatus.WAITING, scheduled_at=pending.scheduled_at,
                                         run_id=pending.run_id, queued_at=pending.queued_at, waiting_for=waiting_for,
                                         upstream_run_id=pending.upstream_run_id)
                    pending.row_written = True
            except Exception as exc:  # it still waits, and starts when it may
                self._write_failed(pending, "while waiting", exc)
                return
        log.info("job %s: run #%d waits for %s", pending.job.id, pending.run_id, waiting_for)
        self._emit("run_waiting", pending.run_id)

    def held_runs(self) -> list[HeldRun]:
        with self._lock:
            return [HeldRun(p.run_id, p.job, p.queued_at, p.waiting_for) for p in self._held.values()]

    def waiting_for(self, run_id: int) -> str | None:
        """What a held run waits for (None: not held, or not checked yet)."""
        with self._lock:
            pending = self._held.get(run_id)
            return pending.waiting_for if pending is not None else None

    def show_waiting(self, run_id: int, waiting_for: str) -> None:
        with self._lock:
            pending = self._held.get(run_id)
        if pending is not None:
            self._write_waiting_row(pending, waiting_for)

    def release_held(self, run_id: int, *, anyway: bool = False) -> bool:
        """Let a held run take a slot (its conditions hold, or `anyway`: "Run anyway")."""
        with self._lock:
            pending = self._held.pop(run_id, None)
            if pending is None:
                return False
            pending.ignore_conditions = pending.ignore_conditions or anyway
            self._waiting.append(pending)
            to_start = self._take_startable()
            queued = pending not in to_start
        for item in to_start:
            self._start_run(item)
        if queued:
            if pending.row_written:
                self._history.mark_released(pending.run_id)
                self._emit("run_queued", pending.run_id)
            else:
                self._write_queued_row(pending)
        return True

    def run_anyway(self, job_id: str) -> int | None:
        """Start the oldest held run of `job_id` without its conditions; None if none is held."""
        with self._lock:
            ids = sorted(run_id for run_id, pending in self._held.items() if pending.job.id == job_id)
        return ids[0] if ids and self.release_held(ids[0], anyway=True) else None

    def expire_held(self, run_id: int, reason: str) -> None:
        """A held run waited past its deadline: it ends missed, with the reason."""
        with self._lock:
            pending = self._held.pop(run_id, None)
        if pending is not None:
            self._end_held(pending, RunStatus.MISSED, f"missed: {reason}")

    def _end_held(self, pending: Any, status: RunStatus, error: str) -> None:
        """End a run taken out of `_held`: its row says why, and its job's place frees."""
        if not pending.row_written:
            self._write_waiting_row(pending, pending.waiting_for or "its conditions", held=False)
        self._end_unstarted(pending, status, error)
        self._release(pending)


    def job_changed(self, job: Any) -> None:
        """A job was saved: its held runs wait for its conditions as they are now."""
        with self._lock:
            held = [pending for pending in self._held.values() if pending.job.id == job.id]
            for pending in held:
                pending.job = job
        if held and self.gate is not None:
            self.gate.wake()

    def job_removed(self, job_id: str) -> None:
        """A job was deleted: its held runs end missed (they would never start)."""
        with self._lock:
            held = [pending for pending in self._held.values() if pending.job.id == job_id]
            for pending in held:
                self._held.pop(pending.run_id, None)
        for pending in held:
            self._end_held(pending, RunStatus.MISSED, "missed: its job was removed while it waited")
