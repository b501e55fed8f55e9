"""Job names as references: unique unless a user insists, and how an import finds its jobs.

Every command that takes a job accepts its id or its exact name, so two jobs called "Backup"
make "jobdesk run Backup" ambiguous: adding or renaming to a name in use is refused unless the
caller allows it (`--allow-duplicate-name`). An imported job without an id replaces the one
job of the same name, so importing a file twice does not double every job. Only names and ids
are read here (no definition is decoded), which keeps the checks cheap at 10,000 jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

from jobs.codec import JobValidationError
from jobs.model import JobSpec
from jobs.repository import JobRepository
from jobs.transfer import ImportProblem, job_label


class DuplicateName(JobValidationError):
    """The name is used by other jobs; `ids` are theirs."""

    def __init__(self, name: str, ids: Sequence[str]) -> None:
        jobs = "job " + ids[0] if len(ids) == 1 else "jobs " + ", ".join(ids)
        super().__init__("name", f"{name!r} is already the name of {jobs}; names must be unique to stand in for ids")
        self.ids = list(ids)


def check_new_name(repo: JobRepository, spec: JobSpec) -> None:
    """Refuse a name used by another job. A job keeping its current name is left alone, so an
    edit of one of two jobs that shared a name before this rule still saves."""
    others = [job_id for job_id in repo.ids_named(spec.name) if job_id != spec.id]
    if others and not (spec.id and repo.names().get(spec.id) == spec.name):
        raise DuplicateName(spec.name, others)


@dataclass(frozen=True)
class ImportPlan:
    specs: list[JobSpec]  # with the ids they will be saved under ("" = new)
    replaced: set[str]  # ids of existing jobs that the import overwrites


def plan_import(repo: JobRepository, specs: Sequence[JobSpec], *, allow_duplicate_name: bool = False) -> ImportPlan:
    """Give each imported job the id it replaces (its own, else the one job of its name) and
    check names; ImportProblem lists every conflict, pointing at jobs by their place in the file."""
    existing = repo.names()
    explicit = {spec.id: index for index, spec in enumerate(specs, start=1) if spec.id}
    problems: list[tuple[int, str]] = []  # by the job's place in the file
    unresolved: set[int] = set()  # jobs whose target is unclear: no name check on top of that
    planned: list[JobSpec] = []
    for index, spec in enumerate(specs, start=1):
        where = job_label(index, spec.name)
        if not spec.id:
            same = sorted(job_id for job_id, name in existing.items() if name == spec.name)
            if len(same) > 1:
                unresolved.add(index)
                problems.append((index, f"{where}, name: {spec.name!r} matches jobs {', '.join(same)}: add id = \"...\" to say which one to replace"))
            elif same and same[0] in explicit:
                unresolved.add(index)
                problems.append((index, f"{where}, name: matches job {same[0]}, which job {explicit[same[0]]} replaces by id"))
            elif same:
                spec = replace(spec, id=same[0])
        planned.append(spec)
    targets = {spec.id for spec in planned if spec.id}
    if not allow_duplicate_name:
        for index, spec in enumerate(planned, start=1):
            if index in unresolved:
                continue
            in_file = [other for other, s in enumerate(planned[: index - 1], start=1) if s.name == spec.name]
            kept_name = bool(spec.id) and existing.get(spec.id) == spec.name
            in_store = [] if kept_name else sorted(
                job_id for job_id, name in existing.items() if name == spec.name and job_id not in targets
            )
            where = job_label(index, spec.name)
            if in_file:
                problems.append((index, f"{where}, name: also the name of job {in_file[0]} in this file"))
            elif in_store:
                problems.append((index, f"{where}, name: {DuplicateName(spec.name, in_store).message}"))
    if problems:
        raise ImportProblem([text for _, text in sorted(problems, key=lambda problem: problem[0])])
    return ImportPlan(planned, {spec.id for spec in planned if spec.id in existing})
