"""GUI stalls during a burst of runs: Jobdesk's window against a bare window under the same load.

    python -m tests.bench.bench_responsiveness [--runs 3] [--idle 10]

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
Prints worst, p99, p95 and median stall (medians over the runs) and Jobdesk's ratio to bare+load;
writes tests/bench/results/responsiveness.json.
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

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).parent / "results"
SCENARIOS = ("jobdesk", "bare+load", "bare idle")
TARGET_WORST_MS = 100.0
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


def scenario_jobdesk() -> dict:
    import gc

    app = _app()
    from PySide6.QtCore import QSettings

    from desktop.app import create_window, freeze_startup_objects
    from jobs.paths import resolve_data_dir
    from tests.bench.burst_load import run_burst

    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(tmp) / "settings"))
        window = create_window(resolve_data_dir(Path(tmp) / "data"))
        window.resize(1280, 800)
        window.show()
        app.processEvents()
        freeze_startup_objects()  # as run_window does once the window is up
        try:
            result = run_burst(window, _wait_until)
        finally:
            window.shutdown()
        gc.unfreeze()
    return asdict(result.stalls)


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


def run_scenario(name: str, idle_seconds: float) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    proc = subprocess.run([sys.executable, "-m", "tests.bench.bench_responsiveness", "--scenario", name,
                           "--idle", str(idle_seconds)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"scenario {name} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return dict(json.loads(lines[-1][len("RESULT "):]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=10.0, help="seconds of the bare idle scenario")
    parser.add_argument("--scenario", choices=SCENARIOS, help=argparse.SUPPRESS)  # one scenario, in this process
    args = parser.parse_args(argv)
    if args.scenario:
        sys.path.insert(0, str(ROOT))
        result = {"jobdesk": scenario_jobdesk, "bare+load": scenario_bare_load,
                  "bare idle": lambda: scenario_bare_idle(args.idle)}[args.scenario]()  # fmt: skip
        print("RESULT " + json.dumps(result), flush=True)
        os._exit(0)  # PySide6 may abort in the interpreter's final collection (see main.exit_now)

    results: dict[str, list[dict]] = {name: [] for name in SCENARIOS}
    for run in range(args.runs):
        for name in SCENARIOS:
            result = run_scenario(name, args.idle)
            results[name].append(result)
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
    print(f"({args.runs} runs of each, alternating; {os.cpu_count()} cores; 10 ms heartbeat; load average now "
          f"{os.getloadavg()[0]:.1f})")  # fmt: skip

    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {
        "args": {"runs": args.runs, "idle": args.idle},
        "machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "runs": results,
        "median": {name: {key: round(med(name, key), 1) for key in ("worst_ms", "p99_ms", "p95_ms", "median_ms")}
                   for name in SCENARIOS},
        "ratio_to_bare_load": {key: round(med("jobdesk", key) / max(0.1, med("bare+load", key)), 2)
                               for key in ("worst_ms", "p99_ms")},
        "target": {"worst_ms": TARGET_WORST_MS}, "met": med("jobdesk", "worst_ms") < TARGET_WORST_MS,
    }  # fmt: skip
    (RESULTS / "responsiveness.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'responsiveness.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
