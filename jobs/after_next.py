"""An after-job's "next run" for the Jobs table and `jobdesk list`: it has no time of its own,
so it shows when it is expected (jobs.chain_plan: the upstream fire that completes its set,
assuming the upstream runs succeed) and after which upstream job: "after Extract (06:00)".

From each job's next fire alone: an after-job's first expected run comes right after the latest
of the next fires of the upstream jobs it still waits for, and along a chain an after-job's
expected run is the fire its own after-jobs wait for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from jobs.chain_plan import expected_runs
from jobs.model import AfterSpec, JobSpec


@dataclass(frozen=True)
class ExpectedAfter:
    at: datetime  # the upstream fire that completes the set ("or later": when those runs end)
    upstream: tuple[str, ...]  # the upstream job(s) firing then: what it runs after


def next_expected(specs: Sequence[JobSpec], next_runs: Mapping[str, datetime],
                  done: Mapping[str, set[str]] | None = None) -> dict[str, ExpectedAfter]:  # fmt: skip
    """The next expected run of each after-job that can tell (not paused, not waiting for
    failures, every upstream job it still waits for has a next fire). `next_runs`: each job's
    next run (jobs.next_runs); `done`: jobs.chains.finished_so_far."""
    fires = {job_id: [when] for job_id, when in next_runs.items()}
    out = {}
    for job_id, runs in expected_runs(specs, fires, limit=1, done=done).items():
        when, links = runs[0]
        out[job_id] = ExpectedAfter(when, tuple(upstream for upstream, at in links if at == when))
    return out


def is_after(spec: JobSpec) -> bool:
    return isinstance(spec.trigger, AfterSpec)


def upstream_words(expected: ExpectedAfter, names: Mapping[str, str]) -> str:
    """"Extract", "Extract and Prices": the upstream jobs firing at the expected time."""
    shown = [names.get(job_id, job_id) for job_id in expected.upstream] or ["its upstream jobs"]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


NOT_EXPECTED = "after its upstream jobs"  # no time can be told (an upstream paused, or waits for failures)
