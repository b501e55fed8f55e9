"""Pausing a job ends the runs of it that the schedule started and that have not begun yet.

A paused job runs nothing on its own: its scheduled, catch-up and after-runs (and retries that
came due) still queued for a slot or held by its conditions end `skipped`, "cancelled: the job
was paused", at once, so nothing the user paused starts a minute later. A run the user asked for
(Run now, `jobdesk run`) stays: pausing the schedule is not taking that back, as a digest choice
runs a paused job too. Pending retries not due yet are jobs.retries' part (same rule).

`PauseDrops` is a part of `jobs.dispatcher.Dispatcher` (a mixin, like jobs.dispatch_holds).
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from jobs.model import RunCause, RunStatus

log = logging.getLogger(__name__)

PAUSED_NOTE = "cancelled: the job was paused"


def started_by_the_schedule(pending: Any) -> bool:
    """Whether a run came from the schedule (or a chain, or a retry) rather than a person."""
    return pending.cause is not RunCause.MANUAL or pending.attempt > 1


class PauseDrops:
    """Mixin of `jobs.dispatcher.Dispatcher`: a pause drops its job's unstarted scheduled runs."""

    if TYPE_CHECKING:  # the Dispatcher's state and methods used here
        _lock: threading.Lock
        _all: dict[int, Any]
        _held: dict[int, Any]
        _running: dict[int, Any]
        _retrying: dict[int, Any]

        def _drop_queued(self, pending: Any) -> None: ...

        def _end_unstarted(self, pending: Any, status: RunStatus, error: str) -> None: ...

        def _end_held(self, pending: Any, status: RunStatus, error: str) -> None: ...

    def job_changed(self, job: Any) -> None:
        if job.paused:
            self._drop_scheduled_runs(job.id)
        super().job_changed(job)  # type: ignore[misc]

    def _drop_scheduled_runs(self, job_id: str) -> None:
        held, queued = [], []
        with self._lock:
            for run_id, pending in list(self._all.items()):
                if pending.job.id != job_id or run_id in self._running or run_id in self._retrying \
                        or not started_by_the_schedule(pending):
                    continue
                if self._held.pop(run_id, None) is not None:
                    held.append(pending)
                else:
                    self._drop_queued(pending)
                    queued.append(pending)
        for pending in held:
            log.info("job %s: waiting run #%d %s", job_id, pending.run_id, PAUSED_NOTE)
            self._end_held(pending, RunStatus.SKIPPED, PAUSED_NOTE)
        for pending in queued:
            log.info("job %s: queued run #%d %s", job_id, pending.run_id, PAUSED_NOTE)
            self._end_unstarted(pending, RunStatus.SKIPPED, PAUSED_NOTE)
