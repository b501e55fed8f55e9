"""The reads and run controls of `JobService` (jobs.service), kept apart to keep each module short.

Typed, so the window never reaches past the service into repositories or the dispatcher.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable, Sequence

from jobs.history import HistoryQuery, HistoryRepository
from jobs.model import JobSpec, RunRecord
from jobs.next_runs import NextRuns
from jobs.repository import BrokenRow, JobRepository

if TYPE_CHECKING:
    from jobs.dispatcher import Dispatcher
    from jobs.upcoming import Lane


class ServiceReads:
    jobs: JobRepository
    history: HistoryRepository
    next_runs: NextRuns

    @property
    def dispatcher(self) -> Dispatcher:
        raise NotImplementedError  # JobService makes it on first use

    def waiting_for(self, run_id: int) -> str | None:
        """What run `run_id` waits for ("AC power"), or None when it is not waiting."""
        return self.dispatcher.waiting_for(run_id)

    def run_anyway(self, run_id: int) -> bool:
        """Start a waiting run now, whatever its conditions; False if it is not waiting."""
        return self.dispatcher.release_held(run_id, anyway=True)

    def cancel_run(self, run_id: int) -> bool:
        return self.dispatcher.cancel(run_id)

    def wait_for_run(self, run_id: int, timeout: float | None = None) -> RunRecord | None:
        return self.dispatcher.wait(run_id, timeout)

    def query_history(self, query: HistoryQuery = HistoryQuery()) -> list[RunRecord]:
        return self.history.query(query)

    # --- reads for the window (typed, so it never reaches past the service) ---------------

    def read_jobs(self) -> tuple[list[JobSpec], list[BrokenRow]]:
        """Every readable definition (by name) and the stored rows that cannot be read."""
        specs = self.jobs.all()
        return specs, list(self.jobs.broken)

    def list_jobs(self) -> list[JobSpec]:
        """Every readable definition, by name."""
        return self.jobs.all()

    def last_runs(self, job_ids: Iterable[str]) -> dict[str, RunRecord]:
        """The newest run of each of `job_ids` that has one."""
        return self.history.last_runs(job_ids)

    def get_run(self, run_id: int) -> RunRecord | None:
        return self.history.get(run_id)

    def running_count(self) -> int:
        """Runs whose process is going now (queued runs not counted)."""
        return self.dispatcher.running_count()

    def active_runs(self) -> list[RunRecord]:
        """Runs waiting, queued or running now, oldest first (a run whose row is not written yet is left out)."""
        records = (self.history.get(run_id) for run_id in self.dispatcher.active_runs())
        return [record for record in records if record is not None and not record.status.is_final]

    # --- next runs (jobs.next_runs) -------------------------------------------------------

    def next_run_times(self, specs: Sequence[JobSpec] | None = None) -> dict[str, datetime]:
        return self.next_runs.times(specs)

    def upcoming(self, *, limit: int | None = None, horizon: timedelta | None = None) -> list[tuple[datetime, JobSpec]]:
        return self.next_runs.upcoming(limit, horizon)

    def timeline(self, *, span: timedelta | None = None, max_marks: int | None = None) -> list[Lane]:
        return self.next_runs.timeline(span, max_marks)
