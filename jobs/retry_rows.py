"""The history rows of retries (jobs.retries): a pending retry is written, found and started.

A pending retry is a row of its own (status `retry pending`, due at `retry_at`), written in the
same transaction that marks the failed attempt before it as retried (`retried_by`), so history
never shows a retried failure without its retry, or the reverse.
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from jobs.db import run_table
from jobs.history import _record, _what_was_run, to_epoch
from jobs.model import JobSpec, RunCause, RunRecord, RunStatus

T = run_table.c


class RetryRows:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create_pending(
        self, run_id: int, job: JobSpec, cause: RunCause, *, scheduled_at: datetime | None, attempt: int,
        first_run_id: int, after_run_id: int, due: datetime, note: str,
        upstream_run_id: int | None = None,
    ) -> None:
        """Write the pending retry `run_id` and point the attempt `after_run_id` at it."""
        values = dict(
            _what_was_run(job), id=run_id, cause=cause.value, status=RunStatus.RETRY_PENDING.value,
            scheduled_at=to_epoch(scheduled_at), queued_at=time.time(), error=note, attempt=attempt,
            attempts=job.retries + 1, first_run_id=first_run_id, retry_at=due.timestamp(),
            upstream_run_id=upstream_run_id,
        )
        with self._engine.begin() as conn:
            conn.execute(insert(run_table).values(**values))
            conn.execute(update(run_table).where(T.id == after_run_id)
                         .values(retried_by=run_id, first_run_id=first_run_id))

    def mark_due(self, run_id: int) -> bool:
        """A pending retry's time came: it queues like any run. False if it is no longer pending."""
        with self._engine.begin() as conn:
            changed = conn.execute(
                update(run_table).where(T.id == run_id, T.status == RunStatus.RETRY_PENDING.value)
                .values(status=RunStatus.QUEUED.value, error=None, queued_at=time.time())
            ).rowcount
        return bool(changed)

    def pending(self) -> list[RunRecord]:
        """Retries that were pending when the last session ended, oldest first."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(run_table).where(T.status == RunStatus.RETRY_PENDING.value).order_by(T.id)).all()
        return [_record(row) for row in rows]
