"""The child subreaper with real double-forking processes (Linux only: prctl)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from jobs import subreaper
from jobs.history import HistoryQuery
from jobs.model import CronSpec, JobSpec, RunStatus
from jobs.service import JobService

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_CHILD_SUBREAPER is Linux's")

# Starts a grandchild in its own session (its pid to argv[1]) and exits: the grandchild is orphaned.
ORPHANING = textwrap.dedent("""
    import os, subprocess, sys
    code = "import time; time.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    with open(sys.argv[1], "w") as f:
        f.write(str(child.pid))
""")


def wait_until(condition, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.02)
    return True


def test_orphans_of_our_children_become_our_children_and_are_reaped(tmp_path: Path) -> None:
    assert subreaper.enable()
    pid_file = tmp_path / "orphan.pid"
    subprocess.run([sys.executable, "-c", ORPHANING, str(pid_file)], check=True, start_new_session=True)
    orphan = psutil.Process(int(pid_file.read_text()))
    try:
        assert orphan.ppid() == os.getpid()  # not PID 1
        assert orphan.pid in [p.pid for p in subreaper.adopted()]
        orphan.kill()
        assert wait_until(lambda: orphan.status() == psutil.STATUS_ZOMBIE)
        subreaper.reap()
        assert not psutil.pid_exists(orphan.pid) or orphan.status() != psutil.STATUS_ZOMBIE
        assert orphan.pid not in [p.pid for p in psutil.Process().children()]
    finally:
        if orphan.is_running():
            orphan.kill()


def test_reaping_never_takes_the_exit_status_of_a_process_someone_waits_for(tmp_path: Path) -> None:
    """subprocess.run in Jobdesk's own session keeps its exit codes while the reaper sweeps."""
    assert subreaper.enable()
    stop = threading.Event()

    def sweep() -> None:
        while not stop.is_set():
            subreaper.reap()

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        codes = [subprocess.run([sys.executable, "-c", f"import sys; sys.exit({n})"]).returncode for n in range(3, 13)]
    finally:
        stop.set()
        sweeper.join()
    assert codes == list(range(3, 13))


def test_history_says_how_many_processes_a_run_left_behind(data_dir, qapp, tmp_path: Path) -> None:
    pid_file = tmp_path / "orphan.pid"
    service = JobService(data_dir)
    try:
        saved = service.add_job(JobSpec(name="daemonizes", command=(sys.executable, "-c", ORPHANING, str(pid_file)),
                                        trigger=CronSpec("0 0 1 1 *", "UTC")))
        record = service.wait_for_run(service.run_now(saved.id), timeout=20)
        orphan = int(pid_file.read_text())
        assert (record.status, record.left_processes) == (RunStatus.SUCCEEDED, 1)
        assert service.query_history(HistoryQuery(job_id=saved.id))[0].left_processes == 1
        assert wait_until(lambda: not psutil.pid_exists(orphan) or psutil.Process(orphan).status() == psutil.STATUS_ZOMBIE)
    finally:
        service.shutdown()


def test_what_qprocess_start_detached_leaves_is_reaped_not_left_a_zombie(qapp) -> None:
    """A process started detached (QProcess.startDetached) is inherited by us as subreaper."""
    from PySide6.QtCore import QProcess

    assert subreaper.enable()
    started, pid = QProcess.startDetached(sys.executable, ["-c", "pass"])
    assert started
    zombie = psutil.Process(pid)
    assert wait_until(lambda: zombie.status() == psutil.STATUS_ZOMBIE)  # exited ...
    assert zombie.ppid() == os.getpid()  # ... as our child, so ours to wait for
    subreaper.reap()
    assert not psutil.pid_exists(pid)
