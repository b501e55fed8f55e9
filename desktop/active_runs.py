"""The runs going on now (queued or running), as the window learns them from the service's
events. The status bar counts them, the Stop action and button stop the selected job's, the
tray lists them in its Stop menu.

Events may arrive out of order (NOTES item 7): a run that was seen ending is never brought back
by a late "queued" or "started".
"""

from __future__ import annotations

from jobs.model import RunRecord, RunStatus

ENDED_REMEMBERED = 1000  # late events come within milliseconds; no need to remember every run


class ActiveRuns:
    def __init__(self, records: list[RunRecord] | None = None) -> None:
        self._runs: dict[int, RunRecord] = {}
        self._ended: dict[int, None] = {}  # insertion-ordered set of runs seen ending
        for record in records or ():
            self.update(record)

    def update(self, record: RunRecord) -> bool:
        """Take a newer state of a run; True when the set of active runs changed."""
        if record.status.is_final:
            self._ended[record.id] = None
            if len(self._ended) > ENDED_REMEMBERED:
                del self._ended[next(iter(self._ended))]
            return self._runs.pop(record.id, None) is not None
        if record.id in self._ended:
            return False
        changed = record.id not in self._runs or self._runs[record.id].status is not record.status
        self._runs[record.id] = record
        return changed

    def all(self) -> list[RunRecord]:
        """Oldest first."""
        return [self._runs[run_id] for run_id in sorted(self._runs)]

    def of_job(self, job_id: str) -> list[RunRecord]:
        return [record for record in self.all() if record.job_id == job_id]

    @property
    def running(self) -> int:
        return sum(1 for record in self._runs.values() if record.status is RunStatus.RUNNING)

    @property
    def queued(self) -> int:
        return sum(1 for record in self._runs.values() if record.status is RunStatus.QUEUED)

    @property
    def waiting(self) -> list[RunRecord]:
        """Runs waiting for a condition of their job, oldest first."""
        return [record for record in self.all() if record.status is RunStatus.WAITING]

    @property
    def held(self) -> list[RunRecord]:
        """Runs held before they start: waiting for a condition, then pending retries (Upcoming)."""
        records = self.all()
        return ([r for r in records if r.status is RunStatus.WAITING]
                + [r for r in records if r.status is RunStatus.RETRY_PENDING])  # fmt: skip

    def __len__(self) -> int:
        return len(self._runs)
