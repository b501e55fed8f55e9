"""jobs.first_screen: the jobs due soonest, read without reading every definition. Its promise:
every job it leaves out runs strictly after `horizon` (so the rows up to it are the table's top)."""

from __future__ import annotations

import pytest

from jobs.first_screen import soonest_jobs
from jobs.model import AfterSpec
from tests.mixed_jobs import add_mixed_jobs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_job_left_out_runs_after_the_horizon_and_after_jobs_come_with_their_upstream(service, seed):
    added = add_mixed_jobs(service, seed)
    found = soonest_jobs(service.engine, service.jobs, 10)
    assert found is not None
    read = {spec.id for spec in found.specs}
    everything = service.list_jobs()
    next_runs = service.next_run_times(everything)
    for spec in everything:
        if spec.id in read:
            continue
        assert not spec.paused and not isinstance(spec.trigger, AfterSpec), spec
        assert next_runs[spec.id] > found.horizon, spec
    assert sum(1 for job_id in read if next_runs.get(job_id, found.horizon) <= found.horizon) >= 10
    for spec in found.specs:
        if isinstance(spec.trigger, AfterSpec):
            assert set(spec.trigger.jobs) <= read
    assert [spec.id for spec in found.specs] == [spec.id for spec in everything if spec.id in read]  # the list's order
    assert len(read) < len(added)  # it did leave some out


def test_no_shortcut_when_it_would_not_save_a_full_read(service):
    add_mixed_jobs(service, 4, scheduled=12)
    assert soonest_jobs(service.engine, service.jobs, 500) is None  # fewer jobs have a next run
    assert soonest_jobs(service.engine, service.jobs, 5, at_least=1000) is None  # few jobs: read them all
    assert soonest_jobs(service.engine, service.jobs, 5, most=3) is None  # more to read than that
    assert soonest_jobs(service.engine, service.jobs, 5) is not None


def test_more_ids_than_one_statement_takes_are_read_in_parts_in_the_list_s_order(service):
    """Old SQLite builds take 999 parameters a statement: the ids go in parts, and the jobs come
    back in the order one query would give (by name, then id)."""
    from jobs.last_runs import IDS_PER_STATEMENT
    from jobs.model import CronSpec, JobSpec
    from tests.conftest import py

    count = IDS_PER_STATEMENT * 2 + 7
    service.import_jobs([JobSpec(name=f"{'Zz' if n % 3 else 'aa'} paused {n:04d}", command=py("pass"),
                                 trigger=CronSpec("0 3 * * *", "UTC"), paused=True) for n in range(count)])  # fmt: skip
    timed = service.import_jobs([JobSpec(name=f"timed {n:02d}", command=py("pass"), trigger=CronSpec(f"{n} * * * *", "UTC"))
                                 for n in range(12)])  # fmt: skip
    found = soonest_jobs(service.engine, service.jobs, 10, most=count + 100)
    assert found is not None
    everything = service.list_jobs()
    assert [spec.id for spec in found.specs] == [spec.id for spec in everything if spec.id in {s.id for s in found.specs}]
    assert sum(1 for spec in found.specs if spec.paused) == count
    next_runs = service.next_runs.times_of(found.specs)  # also in parts
    assert {spec.id for spec in timed} >= set(next_runs) and len(next_runs) >= 10
