"""A command-line call pays only for what it uses (issue 10): a read with no instance running
imports neither Qt nor the process machinery, yet answers as before, and an instance holding the
data directory (or a lock left by a crash) is still asked or cleaned up first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.model import CronSpec, JobSpec
from jobs.service import JobService

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}

# The command line in a fresh process, as main.py runs it, then which heavy modules it loaded.
PROBE = """
import json, sys
sys.path.insert(0, {root!r})
import main
code = main.main(sys.argv[1:])
sys.stdout.flush()
heavy = ["PySide6.QtCore", "psutil", "jobs.dispatcher", "jobs.process", "jobs.events", "apscheduler.schedulers", "tomli_w"]
print(json.dumps({{"code": code, "loaded": [name for name in heavy if name in sys.modules]}}), file=sys.stderr)
"""


def probe(data_dir, *args: str) -> tuple[str, dict]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(root=str(ROOT)), "--data-dir", str(data_dir.root), *args],
                          capture_output=True, text=True, timeout=60, env=ENV)  # fmt: skip
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return done.stdout, report


@pytest.fixture
def two_jobs(data_dir):
    service = JobService(data_dir)
    try:
        saved = service.import_jobs([JobSpec(name="Sales", command=("true",), trigger=CronSpec("30 7 * * 1-5", "UTC")),
                                     JobSpec(name="Sync", command=("true",), trigger=CronSpec("*/15 * * * *", "UTC"))])  # fmt: skip
    finally:
        service.shutdown()
    return saved


@pytest.mark.parametrize("args", [["list"], ["list", "--json"], ["show", "Sales"], ["history", "--status", "failed"]])
def test_a_read_with_no_instance_loads_no_qt_and_no_runner(data_dir, two_jobs, args):
    out, report = probe(data_dir, *args)
    assert report == {"code": 0, "loaded": []}, report
    assert not data_dir.lock_file.exists()
    if args == ["list", "--json"]:
        assert [job["name"] for job in json.loads(out)] == ["Sales", "Sync"]
    if args[0] == "show":
        assert "At 07:30, Monday through Friday (UTC)" in out


def test_a_stale_lock_file_is_still_cleaned_up_by_a_read(data_dir, two_jobs):
    """A lock file left by a holder killed with SIGKILL: the read takes (and so clears) it."""
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from jobs.instance import InstanceLock
from jobs.paths import DataDir
from pathlib import Path
lock = InstanceLock(DataDir(Path({str(data_dir.root)!r})))
assert lock.try_acquire()
print("held", flush=True)
time.sleep(60)
"""], stdout=subprocess.PIPE, text=True, env=ENV)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    finally:
        holder.kill()  # SIGKILL: its lock file stays behind
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert data_dir.lock_file.exists()
    out, report = probe(data_dir, "list")
    assert report["code"] == 0 and "Sales" in out and "PySide6.QtCore" in report["loaded"]
    assert not data_dir.lock_file.exists()  # taken over and released, as before
