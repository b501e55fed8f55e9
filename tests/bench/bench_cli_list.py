"""`list --json` with many jobs: definitions decoded once, against the old path that decoded twice.

    python -m tests.bench.bench_cli_list [--jobs 10000] [--runs 5]

A store with `--jobs` cron jobs (no scheduler running, as the command line sees it when no
instance holds the data directory) answers the `list` request through `jobs.control.execute`,
timed in this process. The baseline, in the same run and on the same store, is what the handler
did before: read every definition, then let `next_run_times()` read (and decode) them all again.
Both produce the same answer (checked). Prints a table and writes tests/bench/results/cli_list.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication

from jobs.control import execute, job_json
from jobs.model import CronSpec, JobSpec
from jobs.paths import resolve_data_dir
from jobs.repository import JobRepository
from jobs.service import JobService

RESULTS = Path(__file__).parent / "results"


def old_list(service: JobService) -> dict[str, Any]:
    """The handler as it was: `next_run_times()` read every definition a second time."""
    specs = service.jobs.all()
    next_runs = service.next_run_times()
    last = service.history.last_runs(spec.id for spec in specs)
    return {"jobs": [job_json(spec, next_runs.get(spec.id), last.get(spec.id)) for spec in specs]}


def count_decodes(action: Any) -> int:
    calls = 0
    original = JobRepository._decode

    def counting(row: object, broken: Any = None) -> Any:
        nonlocal calls
        calls += 1
        return original(row, broken)

    JobRepository._decode = staticmethod(counting)  # type: ignore[method-assign]
    try:
        action()
    finally:
        JobRepository._decode = staticmethod(original)  # type: ignore[method-assign]
    return calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    _app = QCoreApplication.instance() or QCoreApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        service = JobService(resolve_data_dir(Path(tmp) / "data"))
        try:
            service.jobs.add_many(
                JobSpec(f"job {i:05d}", ("true",), CronSpec(f"{i % 60} {i % 24} * * *", "UTC"))
                for i in range(options.jobs)
            )
            new = lambda: execute(service, {"op": "list"})  # noqa: E731
            old = lambda: old_list(service)  # noqa: E731
            assert json.dumps(new(), sort_keys=True) == json.dumps(old(), sort_keys=True)
            timings: dict[str, list[float]] = {"old": [], "new": []}
            for _ in range(options.runs):  # alternating, so drift hits both alike
                for name, action in (("old", old), ("new", new)):
                    start = time.perf_counter()
                    action()
                    timings[name].append(time.perf_counter() - start)
            decodes = {"old": count_decodes(old), "new": count_decodes(new)}
        finally:
            service.shutdown()
    medians = {name: statistics.median(values) for name, values in timings.items()}
    print(f"list --json, {options.jobs:,} jobs, {options.runs} runs each, median")
    print(f"{'path':<28}{'seconds':>10}{'decodes':>10}")
    print(f"{'before (decoded twice)':<28}{medians['old']:>10.3f}{decodes['old']:>10,}")
    print(f"{'now (decoded once)':<28}{medians['new']:>10.3f}{decodes['new']:>10,}")
    print(f"ratio now/before: {medians['new'] / medians['old']:.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "cli_list.json").write_text(json.dumps(
        {"jobs": options.jobs, "runs": options.runs, "median_s": medians, "decodes": decodes,
         "ratio": medians["new"] / medians["old"]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
