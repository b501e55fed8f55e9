"""`jobdesk serve` under the issue-10 load, measured from outside: for bench_scale and a slow test.

The load: N cron jobs, 1 % every minute and the rest daily at spread-out times (at 10,000 jobs
that is 144,000 + 9,900 runs a day). Each runs `true`, so what is measured is Jobdesk, not the
jobs. A `serve` process is started on the data directory and watched only through what a user
has: its pid (CPU time from /proc), its log file (the first scheduler pass is logged there) and
the history rows it writes (every slot of the soak window must have a run that started; fire
latency is the row's started_at minus its scheduled_at).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "main.py")
MARK = "prepared.json"
VERSION = 1
FIRST_PASS_LINE = "first scheduler pass done"  # logged by jobs.scheduler
COMMAND = (shutil.which("true") or "/bin/true",)
FINAL_OK = ("succeeded", "failed", "timed out", "killed")  # it ran (`true` succeeds)


def load_specs(jobs: int, zone: str, *, seed: int = 7, soon: datetime | None = None, soon_count: int = 0) -> list[Any]:
    """`jobs` cron specs: every 100th every minute, the others daily at a random minute of the
    day; the first `soon_count` daily ones in the minutes right after `soon` (short soaks)."""
    from jobs.model import CronSpec, JobSpec

    rng = random.Random(seed)
    specs = []
    daily = 0
    local = soon.astimezone(ZoneInfo(zone)) if soon is not None else None
    for n in range(jobs):
        if n % 100 == 0:
            cron = "* * * * *"
        else:
            if local is not None and daily < soon_count:
                at = local + timedelta(minutes=1 + daily % 2)
                cron = f"{at.minute} {at.hour} * * *"
            else:
                cron = f"{rng.randrange(60)} {rng.randrange(24)} * * *"
            daily += 1
        specs.append(JobSpec(name=f"Load {n:05d}", command=COMMAND, trigger=CronSpec(cron, zone)))
    return specs


def prepare(folder: Path, jobs: int, *, say: Callable[[str], Any] = print) -> Path:
    """A data directory with the load's jobs, scheduled once (APScheduler's store filled, as on
    any machine where Jobdesk has run); made once and kept while its marker matches."""
    root = folder / f"serve-v{VERSION}-{jobs}"
    if (root / MARK).exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    sys.path.insert(0, str(ROOT))
    from jobs.paths import resolve_data_dir
    from jobs.service import JobService
    from jobs.wall_time import local_timezone_name

    started = time.perf_counter()
    data_dir = resolve_data_dir(root)
    service = JobService(data_dir)
    try:
        service.import_jobs(load_specs(jobs, local_timezone_name()))
    finally:
        service.shutdown()
    _schedule_once(data_dir)
    say(f"  serve data: {jobs:,} jobs made in {time.perf_counter() - started:.1f} s")
    (root / MARK).write_text(json.dumps({"jobs": jobs}))
    return root


def _schedule_once(data_dir: Any) -> None:
    from PySide6.QtCore import QCoreApplication

    from jobs.service import JobService

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    service = JobService(data_dir)
    try:
        service.start()
        app.processEvents()
    finally:
        service.shutdown()


# --- one serve process -------------------------------------------------------------------------


@dataclass
class Serve:
    proc: subprocess.Popen[bytes]
    root: Path
    launched: float  # time.monotonic() just before the process was created
    launched_wall: float

    @property
    def log(self) -> Path:
        return self.root / "jobdesk.log"

    def cpu_seconds(self) -> float:
        """User + system CPU time of the serve process itself (its children not included)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start(root: Path, main: str = MAIN) -> Serve:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    log = root / "jobdesk.log"
    if log.exists():
        log.unlink()  # only this run's lines
    launched, wall = time.monotonic(), time.time()
    proc = subprocess.Popen([sys.executable, main, "--data-dir", str(root), "serve"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    return Serve(proc, root, launched, wall)


def wait_first_pass(serve: Serve, timeout: float = 60.0) -> float:
    """Seconds from launch to the first scheduler pass, as the log file says (polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if serve.proc.poll() is not None:
            raise RuntimeError(f"serve exited with {serve.proc.returncode} before its first pass")
        if serve.log.exists() and FIRST_PASS_LINE in serve.log.read_text(errors="replace"):
            seen = time.monotonic() - serve.launched
            return _logged_seconds(serve) or seen
        time.sleep(0.01)
    raise RuntimeError(f"no first scheduler pass within {timeout} s")


def _logged_seconds(serve: Serve) -> float | None:
    """When the log line says the first pass ended (its local time stamp), less the launch."""
    for line in serve.log.read_text(errors="replace").splitlines():
        if FIRST_PASS_LINE in line:
            try:
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            except ValueError:
                return None
            return stamp - serve.launched_wall
    return None


def idle_cpu(serve: Serve, seconds: float) -> float:
    """Share of one core the serve process used over `seconds` between two minute boundaries
    (every cron slot is at second 0, so from :05 on nothing is due until the next minute)."""
    now = time.time()
    second = now % 60
    if second < 5 or second + seconds > 57:
        time.sleep((65 - second) % 60)  # to :05 of the next minute
    before, t0 = serve.cpu_seconds(), time.monotonic()
    time.sleep(seconds)
    return (serve.cpu_seconds() - before) / (time.monotonic() - t0)


# --- what happened ---------------------------------------------------------------------------


def expected_slots(specs: list[tuple[str, str, str]], start: float, end: float) -> set[tuple[str, float]]:
    """(job id, epoch) of every slot in [start, end) of the load's two kinds of cron, computed
    with plain calendar arithmetic (not Jobdesk's triggers)."""
    slots = set()
    for job_id, expression, zone in specs:
        minute, hour = expression.split()[:2]
        tz = ZoneInfo(zone)
        first = datetime.fromtimestamp(start, tz).replace(second=0, microsecond=0)
        moment = first
        while moment.timestamp() < end:
            matches = minute == "*" or (moment.minute == int(minute) and moment.hour == int(hour))
            if matches and moment.timestamp() >= start:
                slots.add((job_id, moment.timestamp()))
            moment += timedelta(minutes=1)
    return slots


def analyse(root: Path, start: float, end: float) -> dict[str, Any]:
    """Runs due in [start, end): how many were expected, ran, were missed; fire latency."""
    conn = sqlite3.connect(f"{(root / 'jobdesk.sqlite3').as_uri()}?mode=ro", uri=True)
    try:
        specs = []
        for job_id, text in conn.execute("SELECT id, spec FROM job_definitions WHERE paused = 0"):
            trigger = json.loads(text)["trigger"]
            specs.append((job_id, trigger["expression"], trigger["timezone"]))
        rows = conn.execute(
            "SELECT job_id, scheduled_at, status, started_at FROM runs WHERE scheduled_at >= ? AND scheduled_at < ?",
            (start - 1, end + 1),
        ).fetchall()
    finally:
        conn.close()
    expected = expected_slots(specs, start, end)
    ran: dict[tuple[str, float], float] = {}
    other: dict[str, int] = {}
    for job_id, scheduled, status, started in rows:
        slot = (job_id, float(round(scheduled)))
        if status in FINAL_OK and started is not None and slot in expected:
            ran[slot] = started - scheduled
        elif slot in expected:
            other[status] = other.get(status, 0) + 1
    latencies = sorted(ran.values())
    return {
        "expected": len(expected),
        "ran": len(ran),
        "missed": len(expected) - len(ran),
        "not_run_by_status": other,
        "latency_p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "latency_p99_ms": 1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else None,
        "latency_max_ms": 1000 * latencies[-1] if latencies else None,
    }


def soak(serve: Serve, seconds: float, *, say: Callable[[str], Any] = print) -> dict[str, Any]:
    """Let `serve` run `seconds` from now, stop it, and analyse the slots due in between (up to
    a few seconds before the stop, so a run due at the very end had time to start)."""
    start = time.time()
    cpu_before = serve.cpu_seconds()
    end_at = time.monotonic() + seconds
    while time.monotonic() < end_at:
        if serve.proc.poll() is not None:
            raise RuntimeError(f"serve exited with {serve.proc.returncode} during the soak")
        time.sleep(min(5.0, max(0.0, end_at - time.monotonic())))
    end = time.time() - 5
    cpu = serve.cpu_seconds() - cpu_before
    serve.stop()
    result = analyse(serve.root, start, end)
    result.update(seconds=seconds, cpu_share=cpu / seconds)
    say(f"  soak {seconds:.0f} s: {result['ran']:,}/{result['expected']:,} slots ran, {result['missed']} missed")
    return result
