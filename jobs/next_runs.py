"""Each job's next run time, from APScheduler's store, and the fire times that follow.

APScheduler's rows remember every scheduled job's next run (a run missed while Jobdesk was closed
stays due there), so that is where "next run" is read, in one query; a job the store does not
know yet (added while no scheduler ran) gets its trigger's next time from now. Upcoming fires
and Timeline lanes build on those times through one cache per service (jobs.upcoming.FireTimes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable, Sequence

from sqlalchemy import Engine, text

from jobs.gui_priority import fetched_in_parts
from jobs.last_runs import id_chunks
from jobs.model import JobSpec, TriggerSpec
from jobs.repository import JobRepository
from jobs.stored_next_runs import APS_TABLE, Scheduled, next_times  # noqa: F401  (APS_TABLE: here first)

if TYPE_CHECKING:
    from jobs.upcoming import FireTimes, Lane

_FEW = 100  # next_run_times for at most this many jobs reads only their rows


class NextRuns:
    def __init__(self, engine: Engine, jobs: JobRepository, fire_times: Callable[[], FireTimes],
                 scheduling: Callable[[], bool]) -> None:  # fmt: skip
        self._engine = engine
        self._jobs = jobs
        self._fire_times = fire_times  # made on first use by the service
        self._scheduling = scheduling

    def times(self, specs: Sequence[Scheduled] | None = None) -> dict[str, datetime]:
        """Each scheduled job's next run (aware UTC); paused and finished jobs have none.
        `specs`: the definitions when the caller has them already (else they are read)."""
        stored = self._stored(None if specs is None or len(specs) > _FEW else [spec.id for spec in specs])
        return next_times(self._jobs.all() if specs is None else specs, stored,
                          None if self._scheduling() else self._first_fire)  # fmt: skip

    def times_of(self, specs: Sequence[Scheduled]) -> dict[str, datetime]:
        """`times` of `specs` reading only their rows, however many (jobs.first_screen's few hundred)."""
        return next_times(specs, self._stored([spec.id for spec in specs]), None if self._scheduling() else self._first_fire)

    def _first_fire(self, trigger: TriggerSpec, now: datetime) -> datetime | None:
        upcoming = self._fire_times().after(trigger, now, 1)
        return upcoming[0] if upcoming else None

    def _stored(self, wanted: list[str] | None) -> dict[str, float | None]:
        """next_run_time by job id: of every stored job, or of `wanted` only (a few: `show`)."""
        with self._engine.connect() as conn:
            has_table = conn.execute(
                text("SELECT 1 FROM sqlite_master WHERE type='table' AND name=:n"), {"n": APS_TABLE}
            ).first()
            if not has_table or wanted == []:
                return {}
            if wanted is None:
                return dict(fetched_in_parts(conn.execute(text(f"SELECT id, next_run_time FROM {APS_TABLE}"))))
            found: dict[str, float | None] = {}
            for chunk in id_chunks(wanted):  # old SQLite builds: 999 parameters at most
                sql = f"SELECT id, next_run_time FROM {APS_TABLE} WHERE id IN ({', '.join('?' for _ in chunk)})"
                found.update(conn.exec_driver_sql(sql, chunk).all())
            return found

    def upcoming(self, limit: int | None, horizon: timedelta | None) -> list[tuple[datetime, JobSpec]]:
        """Every active job's next run, then the nearest further fires within `horizon` up to
        `limit` rows (defaults: jobs.upcoming's)."""
        from jobs.upcoming import UPCOMING_HORIZON, UPCOMING_LIMIT

        specs = self._jobs.all()
        return self._fire_times().upcoming(specs, self.times(specs), limit=UPCOMING_LIMIT if limit is None else limit,
                                           horizon=UPCOMING_HORIZON if horizon is None else horizon)  # fmt: skip

    def timeline(self, span: timedelta | None, max_marks: int | None) -> list[Lane]:
        """Every active job's fires over the next `span`: listed, or summed up when dense."""
        from jobs.upcoming import MAX_MARKS, TIMELINE_SPAN

        specs = self._jobs.all()
        return self._fire_times().timeline(specs, self.times(specs), span=TIMELINE_SPAN if span is None else span,
                                           max_marks=MAX_MARKS if max_marks is None else max_marks)  # fmt: skip
