"""The slow-run watch takes run events on the thread that emits them: no GUI thread involved."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from jobs.db import open_database
from jobs.events import JobEvents
from jobs.history import HistoryRepository
from jobs.model import RunCause, RunOutcome, RunStatus
from jobs.paths import ensure_private_dir
from jobs.slow_runs import SlowRunWatch
from tests.jobs.test_run_stats import seed, spec


def test_a_finished_run_from_a_worker_thread_is_checked_without_the_event_loop(data_dir, qapp):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    history = HistoryRepository(engine)
    job = spec("quick")
    seed(history, job, [600.0] * 12)  # usually ten minutes
    run_id = history.create(job, RunCause.MANUAL, RunStatus.QUEUED)
    began = history.get(run_id).queued_at
    history.mark_started(run_id, began, None)
    history.finish(run_id, RunOutcome(RunStatus.SUCCEEDED, 0, began, began + timedelta(seconds=2)))
    events = JobEvents()  # made here, on the main thread, as the service makes it
    watch = SlowRunWatch.on_events(engine, history, lambda _job_id: job, events)
    try:
        worker = threading.Thread(target=events.run_finished.emit, args=(history.get(run_id),))
        worker.start()
        worker.join()
        deadline = time.monotonic() + 10
        while history.get(run_id).slow is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the Qt event loop never turns here
        assert history.get(run_id).slow == "short"
    finally:
        watch.close()
        engine.dispose()
