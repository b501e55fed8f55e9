"""Races of the scheduler's pass thread with the GUI thread (found in review of the move of
the passes off the GUI thread; each test failed before its fix): quitting during a burst, an
edit during a job's first fire, a removal as the job fires, a wake noted during a pass."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger

from jobs.entry import FUNC_REF
from jobs.model import IntervalSpec, JobSpec
from jobs.scheduler import DispatchExecutor, JobdeskScheduler
from tests.conftest import py


class TwoAtATime(MemoryJobStore):
    """As SlicedJobStore: at most 2 due jobs a pass."""

    def get_due_jobs(self, now):
        return super().get_due_jobs(now)[:2]


def test_shutdown_stops_a_burst_of_passes_at_once(qapp, qtbot):
    """Quitting waited (up to 10 s) for every slice of a burst, and runs kept starting."""
    fired: list[float] = []

    def on_due(job_id, run_times):
        time.sleep(0.1)
        fired.append(time.monotonic())

    scheduler = JobdeskScheduler(jobstores={"default": TwoAtATime()}, executors={"default": DispatchExecutor(on_due)},
                                 timezone=timezone.utc)
    scheduler.start(paused=True)
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    for i in range(30):  # a burst: 15 passes of ~0.2 s
        scheduler.add_job(FUNC_REF, trigger=IntervalTrigger(hours=1, timezone=timezone.utc), args=[f"j{i}"],
                          id=f"j{i}", next_run_time=past, misfire_grace_time=None)
    scheduler.resume()
    qtbot.waitUntil(lambda: len(fired) >= 1, timeout=3000)
    began = time.monotonic()
    scheduler.shutdown(wait=False)
    took = time.monotonic() - began
    after = [t for t in fired if t > began]
    assert took < 0.5 and len(after) <= 2, (took, len(after))


def test_an_edit_saved_during_a_jobs_first_fire_is_kept(service, qtbot):
    """The pass thread read the old definition, the GUI thread kept the edit, then the pass
    thread kept the old one over it: every fire ran the old command for the session."""
    spec = service.add_job(JobSpec(name="J", command=py("print('old')"), trigger=IntervalSpec(1, "seconds", "UTC")))
    service._specs.pop(spec.id)  # as after start-up: decoded on its first fire
    read, go = threading.Event(), threading.Event()
    real_get = service.jobs.get

    def get(job_id):
        found = real_get(job_id)
        if threading.current_thread().name == "jobdesk-scheduler":
            read.set()
            go.wait(5)  # (widens the window between the SELECT and the dict store)
        return found

    service.jobs.get = get
    qtbot.waitUntil(read.is_set, timeout=5000)
    new = replace(spec, command=py("print('new')"))

    def release_when_gui_stored():
        while service._specs.get(spec.id) is None or service._specs[spec.id].command != new.command:
            time.sleep(0.001)
        go.set()

    threading.Thread(target=release_when_gui_stored, daemon=True).start()
    service.update_job(new)  # GUI thread: stores _specs, then waits for the pass's store lock
    service.jobs.get = real_get
    assert service._specs[spec.id].command == new.command, service._specs[spec.id].command


def test_removing_a_job_as_it_fires_does_not_raise(service, qtbot):
    """The check and the removal were two holds of the store lock; a pass between them removed
    the entry (its job had no definition any more) and the user got a JobLookupError."""
    spec = service.add_job(JobSpec(name="J", command=py("pass"), trigger=IntervalSpec(1, "seconds", "UTC")))
    real = service.scheduler.get_job

    def get_job(job_id, *a, **kw):
        job = real(job_id, *a, **kw)
        time.sleep(1.2)  # (widens the window: the job comes due meanwhile ...)
        service.scheduler.wakeup()  # (... and its timer's shot, blocked here with the GUI thread, is stood in for)
        time.sleep(0.5)
        return job

    service.scheduler.get_job = get_job
    service.remove_job(spec.id)


def test_a_wake_during_a_pass_is_sealed_by_a_later_pass(service, qtbot):
    """A pass under way read its due jobs before the wake: the pass the wake asks for seals it."""
    executor = service.scheduler._lookup_executor("default")
    real_on_due = executor._on_due
    in_pass = threading.Event()

    def slow(job_id, run_times):
        in_pass.set()
        time.sleep(0.5)
        real_on_due(job_id, run_times)

    executor._on_due = slow
    sealed_in: list[int] = []
    digests = service.wake_digests
    digests._seal_soon = lambda *a, **kw: sealed_in.append(service.scheduler.process_count)
    service.add_job(JobSpec(name="J", command=py("pass"), trigger=IntervalSpec(1, "seconds", "UTC")))
    qtbot.waitUntil(in_pass.is_set, timeout=5000)
    pass_under_way = service.scheduler.process_count
    now = time.time()
    digests.woke("asleep", now - 60, now)
    qtbot.waitUntil(lambda: bool(sealed_in), timeout=5000)
    assert sealed_in[0] > pass_under_way, (sealed_in, pass_under_way)
