"""`serve` under the issue-10 mix, shortened: 2,000 jobs (20 every minute, the rest daily, a few
of those due in the next two minutes), one to two minute boundaries. Every slot due meanwhile
must have a run that started; none missed, skipped or lost. The 10-minute soak at 10,000 jobs,
with fire latency and CPU, is `python -m tests.bench.bench_scale --only serve`."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from jobs.service import JobService
from jobs.wall_time import local_timezone_name
from tests.bench import serve_load

pytestmark = pytest.mark.slow

JOBS = 2000
LONGEST_SOAK = 95.0  # seconds: two minute boundaries when they fit, else one


def test_every_slot_due_under_load_runs(data_dir):
    now = datetime.now(timezone.utc)
    service = JobService(data_dir)
    try:
        service.import_jobs(serve_load.load_specs(JOBS, local_timezone_name(), soon=now, soon_count=10))
    finally:
        service.shutdown()
    serve = serve_load.start(data_dir.root)
    try:
        serve_load.wait_first_pass(serve, timeout=60)  # the scheduler logs its first pass
        to_boundary = 60 - time.time() % 60
        seconds = to_boundary + (60 if to_boundary + 60 + 8 <= LONGEST_SOAK else 0) + 8
        result = serve_load.soak(serve, seconds, say=lambda _text: None)
    finally:
        serve.stop()
    assert serve.proc.returncode == 0
    assert result["expected"] >= JOBS // 100, result  # at least one boundary's every-minute slots
    assert result["missed"] == 0 and result["ran"] == result["expected"], result
