"""`jobdesk list`'s answer: every job with its schedule in words, next run, state and last run.

At 10,000 jobs (issue 10) the answer is made without decoding definitions that need no
decoding (jobs.stored_rows), with the words of each distinct schedule made once, next runs read
from APScheduler's store (jobs.next_runs) and last runs in one indexed pass (jobs.history).
`summary_json` is the one shape of a job in `list` and `show`. With no instance running,
jobs.list_local feeds the same listing from the file through plain sqlite3 (no SQLAlchemy).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Protocol, Sequence

from jobs.codec import job_to_dict
from jobs.job_state import state_of
from jobs.model import AfterSpec, CronSpec, DateSpec, JobSpec, TriggerSpec
from jobs.records_json import iso
from jobs.last_runs import LastRun
from jobs.stored_rows import PlainReader, PlainRow, StoredDefinition

if TYPE_CHECKING:
    from jobs.after_next import ExpectedAfter
    from jobs.service import JobService


def summary_json(job_id: str, name: str, paused: bool, trigger: TriggerSpec, definition: dict[str, Any],
                 next_run: datetime | None, last: LastRun | None, schedule: str, *,
                 next_run_text: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A job as `list --json` and `show --json` print it (they only ever gain keys).
    `next_run_text`: iso(next_run), when the caller made it already."""
    return {
        "id": job_id,
        "name": name,
        "schedule": schedule,
        "next_run": iso(next_run) if next_run_text is None else next_run_text,
        "state": state_of(paused, trigger, next_run),
        "last_status": last.status.value if last else None,
        "last_run": iso(last.at) if last else None,
        "definition": definition,
    }


class ListingSource(Protocol):
    """Where a listing reads from: a JobService (ServiceSource), or the database file itself
    through plain sqlite3 (jobs.list_local)."""

    def rows(self) -> Sequence[StoredDefinition]: ...
    def decode(self, row: StoredDefinition) -> JobSpec | None: ...  # None: unreadable (and logged)
    def next_runs(self, listed: Sequence[PlainRow]) -> dict[str, datetime]: ...
    def last_outcomes(self, job_ids: Iterable[str]) -> dict[str, LastRun]: ...
    def expected(self, after: list[JobSpec], next_runs: dict[str, datetime]) -> dict[str, ExpectedAfter]: ...


class ServiceSource:
    def __init__(self, service: JobService) -> None:
        self._service = service

    def rows(self) -> Sequence[StoredDefinition]:
        return self._service.jobs.rows()

    def decode(self, row: StoredDefinition) -> JobSpec | None:
        return self._service.jobs.decode(row)

    def next_runs(self, listed: Sequence[PlainRow]) -> dict[str, datetime]:
        return self._service.next_runs.times(listed)

    def last_outcomes(self, job_ids: Iterable[str]) -> dict[str, LastRun]:
        return self._service.history.last_outcomes(job_ids)

    def expected(self, after: list[JobSpec], next_runs: dict[str, datetime]) -> dict[str, ExpectedAfter]:
        from jobs.after_next import next_expected
        from jobs.chains import finished_so_far

        service = self._service
        return next_expected(after, next_runs, finished_so_far(service.engine, service.history, after))


def list_answer(source: ListingSource) -> dict[str, Any]:
    """{"jobs": [...]}, by name; unreadable definitions are left out (and logged), as always."""
    reader = PlainReader()
    listed: list[PlainRow] = []
    after: list[JobSpec] = []  # after-jobs, decoded in full: their expected runs need the spec
    for row in source.rows():
        plain = reader.read(row)
        if plain is None:
            spec = source.decode(row)
            if spec is None:
                continue
            plain = PlainRow(spec.id, spec.name, spec.paused, spec.trigger, job_to_dict(spec))
            if isinstance(spec.trigger, AfterSpec):
                after.append(spec)
        listed.append(plain)
    next_runs = source.next_runs(listed)
    last = source.last_outcomes(job.id for job in listed)
    names = {job.id: job.name for job in listed}
    expected = source.expected(after, next_runs) if after else {}
    words = _Words(names)
    jobs = []
    shown: dict[datetime | None, str | None] = {None: None}  # many jobs share a next run: its text made once
    for job in listed:
        next_run = next_runs.get(job.id)
        text = shown[next_run] if next_run in shown else shown.setdefault(next_run, iso(next_run))
        item = summary_json(job.id, job.name, job.paused, job.trigger, job.definition, next_run, last.get(job.id),
                            words.of(job.trigger), next_run_text=text)  # fmt: skip
        if isinstance(job.trigger, AfterSpec):  # no next run of its own: when it is expected, after which jobs
            found = expected.get(job.id)
            item["expected_after"] = iso(found.at) if found else None
            item["expected_after_jobs"] = list(found.upstream) if found else []
        jobs.append(item)
    return {"jobs": jobs}


class _Words:
    """Schedule words, made once per distinct cron or date trigger (those depend on nothing
    else); interval words mention a start still to come, after-words name jobs: made each time."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self._names = names
        self._made: dict[TriggerSpec, str] = {}
        # By object first: rows read plain share one spec per distinct trigger (jobs.stored_rows),
        # and a spec's own hash is its fields' (~1 us, 10,000 times); the spec is kept alive here
        self._by_object: dict[int, tuple[TriggerSpec, str]] = {}

    def of(self, trigger: TriggerSpec) -> str:
        known = self._by_object.get(id(trigger))
        if known is not None:
            return known[1]
        from jobs.triggers import describe

        if not isinstance(trigger, (CronSpec, DateSpec)):
            return describe(trigger, names=self._names)
        text = self._made.get(trigger)
        if text is None:
            text = self._made[trigger] = describe(trigger, names=self._names)
        self._by_object[id(trigger)] = (trigger, text)
        return text
