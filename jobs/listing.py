"""`jobdesk list`'s answer: every job with its schedule in words, next run, state and last run.

At 10,000 jobs (issue 10) the answer is made without decoding definitions that need no
decoding (jobs.stored_rows), with the words of each distinct schedule made once, next runs read
from APScheduler's store (jobs.next_runs) and last runs in one indexed pass (jobs.history).
`summary_json` is the one shape of a job in `list` and `show`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Mapping

from jobs.codec import job_to_dict
from jobs.job_state import state_of
from jobs.model import AfterSpec, CronSpec, DateSpec, JobSpec, TriggerSpec
from jobs.records_json import iso
from jobs.stored_rows import PlainReader, PlainRow

if TYPE_CHECKING:
    from jobs.history import LastRun
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


def list_answer(service: JobService) -> dict[str, Any]:
    """{"jobs": [...]}, by name; unreadable definitions are left out (and logged), as always."""
    from jobs.after_next import next_expected
    from jobs.chains import finished_so_far

    reader = PlainReader()
    listed: list[PlainRow] = []
    after: list[JobSpec] = []  # after-jobs, decoded in full: their expected runs need the spec
    for row in service.jobs.rows():
        plain = reader.read(row)
        if plain is None:
            spec = service.jobs.decode(row)
            if spec is None:
                continue
            plain = PlainRow(spec.id, spec.name, spec.paused, spec.trigger, job_to_dict(spec))
            if isinstance(spec.trigger, AfterSpec):
                after.append(spec)
        listed.append(plain)
    next_runs = service.next_runs.times(listed)
    last = service.history.last_outcomes(job.id for job in listed)
    names = {job.id: job.name for job in listed}
    expected = next_expected(after, next_runs, finished_so_far(service.engine, service.history, after)) if after else {}
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

    def of(self, trigger: TriggerSpec) -> str:
        from jobs.triggers import describe

        if not isinstance(trigger, (CronSpec, DateSpec)):
            return describe(trigger, names=self._names)
        text = self._made.get(trigger)
        if text is None:
            text = self._made[trigger] = describe(trigger, names=self._names)
        return text
