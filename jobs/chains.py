"""Run after other jobs (issue 12): which jobs wait for which, and starting them when they may.

A job with an after-trigger (`AfterSpec`: upstream job ids and a status) has no APScheduler
entry. When a run of another job reaches its final outcome (`is_final_outcome`: not an attempt
that will be retried), `ChainFollower.run_finished` looks for the jobs that run after it and
starts each one whose upstream jobs have *all* finished that way since it last ran (A and B →
C: C runs once, after the later of the two). The run's history cause is `after` and its row
keeps the upstream run's id.

"Since it last ran" is read from history, never kept only in memory, so a restart between A's
end and B's end still runs C once, after B: since the newest run of C (any cause), and not
before C was created (an old success of A must not start a brand-new C). Runs end on runner
threads at the same time: one lock orders the decisions, and a run just submitted counts
before its row is written.

Saving refuses what cannot work: an upstream that does not exist, and cycles ("C → A → C"),
for `add`, edits and imports alike (`check_chain`, `plan_import_chains`). The command line
follows chains only while a window or `serve` schedules (a foreground `jobdesk run` does not).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from jobs.after_trigger import counts_for
from jobs.alerts.policy import is_final_outcome
from jobs.db import job_table
from jobs.history import HistoryRepository
from jobs.job_rules import JobValidationError, Problem
from jobs.model import AfterSpec, JobSpec, RunCause, RunRecord, RunStatus
from jobs.repository import JobRepository, StoredDefinition, new_job_id

if TYPE_CHECKING:
    from jobs.dispatcher import Dispatcher
    from jobs.service import JobService

log = logging.getLogger(__name__)

ARROW = " → "
_FIELD = "trigger.jobs"
_SUCCESS = (RunStatus.SUCCEEDED,)
_FAILURE = tuple(status for status in RunStatus if status.is_failure)
STATUSES_OF = {"success": _SUCCESS, "failure": _FAILURE, "any": _SUCCESS + _FAILURE}


# --- the graph: job id -> the ids it runs after ------------------------------------------------


def upstreams(spec: JobSpec) -> tuple[str, ...]:
    return spec.trigger.jobs if isinstance(spec.trigger, AfterSpec) else ()


def graph_of(specs: Iterable[JobSpec]) -> dict[str, tuple[str, ...]]:
    return {spec.id: upstreams(spec) for spec in specs if upstreams(spec)}


def find_cycle(graph: Mapping[str, Sequence[str]], start: str) -> list[str] | None:
    """A path from `start` through the jobs it runs after back to `start` ([C, A, C]), or None."""
    path, seen = [start], {start}
    stack = [iter(graph.get(start, ()))]
    while stack:
        upstream = next(stack[-1], None)
        if upstream is None:
            stack.pop()
            path.pop()
        elif upstream == start:
            return [*path, start]
        elif upstream not in seen:
            seen.add(upstream)
            path.append(upstream)
            stack.append(iter(graph.get(upstream, ())))
    return None


def cycle_words(path: Sequence[str], names: Mapping[str, str]) -> str:
    """"C → A → C", by name where known."""
    return ARROW.join(names.get(job_id, job_id) for job_id in path)


def dependents(specs: Iterable[JobSpec], job_id: str) -> list[JobSpec]:
    """The jobs that run after `job_id`, by name."""
    return sorted((spec for spec in specs if job_id in upstreams(spec)), key=lambda spec: (spec.name, spec.id))


def dependents_warning(specs: Iterable[JobSpec], removed: JobSpec) -> str:
    """A paragraph for a delete confirmation naming the jobs that run after `removed` ("" if none)."""
    waiting = dependents(specs, removed.id)
    if not waiting:
        return ""
    names = ", ".join(f"“{spec.name}”" for spec in waiting)
    return f"{names} {'runs' if len(waiting) == 1 else 'run'} after it and will not run again until you edit {'it' if len(waiting) == 1 else 'them'}.\n\n"


# --- checks when a job is saved ---------------------------------------------------------------


def resolve(spec: JobSpec, specs: Iterable[JobSpec], *, cycles: bool = True) -> tuple[JobSpec, list[Problem]]:
    """`spec` with each upstream given by name replaced by that job's id (an id always wins),
    and the problems: unknown or ambiguous references, a cycle (unless `cycles` is False)."""
    if not isinstance(spec.trigger, AfterSpec):
        return spec, []
    known = {other.id: other for other in specs if other.id != spec.id or not spec.id}
    by_name: dict[str, list[str]] = defaultdict(list)
    for other in [*known.values(), *([spec] if spec.id else [])]:  # naming itself is a cycle, said below
        by_name[other.name].append(other.id)
    problems: list[Problem] = []
    ids = []
    for ref in spec.trigger.jobs:
        if ref in known or (ref == spec.id and spec.id):
            ids.append(ref)
        elif len(by_name.get(ref, ())) == 1:
            ids.append(by_name[ref][0])
        elif by_name.get(ref):
            problems.append((_FIELD, f"{ref!r} is the name of {len(by_name[ref])} jobs: "
                                     f"{', '.join(sorted(by_name[ref]))}; use an id"))  # fmt: skip
        else:
            problems.append((_FIELD, f"no job with id or name {ref!r} to run after"))
    resolved = replace(spec, trigger=replace(spec.trigger, jobs=tuple(dict.fromkeys(ids))))
    if cycles and not problems and spec.id:
        names = {job_id: other.name for job_id, other in known.items()} | {spec.id: spec.name}
        path = find_cycle(graph_of([*known.values(), resolved]), spec.id)
        if path is not None:
            problems.append((_FIELD, f"would make a cycle: {cycle_words(path, names)}"))
    return resolved, problems


def check_chain(spec: JobSpec, stored: Iterable[JobSpec]) -> JobSpec:
    """`resolve` for one saved job; JobValidationError names every problem."""
    resolved, problems = resolve(spec, stored)
    if problems:
        raise JobValidationError.of(problems)
    return resolved


def checked(spec: JobSpec, jobs: JobRepository) -> JobSpec:
    """`check_chain` against the store, for an after-job (no other job can close a cycle)."""
    return check_chain(spec, jobs.all()) if upstreams(spec) else spec


def checked_import(specs: Sequence[JobSpec], jobs: JobRepository) -> list[JobSpec]:
    """`plan_import_chains` against the store; ImportProblem lists every problem."""
    from jobs.transfer import ImportProblem

    if not any(upstreams(spec) for spec in specs):
        return list(specs)
    planned, problems = plan_import_chains(specs, jobs.all())
    if problems:
        raise ImportProblem(problems)
    return planned


def plan_import_chains(specs: Sequence[JobSpec], stored: Iterable[JobSpec]) -> tuple[list[JobSpec], list[str]]:
    """Imported jobs with ids for the new ones (so jobs of the file can name each other) and
    their references resolved against the file and the store; problems as "job 2 ('C'),
    trigger.jobs: ..." lines. Cycles are looked for in the store as the import leaves it."""
    from jobs.transfer import job_label

    taken = {spec.id for spec in stored} | {spec.id for spec in specs if spec.id}
    planned = []
    for spec in specs:
        if not spec.id:
            job_id = new_job_id()
            while job_id in taken:
                job_id = new_job_id()
            taken.add(job_id)
            spec = replace(spec, id=job_id)
        planned.append(spec)
    after = {spec.id: spec for spec in stored} | {spec.id: spec for spec in planned}
    everyone = list(after.values())
    out, problems = [], []
    for spec in planned:  # first every reference, then cycles in the graph they make
        resolved, found = resolve(spec, everyone, cycles=False)
        out.append(resolved)
        problems.append(found)
        after[spec.id] = resolved
    graph, names = graph_of(after.values()), {job_id: spec.name for job_id, spec in after.items()}
    lines = []
    for index, (spec, found) in enumerate(zip(out, problems), start=1):
        path = None if found or not upstreams(spec) else find_cycle(graph, spec.id)
        found += [(_FIELD, f"would make a cycle: {cycle_words(path, names)}")] if path else []
        lines += [f"{job_label(index, spec.name)}, {field}: {message}" for field, message in found]
    return out, lines


# --- following runs ---------------------------------------------------------------------------


def _since(history: HistoryRepository, job_id: str, created: float, submitted: float = 0.0) -> float:
    """From when upstream ends count for `job_id`: its last run, not before it was created."""
    return max(created, history.last_queued_at(job_id) or 0.0, submitted)


def _finished(history: HistoryRepository, trigger: AfterSpec, since: float, upstream_ids: Iterable[str]) -> set[str]:
    """Those of `upstream_ids` with a final run that ended the wanted way after `since`."""
    statuses = STATUSES_OF[trigger.status]
    return {job_id for job_id in upstream_ids
            if any(is_final_outcome(run) for run in history.ended_since(job_id, since, statuses))}  # fmt: skip


def finished_so_far(engine: Engine, history: HistoryRepository, specs: Iterable[JobSpec]) -> dict[str, set[str]]:
    """For each after-job, the upstream jobs that have already finished since it last ran
    (what it still waits for is the rest): Upcoming and the Timeline start from there."""
    after = [spec for spec in specs if isinstance(spec.trigger, AfterSpec)]
    if not after:
        return {}
    with engine.connect() as conn:
        created = dict(conn.execute(select(job_table.c.id, job_table.c.created_at)
                                    .where(job_table.c.id.in_([spec.id for spec in after]))).all())  # fmt: skip
    out = {}
    for spec in after:
        assert isinstance(spec.trigger, AfterSpec)
        out[spec.id] = _finished(history, spec.trigger, _since(history, spec.id, float(created.get(spec.id, 0.0))),
                                 spec.trigger.jobs)  # fmt: skip
    return out


def follower_for(service: JobService, dispatcher: Dispatcher) -> Callable[[RunRecord], None]:
    """The finish listener that starts `service`'s after-jobs (while it schedules)."""

    def submit(spec: JobSpec, upstream_run_id: int) -> object:
        return dispatcher.submit(spec, RunCause.AFTER, upstream_run_id=upstream_run_id)

    follower = ChainFollower(service.engine, service.jobs, service.history, submit, lambda: service.scheduling)
    return follower.run_finished


class ChainFollower:
    """Starts after-jobs when their upstream runs end (a finish listener of the dispatcher).

    `submit(spec, upstream_run_id)` starts a run with cause `after`; `active()` says whether
    this process schedules (a window or `serve`)."""

    def __init__(self, engine: Engine, jobs: JobRepository, history: HistoryRepository,
                 submit: Callable[[JobSpec, int], object], active: Callable[[], bool]) -> None:  # fmt: skip
        self._engine = engine
        self._jobs = jobs
        self._history = history
        self._submit = submit
        self._active = active
        # Reentrant: a run that cannot start ends inside `submit`, on this thread, and is followed too
        self._lock = threading.RLock()
        self._submitted: dict[str, float] = {}  # job id -> when this process last started it (before its row exists)

    def run_finished(self, record: RunRecord) -> None:
        if not self._active() or record.ended_at is None or not is_final_outcome(record):
            return
        with self._lock:
            for spec, created in self._downstream_of(record.job_id):
                trigger = spec.trigger
                assert isinstance(trigger, AfterSpec)
                if spec.paused or not counts_for(trigger.status, record) or not self._ready(spec, created, record):
                    continue
                log.info("job %s: its upstream jobs finished (%s, last run #%d): starting it",
                         spec.id, trigger.status, record.id)  # fmt: skip
                self._submitted[spec.id] = time.time()
                self._submit(spec, record.id)

    def _ready(self, spec: JobSpec, created: float, record: RunRecord) -> bool:
        """Whether every upstream job finished the wanted way since `spec`'s job last ran."""
        assert isinstance(spec.trigger, AfterSpec) and record.ended_at is not None
        since = _since(self._history, spec.id, created, self._submitted.get(spec.id, 0.0))
        if record.ended_at.timestamp() <= since:
            return False
        others = [job_id for job_id in spec.trigger.jobs if job_id != record.job_id]
        return len(_finished(self._history, spec.trigger, since, others)) == len(others)

    def _downstream_of(self, job_id: str) -> list[tuple[JobSpec, float]]:
        """(definition, created at) of the jobs that run after `job_id`; only after-jobs are decoded."""
        query = select(job_table.c.id, job_table.c.name, job_table.c.paused, job_table.c.spec,
                       job_table.c.created_at).where(job_table.c.spec.like('%"type": "after"%'))  # fmt: skip
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        out = []
        for row in rows:
            spec = self._jobs.decode(StoredDefinition(row.id, row.name, bool(row.paused), row.spec))
            if spec is not None and job_id in upstreams(spec):
                out.append((spec, float(row.created_at)))
        return out
