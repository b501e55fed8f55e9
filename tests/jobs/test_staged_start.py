"""Starting to schedule in stages (jobs.service_start, issue 10): the read may run on another
thread and the work in slices, with the user's edits coming in between; what a start in one go
does (catch-up once, the missed-run policy) still happens, and no edit is undone."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from jobs.history import HistoryQuery
from jobs.model import CronSpec, JobSpec, RunCause, RunStatus
from jobs.service import JobService
from jobs.service_start import StagedStart
from tests.conftest import py

DAILY = CronSpec(f"0 {(datetime.now(timezone.utc).hour + 12) % 24} * * *", "UTC")  # 12 hours away


def closed_for_days(data_dir, specs: list[JobSpec], days: int) -> list[JobSpec]:
    first = JobService(data_dir)
    first.start()
    saved = [first.add_job(spec) for spec in specs]
    first.scheduler.pause()  # as if Jobdesk had been closed for `days`
    for stored in first.scheduler.get_jobs():
        first.scheduler.modify_job(stored.id, next_run_time=stored.next_run_time - timedelta(days=days))
    first.shutdown()
    return saved


def test_a_start_in_slices_read_elsewhere_catches_up_once_and_keeps_edits_made_meanwhile(data_dir, qapp, qtbot):
    strict = [JobSpec(name=f"strict {i}", command=py("pass"), trigger=DAILY, misfire_grace=1, coalesce=False)
              for i in range(30)]  # fmt: skip
    collapse, edited, removed, *strict = closed_for_days(data_dir, [
        JobSpec(name="collapse", command=py("pass"), trigger=DAILY),
        JobSpec(name="edited", command=py("pass"), trigger=DAILY),
        JobSpec(name="removed", command=py("pass"), trigger=DAILY),
        *strict,
    ], days=3)  # fmt: skip
    service = JobService(data_dir)
    try:
        staged = StagedStart(service)
        staged.prepare()
        assert service.scheduling  # started paused: an edit from here on goes to the scheduler
        reader = threading.Thread(target=staged.read)
        reader.start()
        reader.join()
        # the user, between the read and the work: an edit and a removal the read did not see
        moved = service.update_job(replace(edited, trigger=CronSpec("30 6 * * *", "UTC")))
        service.remove_job(removed.id)
        slices = 1
        while not staged.step(time.monotonic()):  # the least work a slice may do
            slices += 1
        staged.finish()
        assert slices > 3  # it did come in slices

        rows = {job.id: job for job in service.scheduler.get_jobs()}
        assert removed.id not in rows
        assert rows[moved.id].trigger.get_next_fire_time(None, datetime.now(timezone.utc)).strftime("%M") == "30"
        assert service.history.count(HistoryQuery(job_id=edited.id)) == 0  # its edit, not a stale catch-up
        qtbot.waitUntil(lambda: service.history.count(HistoryQuery(job_id=collapse.id)) == 3, timeout=10_000)
        runs = service.query_history(HistoryQuery(job_id=collapse.id))
        catch_up = [r for r in runs if r.status is not RunStatus.MISSED]
        assert len(catch_up) == 1 and catch_up[0].cause is RunCause.CATCH_UP
        assert all("collapsed" in (r.error or "") for r in runs if r.status is RunStatus.MISSED)
        for spec in strict:
            strict_runs = service.query_history(HistoryQuery(job_id=spec.id))
            assert len(strict_runs) == 3 and all(r.status is RunStatus.MISSED for r in strict_runs)
        now = datetime.now(timezone.utc)
        assert all(when > now for when in service.next_run_times().values())
        assert service.scheduler.state == 1  # running, no longer paused
    finally:
        service.shutdown()


def test_many_jobs_due_at_one_instant_are_handed_over_a_few_per_pass_and_all_run(data_dir, qapp, qtbot):
    from jobs.model import DateSpec

    service = JobService(data_dir)
    service.start()
    try:
        due = (datetime.now(timezone.utc) + timedelta(seconds=5)).replace(microsecond=0)
        saved = service.import_jobs([JobSpec(name=f"at once {i}", command=py("pass"), trigger=DateSpec(due, "UTC"))
                                     for i in range(12)])  # fmt: skip
        # the imports' wake-ups are over (with a margin for a loaded machine: the import took ~0.1 s alone)
        qtbot.wait(max(0, int((due - datetime.now(timezone.utc)).total_seconds() * 1000) - 1000))
        assert not service.query_history(HistoryQuery(limit=50)), "fired before the counting began"
        before = service.scheduler.process_count
        query = HistoryQuery(limit=50)
        qtbot.waitUntil(lambda: len(service.query_history(query)) == 12, timeout=15_000)
        passes = service.scheduler.process_count - before
        assert passes >= 3  # at most DUE_PER_PASS (2) in a pass, the event loop turning between
        runs = service.query_history(query)
        assert {r.job_id for r in runs} == {spec.id for spec in saved}
        assert all(r.scheduled_at == due and r.cause is RunCause.SCHEDULED for r in runs)
    finally:
        service.shutdown()


def test_importing_ahead_loads_what_prepare_needs_without_qt_widgets():
    """`import_ahead` (run on a worker after the window's first paint) leaves nothing for the
    GUI thread to import in `prepare`; in a fresh interpreter, so the modules are really new."""
    import subprocess
    import sys

    code = ("import sys\nfrom jobs.service_start import import_ahead\n"
            "names = ('jobs.scheduler', 'jobs.slow_runs', 'jobs.wake_digest', 'apscheduler.schedulers.qt')\n"
            "assert not any(n in sys.modules for n in names), [n for n in names if n in sys.modules]\n"
            "import_ahead()\n"
            "assert all(n in sys.modules for n in names), [n for n in names if n not in sys.modules]\n"
            "assert 'PySide6.QtWidgets' not in sys.modules and 'PySide6.QtGui' not in sys.modules\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_start_after_a_close_warns_once_for_all_jobs_and_logs_each_job_at_info(data_dir, qapp, caplog):
    """After a night closed with hundreds of jobs, one warning (on stderr when run in a terminal),
    not one per job: each job's count stays in jobdesk.log at INFO."""
    saved = closed_for_days(data_dir, [JobSpec(name=f"strict {i}", command=py("pass"), trigger=DAILY, misfire_grace=1,
                                               coalesce=False) for i in range(4)], days=2)  # fmt: skip
    caplog.set_level(logging.INFO, logger="jobs.reconcile")
    service = JobService(data_dir)
    try:
        service.start()
    finally:
        service.shutdown()
    records = [record for record in caplog.records if record.name == "jobs.reconcile"]
    warnings = [record.getMessage() for record in records if record.levelno >= logging.WARNING]
    assert warnings == ["4 job(s) had 8 run time(s) pass while Jobdesk was not running (per job: jobdesk.log; "
                        "their runs and missed rows: History, `jobdesk missed`)"]  # fmt: skip
    per_job = [record.getMessage() for record in records if record.levelno == logging.INFO and "passed while" in record.getMessage()]
    assert sorted(per_job) == sorted(f"job {spec.id}: 2 run time(s) passed while Jobdesk was not running" for spec in saved)
