"""The start-up marks the benchmarks read (desktop/bench_probe.py), from a real window process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jobs.model import CronSpec, JobSpec
from jobs.service import JobService

ROOT = Path(__file__).resolve().parents[2]


def test_the_window_prints_its_start_up_marks_in_order_and_quits(data_dir, tmp_path):
    service = JobService(data_dir)
    try:
        service.import_jobs([JobSpec(name="Nightly report", command=("/bin/true",), trigger=CronSpec("0 3 * * *", "UTC"))])
    finally:
        service.shutdown()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "JOBDESK_BENCH_EXIT_AFTER_SHOW": "1"}  # fmt: skip
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_dir.root)], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    marks = {}
    for line in done.stdout.splitlines():
        name, when, *value = line.split()
        marks[name] = (float(when), value)
    assert list(marks)[-1] == "JOBDESK_LOADED"
    assert marks["JOBDESK_JOBS_SHOWN"][1] == ["1"]
    assert marks["JOBDESK_HISTORY_SHOWN"][1] == ["0"]  # no runs yet: an empty first page
    assert marks["JOBDESK_FIRST_PAINT"][0] <= marks["JOBDESK_STALL_MAX"][0] <= marks["JOBDESK_LOADED"][0]
    assert marks["JOBDESK_JOBS_SHOWN"][0] <= marks["JOBDESK_LOADED"][0]
    stall, rss = float(marks["JOBDESK_STALL_MAX"][1][0]), float(marks["JOBDESK_PEAK_RSS"][1][0])
    assert 0 < stall < 60_000 and 20 < rss < 2000  # milliseconds, MiB
