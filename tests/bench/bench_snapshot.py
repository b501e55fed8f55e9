"""The window's jobs snapshot load at 1,000 and 10,000 jobs: what the loader's worker thread does
at every reload (definitions, next runs, Upcoming's rows, the Timeline's lanes, last runs,
schedule words), against the same load without any fire times, measured in the same run.

    python -m tests.bench.bench_snapshot [--jobs 1000 10000] [--runs 5]

The data directories come from `tests/bench/scale_data.py` (1 % of jobs every minute, the rest
daily; no runs; the scheduler's store holds every next run, as on any machine where
Jobdesk has run) and are kept in the temp folder. `SnapshotLoader._load()` is called on this
thread (in the window it runs on the loader's thread: the same Python work): cold is the first
load (empty caches), warm the median of `--runs` later ones. Prints a table and writes
tests/bench/results/snapshot.json. Runs against older trees too (no Timeline lanes then).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RESULTS = Path(__file__).parent / "results"


def timed(work: Callable[[], object]) -> float:
    began = time.perf_counter()
    work()
    return time.perf_counter() - began


def measure(root: Path, runs: int) -> dict[str, object]:
    from PySide6.QtCore import QCoreApplication

    from desktop.joblist.snapshot import SnapshotLoader, describe_schedule
    from jobs.paths import resolve_data_dir
    from jobs.service import JobService

    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    service = JobService(resolve_data_dir(root))  # not scheduling: reads the store as the window does
    try:
        loader = SnapshotLoader(service)
        words: dict[object, str] = {}

        def without_fire_times() -> None:
            specs, _ = service.read_jobs()
            service.next_run_times(specs)
            service.last_runs([spec.id for spec in specs])
            for spec in specs:
                describe_schedule(spec, words)

        cold = timed(lambda: loader._load())
        warm = statistics.median(timed(lambda: loader._load()) for _ in range(runs))
        baseline = statistics.median(timed(without_fire_times) for _ in range(runs))
        snapshot = loader._load()
        lanes = getattr(snapshot, "lanes", ())
        by_job = {spec.id: spec for _, spec in snapshot.upcoming}
        del app
        return {
            "jobs": len(snapshot.specs), "cold_s": round(cold, 3), "warm_s": round(warm, 3),
            "baseline_s": round(baseline, 3), "ratio": round(warm / baseline, 2) if baseline else None,
            "upcoming_rows": len(snapshot.upcoming), "upcoming_jobs": len(by_job),
            "lanes": len(lanes), "dense_lanes": sum(1 for lane in lanes if lane.dense is not None),
        }  # fmt: skip
    finally:
        service.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--label", default="", help="a name for this tree in the JSON (e.g. before)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path.cwd()))
    from tests.bench.scale_data import prepare

    folder = Path(tempfile.gettempdir()) / "jobdesk-bench-scale"
    rows = []
    for count in args.jobs:
        root = prepare(folder, count, 0)  # no runs: scale_data cannot insert runs into the current schema yet
        rows.append(measure(root, args.runs))
    print(f"{'jobs':>7} {'cold s':>8} {'warm s':>8} {'no fire times s':>16} {'ratio':>6} {'upcoming rows/jobs':>19} {'lanes (dense)':>14}")
    for row in rows:
        print(f"{row['jobs']:>7,} {row['cold_s']:>8.3f} {row['warm_s']:>8.3f} {row['baseline_s']:>16.3f} {row['ratio']:>6} "
              f"{row['upcoming_rows']:>10}/{row['upcoming_jobs']:<8} {row['lanes']:>7} ({row['dense_lanes']})")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    name = f"snapshot{'-' + args.label if args.label else ''}.json"
    (RESULTS / name).write_text(json.dumps({"machine": platform.platform(), "python": platform.python_version(),
                                            "rows": rows}, indent=2) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
