"""When after-jobs (jobs.chains) are expected to run, for Upcoming and the Timeline.

An after-job has no times of its own: it runs when its upstream jobs have finished. Assuming
every upstream run succeeds (an after-job waiting for failures is never expected), it is due at
the fire of its upstream jobs that completes the set since its previous expected run: A and B
daily at 06:00 → C at 06:00 ("or later": when those runs end). Expected runs of after-jobs count
as fires for the jobs after them, so a chain of any length is followed. Each expected run keeps
the upstream fires it follows: the Timeline draws those links.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from jobs.model import AfterSpec, JobSpec
from jobs.upcoming import Lane

Link = tuple[str, datetime]  # (upstream job id, the fire of it that an expected run follows)
Expected = tuple[datetime, tuple[Link, ...]]  # (when, the upstream fires it follows since the one before)


def expected_runs(specs: Iterable[JobSpec], fires: Mapping[str, Sequence[datetime]], limit: int = 200,
                  done: Mapping[str, set[str]] | None = None) -> dict[str, list[Expected]]:  # fmt: skip
    """Expected runs of each active after-job (at most `limit` each), from the other jobs'
    `fires` (job id -> fire times, ascending). `done`: the upstream jobs of each after-job that
    have finished since it last ran (jobs.chains.finished_so_far): it waits only for the rest."""
    waiting = [spec for spec in specs if isinstance(spec.trigger, AfterSpec) and not spec.paused
               and spec.trigger.status != "failure"]  # fmt: skip
    known: dict[str, Sequence[datetime]] = dict(fires)
    out: dict[str, list[Expected]] = {}
    for _ in range(len(waiting)):  # each pass settles at least one more link of a chain
        progressed = False
        for spec in waiting:
            trigger = spec.trigger
            assert isinstance(trigger, AfterSpec)
            already = (done or {}).get(spec.id, set())
            if spec.id in out or not all(job_id in known or job_id in already for job_id in trigger.jobs):
                continue
            out[spec.id] = _simulate(trigger.jobs, known, limit, already)
            known[spec.id] = [when for when, _ in out[spec.id]]
            progressed = True
        if not progressed:
            break
    return {job_id: runs for job_id, runs in out.items() if runs}


def _simulate(upstreams: Sequence[str], known: Mapping[str, Sequence[datetime]], limit: int,
              already: set[str]) -> list[Expected]:  # fmt: skip
    merged = heapq.merge(*([(when, job_id) for when in known.get(job_id, ())] for job_id in upstreams))
    done = set(already) & set(upstreams)
    latest: dict[str, datetime] = {}  # each upstream's last fire since the previous expected run
    runs: list[Expected] = []
    for when, job_id in merged:
        done.add(job_id)
        latest[job_id] = when
        if len(done) == len(upstreams):
            runs.append((when, tuple(latest.items())))
            done.clear()
            latest.clear()
            if len(runs) >= limit:
                break
    return runs


def with_expected(rows: Sequence[tuple[datetime, JobSpec]], specs: Sequence[JobSpec],
                  done: Mapping[str, set[str]] | None = None) -> list[tuple[datetime, JobSpec]]:  # fmt: skip
    """Upcoming rows with the after-jobs' expected runs among them (each right after the fire
    that completes it), as long as the rows reach."""
    fires: dict[str, list[datetime]] = {}
    for when, spec in rows:
        fires.setdefault(spec.id, []).append(when)
    by_id = {spec.id: spec for spec in specs}
    extra = [(when, by_id[job_id]) for job_id, runs in expected_runs(specs, fires, done=done).items() for when, _ in runs]
    return sorted([*rows, *extra], key=lambda row: row[0]) if extra else list(rows)


def with_expected_lanes(lanes: Sequence[Lane], specs: Sequence[JobSpec], done: Mapping[str, set[str]] | None = None,
                        max_marks: int = 48) -> list[Lane]:  # fmt: skip
    """Timeline lanes with a lane for each after-job expected to run in the span (from the
    listed fires of the other lanes; a dense lane is not followed), linked to its upstreams."""
    fires = {lane.job.id: lane.fires for lane in lanes if lane.dense is None}
    by_id = {spec.id: spec for spec in specs}
    extra = [Lane(by_id[job_id], tuple(when for when, _ in runs), links=tuple(links for _, links in runs))
             for job_id, runs in expected_runs(specs, fires, max_marks, done).items()]  # fmt: skip
    return sorted([*lanes, *extra], key=lambda lane: lane.first) if extra else list(lanes)  # stable: after its upstream
