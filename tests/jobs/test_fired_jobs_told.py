"""A job the scheduler fired is told to listeners (`jobs_changed`) only once the store holds its
new next run time: the scheduler's pass runs on its own thread, and a window reading sooner
would show a run time already past until something else changed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from PySide6.QtCore import Qt

from jobs.model import DateSpec, IntervalSpec, JobSpec
from jobs.service import JobService
from tests.conftest import py


def test_a_fired_job_is_told_after_the_store_has_its_next_run(qapp, qtbot, data_dir):
    service = JobService(data_dir)
    service.start()
    try:
        every = service.add_job(JobSpec(name="Every second", command=py("pass"), trigger=IntervalSpec(1, "seconds", "UTC")))
        once = service.add_job(JobSpec(name="Once", command=py("pass"),
                                       trigger=DateSpec(datetime.now(timezone.utc) + timedelta(seconds=1), "UTC")))  # fmt: skip
        seen: list[tuple[tuple[str, ...], dict[str, datetime], datetime]] = []

        def read_at_once(job_ids: tuple[str, ...]) -> None:  # on the emitting thread: what a reader finds then
            seen.append((job_ids, service.next_run_times([every, once]), datetime.now(timezone.utc)))

        service.events.jobs_changed.connect(read_at_once, Qt.ConnectionType.DirectConnection)
        qtbot.waitUntil(lambda: any(once.id in ids for ids, _, _ in seen) and any(every.id in ids for ids, _, _ in seen),
                        timeout=10_000)  # fmt: skip
    finally:
        service.shutdown()
    for job_ids, next_runs, at in seen:
        if every.id in job_ids:
            assert next_runs[every.id] > at - timedelta(seconds=0.5)  # not the fire just past
        if once.id in job_ids:
            assert once.id not in next_runs  # fired: no next run (finished)
