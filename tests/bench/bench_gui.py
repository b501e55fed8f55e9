"""The window with a big data dir: cold start, idle CPU and peak memory, against a bare window.

    python -m tests.bench.bench_gui [--runs 5] [--idle 10] [--jobs 1000] [--history 1000000]

A data directory with `--jobs` jobs (imported through `JobService.import_jobs`) and `--history`
runs (bulk-inserted with SQLAlchemy executemany, 1,000 per job, all within the retention
period so nothing is pruned) is prepared once and kept in the temp folder.

- Cold start: whole processes, timed from just before the process is created to the window's
  first paint (and to the jobs shown in the table), as printed by the app itself when
  JOBDESK_BENCH_EXIT_AFTER_SHOW=1 is set. The baseline is a bare PySide6 script (QMainWindow
  with an empty QTableView, same interpreter, same platform plugin) started the same way;
  A/B alternating, `--runs` each; median and ratio.
- Idle CPU: the running window with that data, `--idle` seconds of psutil cpu_percent after a
  settle period (target <= 1 % of a core), and the bare window's for comparison.
- Peak RSS: VmHWM of the window process (target <= 150 MiB).
Prints a table and writes tests/bench/results/gui.json. Runs offscreen unless QT_QPA_PLATFORM
says otherwise; settings go to a temp XDG_CONFIG_HOME.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).parent / "results"
PREPARED_MARK = "prepared.json"
SETTLE_S = 5.0
CHUNK = 50_000

BARE_WINDOW = r"""
import sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QTableView
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setCentralWidget(QTableView())
window.resize(1180, 760)
exit_after = len(sys.argv) > 1 and sys.argv[1] == "exit"
class Probe(QObject):
    done = False
    def eventFilter(self, watched, event):
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            print(f"JOBDESK_FIRST_PAINT {time.time():.6f}", flush=True)
            print(f"JOBDESK_JOBS_SHOWN {time.time():.6f} 0", flush=True)
            if exit_after:
                QTimer.singleShot(0, app.quit)
        return False
probe = Probe()
window.installEventFilter(probe)
window.show()
app.exec()
import os; os._exit(0)
"""


# --- the data directory -----------------------------------------------------------------------


def prepare(folder: Path, jobs: int, history: int) -> Path:
    """Make (once) a data dir with `jobs` jobs and `history` runs; returns its root."""
    root = folder / f"data-v2-{jobs}-{history}"
    mark = root / PREPARED_MARK
    if mark.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import insert

    from jobs import triggers
    from jobs.db import run_table
    from jobs.model import CronSpec, IntervalSpec, JobSpec
    from jobs.paths import resolve_data_dir
    from jobs.service import JobService

    started = time.perf_counter()
    zone = triggers.local_timezone_name()
    rng = random.Random(7)
    specs = []
    # Schedules that rarely fire during a measurement (monthly crons, intervals of days): "idle"
    # must mean idle, not 1,000 jobs firing every few minutes. The upcoming list is still full.
    for n in range(jobs):
        if n % 3 == 0:
            trigger = IntervalSpec(rng.randrange(2, 31), "days", zone)
        else:
            trigger = CronSpec(f"{rng.randrange(60)} {rng.randrange(24)} {rng.randrange(1, 29)} * *", zone)
        specs.append(JobSpec(name=f"Report {n:04d} for region {rng.choice(['EMEA', 'APAC', 'AMER'])}",
                             command=("/usr/bin/python3", f"reports/report_{n}.py"), trigger=trigger,
                             tags=(rng.choice(["finance", "ops", "etl", "bi"]),), paused=n % 50 == 0))  # fmt: skip
    service = JobService(resolve_data_dir(root))
    try:
        saved = service.import_jobs(specs)
        per_job = max(1, history // max(1, len(saved)))
        now = time.time()
        span = 80 * 86400  # inside the default 90-day retention: nothing gets pruned
        rows: list[dict] = []
        written = 0

        def flush() -> None:
            nonlocal rows, written
            with service.engine.begin() as conn:
                conn.execute(insert(run_table), rows)
            written += len(rows)
            rows = []

        for spec in saved:
            command = json.dumps(list(spec.command))
            for i in range(per_job):
                queued = now - span + i * (span / per_job) + rng.random() * 60
                failed = rng.random() < 0.05
                rows.append(dict(job_id=spec.id, job_name=spec.name, cause="scheduled",
                                 status="failed" if failed else "succeeded", scheduled_at=queued, queued_at=queued,
                                 started_at=queued + 0.01, ended_at=queued + 2 + rng.random() * 30,
                                 exit_code=1 if failed else 0, log_path=None, output_bytes=0, truncated=False,
                                 error=None, command=command, shell=False, cwd=None, env="{}"))  # fmt: skip
                if len(rows) >= CHUNK:
                    flush()
        if rows:
            flush()
    finally:
        service.shutdown()
    mark.write_text(json.dumps({"jobs": jobs, "runs": written, "seconds": round(time.perf_counter() - started, 1)}))
    return root


# --- processes --------------------------------------------------------------------------------


def environment(config_home: Path) -> dict[str, str]:
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home), "PYTHONPATH": str(ROOT)}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    # An installed app starts from cached bytecode; without it every start compiles ~60 modules.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop(ENV_EXIT, None)
    env.pop(ENV_MARKS, None)
    return env


ENV_EXIT = "JOBDESK_BENCH_EXIT_AFTER_SHOW"
ENV_MARKS = "JOBDESK_BENCH_MARKS"


def command(kind: str, data_root: Path, exit_after: bool) -> list[str]:
    if kind == "bare":
        return [sys.executable, "-c", BARE_WINDOW, *(["exit"] if exit_after else [])]
    return [sys.executable, str(ROOT / "main.py"), "--data-dir", str(data_root)]


def read_marks(proc: subprocess.Popen, timeout: float, until: str = "JOBDESK_JOBS_SHOWN") -> dict[str, float]:
    """The app's `JOBDESK_<NAME> <time> [value]` lines (desktop/bench_probe.py) up to `until`:
    name -> time, and name + "#" -> value (the rows of JOBDESK_JOBS_SHOWN also as "rows")."""
    marks: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline and until not in marks:
        line = proc.stdout.readline()
        if not line:
            break
        parts = line.split()
        if parts and parts[0].startswith("JOBDESK_"):
            marks[parts[0]] = float(parts[1])
            if len(parts) > 2:
                marks[parts[0] + "#"] = float(parts[2])
                if parts[0] == "JOBDESK_JOBS_SHOWN":
                    marks["rows"] = float(parts[2])
    return marks


def start_marks(kind: str, data_root: Path, env: dict[str, str], until: str = "JOBDESK_JOBS_SHOWN") -> dict[str, float]:
    """One cold start (whole process, quits itself): its marks, times made relative to just
    before the process was created (in seconds), and its exit."""
    env = {**env, ENV_EXIT: "1"}
    t0 = time.time()
    # stderr dropped: at 10,000 jobs the app logs every missed run (its log file keeps them)
    proc = subprocess.Popen(command(kind, data_root, True), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, cwd=ROOT)  # fmt: skip
    try:
        marks = read_marks(proc, 300, until)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if "JOBDESK_FIRST_PAINT" not in marks:
        raise RuntimeError(f"{kind}: no first-paint mark (exit code {proc.returncode})")
    return {name: (value - t0 if not name.endswith("#") and name != "rows" else value) for name, value in marks.items()}


def cold_start(kind: str, data_root: Path, env: dict[str, str]) -> dict[str, float]:
    marks = start_marks(kind, data_root, env)
    return {"paint_ms": marks["JOBDESK_FIRST_PAINT"] * 1000,
            "shown_ms": marks.get("JOBDESK_JOBS_SHOWN", marks["JOBDESK_FIRST_PAINT"]) * 1000,
            "rows": marks.get("rows", 0)}  # fmt: skip


def idle(kind: str, data_root: Path, env: dict[str, str], seconds: float) -> dict[str, float]:
    env = {**env, ENV_MARKS: "1"}
    proc = subprocess.Popen(command(kind, data_root, False), env=env, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        marks = read_marks(proc, 120)
        if "JOBDESK_JOBS_SHOWN" not in marks:
            raise RuntimeError(f"{kind}: the window did not come up")
        process = psutil.Process(proc.pid)
        time.sleep(SETTLE_S)
        process.cpu_percent(None)
        time.sleep(seconds)
        cpu = process.cpu_percent(None)
        threads = process.num_threads()
        rss = process.memory_info().rss
        peak = _vm_hwm(proc.pid) or rss
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {"cpu_percent": cpu, "rss_mib": rss / 2**20, "peak_rss_mib": peak / 2**20, "threads": threads}


def _vm_hwm(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# --- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--idle", type=float, default=10.0)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--history", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "jobdesk-bench-gui")
    args = parser.parse_args(argv)

    args.data.mkdir(parents=True, exist_ok=True)
    print(f"preparing {args.jobs} jobs and {args.history:,} runs in {args.data} (once)...", flush=True)
    data_root = prepare(args.data, args.jobs, args.history)
    prepared = json.loads((data_root / PREPARED_MARK).read_text())
    with tempfile.TemporaryDirectory() as config_home:
        env = environment(Path(config_home))
        cold: dict[str, list[dict[str, float]]] = {"bare": [], "jobdesk": []}
        for i in range(args.runs):
            for kind in ("bare", "jobdesk"):  # A/B alternating
                result = cold_start(kind, data_root, env)
                cold[kind].append(result)
                print(f"  run {i + 1} {kind:8s} paint {result['paint_ms']:7.0f} ms   jobs shown {result['shown_ms']:7.0f} ms",
                      flush=True)  # fmt: skip
        idle_results = {kind: idle(kind, data_root, env, args.idle) for kind in ("bare", "jobdesk")}

    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in cold[kind])

    paint = {kind: median(kind, "paint_ms") for kind in cold}
    shown = {kind: median(kind, "shown_ms") for kind in cold}
    app_idle, bare_idle = idle_results["jobdesk"], idle_results["bare"]
    rows = [
        ("cold start to first paint (median)", f"{paint['bare']:.0f} ms", f"{paint['jobdesk']:.0f} ms",
         f"x{paint['jobdesk'] / paint['bare']:.2f}", "-"),
        ("cold start to jobs shown (median)", f"{shown['bare']:.0f} ms", f"{shown['jobdesk']:.0f} ms",
         f"x{shown['jobdesk'] / shown['bare']:.2f}", "-"),
        (f"idle CPU over {args.idle:g} s", f"{bare_idle['cpu_percent']:.2f} %", f"{app_idle['cpu_percent']:.2f} %", "-",
         "<= 1 %"),
        ("peak RSS", f"{bare_idle['peak_rss_mib']:.0f} MiB", f"{app_idle['peak_rss_mib']:.0f} MiB", "-", "<= 150 MiB"),
        ("threads (idle)", f"{bare_idle['threads']}", f"{app_idle['threads']}", "-", "-"),
    ]  # fmt: skip
    print()
    print(f"{'measure':38s} {'bare window':>12s} {'Jobdesk':>12s} {'ratio':>7s} {'target':>11s}")
    for name, bare, app, ratio, target in rows:
        print(f"{name:38s} {bare:>12s} {app:>12s} {ratio:>7s} {target:>11s}")
    print(f"(data: {prepared['jobs']} jobs, {prepared['runs']:,} runs; {args.runs} A/B cold starts; "
          f"platform {os.environ.get('QT_QPA_PLATFORM', 'offscreen')})")  # fmt: skip

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "data": prepared,
        "cold_start": {kind: {"paint_ms": [round(r["paint_ms"], 1) for r in cold[kind]],
                              "shown_ms": [round(r["shown_ms"], 1) for r in cold[kind]],
                              "median_paint_ms": round(paint[kind], 1), "median_shown_ms": round(shown[kind], 1)}
                       for kind in cold},  # fmt: skip
        "paint_ratio": round(paint["jobdesk"] / paint["bare"], 2),
        "shown_ratio": round(shown["jobdesk"] / shown["bare"], 2),
        "idle": {kind: {k: round(v, 2) for k, v in r.items()} for kind, r in idle_results.items()},
        "targets": {"idle_cpu_percent": 1.0, "peak_rss_mib": 150},
        "met": {"idle_cpu": app_idle["cpu_percent"] <= 1.0, "peak_rss": app_idle["peak_rss_mib"] <= 150},
    }
    (RESULTS / "gui.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'gui.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
