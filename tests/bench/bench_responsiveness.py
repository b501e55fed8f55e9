"""GUI stalls during a burst of runs: Jobdesk's window against a bare window under the same load.

    python -m tests.bench.bench_responsiveness [--runs 3] [--idle 10] [--jobs 10000 [--history 1000000]
                                               [--folder /tmp/burst-bench]] [--profile]

Each scenario runs in a fresh process, offscreen, alternating, `--runs` times:
- jobdesk: the real window over a real service (temp data dir) driving `burst_load.run_burst`:
  100 short runs started one per event-loop turn while one run prints 50 MiB, the History tab
  showing the big run's live output;
- bare+load: a bare PySide6 window (QMainWindow + QTableView) while the same 101 child
  processes run with the same concurrency limit, started one per event-loop turn by plain
  threads that drain their output to files: what the machine does to any GUI process under
  that load;
- bare idle: the bare window alone for `--idle` seconds: the machine's own noise (other work on
  it shows up here).
Every scenario has the same 10 ms heartbeat on its GUI thread; a gap between beats is a stall.
`--jobs N`: the Jobdesk scenario opens a copy of a data dir with N jobs and `--history` runs
(tests/bench/scale_data.py, made once in `--folder`); its 100 short runs are of 100 of those jobs
(their commands do not exist: 100 failed runs, each notified), and the window's load (first
paint, snapshots, the start's missed-run catch-up and digest card) is measured too, on its own
heartbeat from show until loaded + `LOAD_SETTLE_S`. `--profile`: a sampler thread
(tests/bench/stall_sampler.py) says which of Jobdesk's functions the GUI thread was in during
the gaps over 40 ms and which events took over 20 ms (it perturbs the numbers a little: compare
profiled runs with profiled runs). `BENCH_CPROFILE=FILE` (environment): a cProfile of the GUI
thread's CPU time (time.thread_time) during the burst, written to FILE; the Jobdesk result also
has `gui_cpu_s`, the GUI thread's CPU seconds, steadier than stalls on a loaded machine.
Prints worst, p99, p95 and median stall (medians over the runs) and Jobdesk's ratio to bare+load;
writes tests/bench/results/responsiveness.json (responsiveness-N.json with `--jobs N`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from tests.bench.stall_sampler import print_attribution

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).parent / "results"
SCENARIOS = ("jobdesk", "bare+load", "bare idle")
TARGET_WORST_MS = 100.0
LOAD_SETTLE_S = 3.0  # after the full snapshot: the catch-up's runs and the digest card's rows
_KEEP: list[object] = []


def _app() -> object:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from jobs.pyside_refcount import pin_singletons

    pin_singletons()
    app = QApplication.instance() or QApplication([])
    _KEEP.append(app)  # PySide deletes an application nobody references
    return app


def _wait_until(condition: Callable[[], bool], timeout_ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout_ms / 1000
    loop = QEventLoop()
    poll = QTimer(interval=5)
    poll.timeout.connect(lambda: (condition() or time.monotonic() > deadline) and loop.quit())
    poll.start()
    if not condition():
        loop.exec()
    poll.stop()
    if not condition():
        raise TimeoutError("the scenario did not finish in time")


def _bare_window() -> object:
    from PySide6.QtWidgets import QMainWindow, QTableView

    window = QMainWindow()
    window.setCentralWidget(QTableView())
    window.resize(1280, 800)
    window.show()
    return window


def scenario_jobdesk(data: Path | None = None, profile: bool = False) -> dict:
    """The burst on a fresh data dir, or on a copy of `data` (N jobs and their history)."""
    import gc
    import shutil

    app = _app()
    from PySide6.QtCore import QSettings

    from desktop.app import create_window, freeze_alive
    from jobs.paths import resolve_data_dir
    from tests.bench.burst_load import Heartbeat, Stalls, run_burst
    from tests.bench.stall_sampler import EventTimeline, StallSampler, attribute

    sampler = StallSampler() if profile else None
    timeline = EventTimeline(app) if profile else None
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(tmp) / "settings"))
        if data is not None:
            shutil.copytree(data, Path(tmp) / "data")
        if sampler is not None:
            sampler.start()
        window = create_window(resolve_data_dir(Path(tmp) / "data"))
        window.resize(1280, 800)
        window.show()
        load = Heartbeat()
        load.start()
        app.processEvents()
        freeze_alive()  # as run_window does once the window is up
        loaded: dict | None = None
        try:
            short_ids = None
            if data is not None:
                _wait_until(lambda: window.complete_loaded, 120_000)
                end = time.perf_counter() + LOAD_SETTLE_S
                _wait_until(lambda: time.perf_counter() >= end, int(LOAD_SETTLE_S * 1000) + 1000)
                load.stop()
                loaded = asdict(Stalls.of(load.gaps_ms()))
                model = window.jobs_model
                ids = [model.job_id_at(row) for row in range(model.rowCount())]
                short_ids = [job_id for job_id in ids[:: max(1, len(ids) // 100)] if job_id][:100]
            cpu_profile = None
            if os.environ.get("BENCH_CPROFILE"):  # the GUI thread's CPU time per function, to that file
                import cProfile

                cpu_profile = cProfile.Profile(time.thread_time)
                cpu_profile.enable()
            result = run_burst(window, _wait_until, short_ids=short_ids)
            if cpu_profile is not None:
                cpu_profile.disable()
                cpu_profile.dump_stats(os.environ["BENCH_CPROFILE"])
        finally:
            window.shutdown()
            if sampler is not None:
                sampler.stop()
        gc.unfreeze()
    out = asdict(result.stalls)
    out["gui_cpu_s"] = round(result.gui_cpu_s, 3)
    if loaded is not None:
        out["load"] = loaded
        out["load"]["gui_cpu_s"] = round(load.cpu_s, 3)
    if sampler is not None:
        out["profile"] = {"burst": attribute(result.beats, sampler.samples)}
        assert timeline is not None
        out["profile"]["burst"]["slow_events"] = timeline.longest(result.beats)
        if loaded is not None:
            out["profile"]["load"] = attribute(load.beats, sampler.samples)
    return out


def scenario_bare_load() -> dict:
    _app()
    from PySide6.QtCore import QTimer

    from jobs.settings import default_max_concurrent
    from tests.bench.burst_load import BIG_OUTPUT, BURST, SHORT, Heartbeat, Stalls

    window = _bare_window()
    slots = threading.Semaphore(default_max_concurrent())
    done: list[int] = []
    with tempfile.TemporaryDirectory() as tmp:

        def run(index: int, code: str) -> None:
            with slots, open(Path(tmp) / f"{index}.log", "wb") as log:
                proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)  # fmt: skip
                assert proc.stdout is not None
                while chunk := proc.stdout.read1(65536):  # type: ignore[attr-defined]
                    log.write(chunk)
                proc.wait()
            done.append(index)

        heartbeat = Heartbeat()
        heartbeat.start()
        pending = [(0, BIG_OUTPUT)] + [(n + 1, SHORT) for n in range(BURST)]

        def submit_next() -> None:
            if pending:
                threading.Thread(target=run, args=pending.pop(0), daemon=True).start()
                QTimer.singleShot(0, submit_next)

        QTimer.singleShot(0, submit_next)
        _wait_until(lambda: len(done) == BURST + 1, 120_000)
        end = time.perf_counter() + 0.3
        _wait_until(lambda: time.perf_counter() >= end, 1300)
        heartbeat.stop()
    window.close()
    return asdict(Stalls.of(heartbeat.gaps_ms()))


def scenario_bare_idle(seconds: float) -> dict:
    _app()
    from tests.bench.burst_load import Heartbeat, Stalls

    window = _bare_window()
    heartbeat = Heartbeat()
    heartbeat.start()
    end = time.perf_counter() + seconds
    _wait_until(lambda: time.perf_counter() >= end, int(seconds * 1000) + 1000)
    heartbeat.stop()
    window.close()
    return asdict(Stalls.of(heartbeat.gaps_ms()))


def run_scenario(name: str, idle_seconds: float, data: Path | None = None, profile: bool = False) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    extra = (["--data", str(data)] if data is not None and name == "jobdesk" else []) + (["--profile"] if profile else [])
    proc = subprocess.run([sys.executable, "-m", "tests.bench.bench_responsiveness", "--scenario", name,
                           "--idle", str(idle_seconds), *extra], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)  # fmt: skip
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"scenario {name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return dict(json.loads(lines[-1][len("RESULT "):]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of the bare idle scenario")
    parser.add_argument("--jobs", type=int, default=0, help="jobs in the Jobdesk scenario's data dir (0: a fresh one)")
    parser.add_argument("--history", type=int, default=1_000_000, help="runs in that data dir's history")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/burst-bench"), help="where that data dir is kept")
    parser.add_argument("--profile", action="store_true", help="say what the GUI thread did in the stalls")
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)  # one scenario, in this process
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)  # the prepared data dir, for that scenario
    args = parser.parse_args(argv)
    if args.scenario:
        sys.path.insert(0, str(ROOT))
        result = {"jobdesk": lambda: scenario_jobdesk(args.data, args.profile), "bare+load": scenario_bare_load,
                  "bare idle": lambda: scenario_bare_idle(args.idle)}[args.scenario]()  # fmt: skip
        print("RESULT " + json.dumps(result), flush=True)
        os._exit(0)  # PySide6 may abort in the interpreter's final collection (see main.exit_now)

    data = None
    if args.jobs:
        from tests.bench.scale_data import prepare

        data = prepare(args.folder, args.jobs, args.history)
        # One unmeasured start brings the kept store up to now, as bench_scale's starts do: else
        # each scenario's copy catches up whatever fell due since the data was last used (13 h:
        # ~5,000 missed slots, and the burst's wait for the live output timed out), a cost that
        # depends on when the data was used, not on the code.
        from tests.bench import bench_gui

        with tempfile.TemporaryDirectory() as config_home:
            bench_gui.start_marks("jobdesk", data, bench_gui.environment(Path(config_home)), until="JOBDESK_LOADED")
    results: dict[str, list[dict]] = {name: [] for name in SCENARIOS}
    for run in range(args.runs):
        for name in SCENARIOS:
            result = run_scenario(name, args.idle, data, args.profile)
            results[name].append(result)
            if "load" in result:
                load = result["load"]
                print(f"  run {run + 1} {'(load)':10s} worst {load['worst_ms']:6.0f} ms  p99 {load['p99_ms']:5.0f} ms  "
                      f"p95 {load['p95_ms']:5.0f} ms  median {load['median_ms']:5.1f} ms  {load['seconds']:5.1f} s")  # fmt: skip
            for phase, found in result.get("profile", {}).items():
                print(f"  run {run + 1} jobdesk {phase}: where the GUI thread was during stalls")
                print_attribution(found)
            print(f"  run {run + 1} {name:10s} worst {result['worst_ms']:6.0f} ms  p99 {result['p99_ms']:5.0f} ms  "
                  f"p95 {result['p95_ms']:5.0f} ms  median {result['median_ms']:5.1f} ms  "
                  f"{result['beats'] / result['seconds']:5.0f} beats/s", flush=True)  # fmt: skip

    def med(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    print()
    print(f"{'GUI stall (median of runs)':28s} {'bare idle':>10s} {'bare+load':>10s} {'Jobdesk':>10s} {'ratio':>7s} {'target':>9s}")
    for key, label in (("worst_ms", "worst"), ("p99_ms", "p99"), ("p95_ms", "p95"), ("median_ms", "median")):
        ratio = med("jobdesk", key) / max(0.1, med("bare+load", key))
        target = f"< {TARGET_WORST_MS:.0f} ms" if key == "worst_ms" else ""
        print(f"{label + ' (ms)':28s} {med('bare idle', key):>10.1f} {med('bare+load', key):>10.1f} "
              f"{med('jobdesk', key):>10.1f} {ratio:>6.2f}x {target:>9s}")  # fmt: skip
    loads = [r["load"] for r in results["jobdesk"] if "load" in r]
    if loads:
        print(f"{'Jobdesk load at ' + format(args.jobs, ',') + ' jobs':28s} worst {statistics.median(r['worst_ms'] for r in loads):.1f} ms, "
              f"p99 {statistics.median(r['p99_ms'] for r in loads):.1f} ms (median of runs; show until loaded + {LOAD_SETTLE_S:.0f} s)")  # fmt: skip
    print(f"({args.runs} runs of each, alternating; {os.cpu_count()} cores; 10 ms heartbeat; load average now "
          f"{os.getloadavg()[0]:.1f})")  # fmt: skip

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "args": {"runs": args.runs, "idle": args.idle, "jobs": args.jobs, "history": args.history if args.jobs else 0},
        "machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "runs": results,
        "median": {name: {key: round(med(name, key), 1) for key in ("worst_ms", "p99_ms", "p95_ms", "median_ms")}
                   for name in SCENARIOS},
        "ratio_to_bare_load": {key: round(med("jobdesk", key) / max(0.1, med("bare+load", key)), 2)
                               for key in ("worst_ms", "p99_ms")},
        "target": {"worst_ms": TARGET_WORST_MS}, "met": med("jobdesk", "worst_ms") < TARGET_WORST_MS,
    }  # fmt: skip
    name = f"responsiveness-{args.jobs}.json" if args.jobs else "responsiveness.json"
    (RESULTS / name).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
