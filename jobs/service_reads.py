"""The reads of `JobService` (jobs.service) from its repositories, kept apart to keep each module short.

Typed, so the window never reaches past the service into repositories or the dispatcher.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Iterable, Sequence

from jobs.first_screen import SoonestJobs, soonest_jobs
from jobs.history import HistoryQuery, HistoryRepository
from jobs.model import JobSpec, RunRecord
from jobs.next_runs import NextRuns
from jobs.repository import BrokenRow, JobRepository

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from jobs.upcoming import Lane


class ServiceReads:
    engine: Engine
    jobs: JobRepository
    history: HistoryRepository
    next_runs: NextRuns

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

    def last_runs(self, job_ids: Iterable[str], *, brief: bool = False) -> dict[str, RunRecord]:
        """The newest run of each of `job_ids` that has one (`brief`: jobs.history.BRIEF_COLUMNS only)."""
        return self.history.last_runs(job_ids, brief=brief)

    def get_run(self, run_id: int) -> RunRecord | None:
        return self.history.get(run_id)

    # --- next runs (jobs.next_runs) -------------------------------------------------------

    def next_run_times(self, specs: Sequence[JobSpec] | None = None) -> dict[str, datetime]:
        return self.next_runs.times(specs)

    def soonest_jobs(self, count: int, *, at_least: int = 0) -> tuple[SoonestJobs, dict[str, datetime]] | None:
        """The first `count` jobs (at least) in next-run order and their next runs, read without
        reading every definition (jobs.first_screen); None when that would not save time or
        there are fewer than `at_least` jobs."""
        soonest = soonest_jobs(self.engine, self.jobs, count, at_least=at_least)
        return None if soonest is None else (soonest, self.next_runs.times_of(soonest.specs))

    def upcoming(self, *, limit: int | None = None, horizon: timedelta | None = None) -> list[tuple[datetime, JobSpec]]:
        return self.next_runs.upcoming(limit, horizon)

    def timeline(self, *, span: timedelta | None = None, max_marks: int | None = None) -> list[Lane]:
        return self.next_runs.timeline(span, max_marks)
