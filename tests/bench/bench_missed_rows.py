"""Writing one job's missed slots: a transaction a row (before) against one per job (now).

    python -m tests.bench.bench_missed_rows [--jobs 100] [--runs 200000] [--slots 50] [--repeat 20]

A fresh data dir (tests/bench/scale_data.py: jobs imported for real, runs bulk-inserted) in a
temporary folder, never the kept 10k/10M one. Logging goes to jobdesk.log as in the app, and a
listener takes every `run_recorded` event, as the window does. Each repetition writes an every-minute
job's `--slots` missed rows (as `plan_due_runs` plans them: 49 slots and a summary row) both ways,
back to back, alternating which goes first. Prints a table (median and worst) and writes
tests/bench/results/missed_rows.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from tests.bench.scale_data import prepare

RESULTS = Path(__file__).parent / "results"
log = logging.getLogger("jobs.dispatcher")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--slots", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from PySide6.QtCore import QCoreApplication

    from jobs.misfire import plan_due_runs
    from jobs.model import RunCause, RunStatus
    from jobs.paths import resolve_data_dir
    from jobs.log_file import add_file_log
    from jobs.service import JobService

    app = QCoreApplication.instance() or QCoreApplication([])  # noqa: F841  (JobEvents are QObjects)
    with tempfile.TemporaryDirectory() as folder:
        began = time.perf_counter()
        data_dir = resolve_data_dir(prepare(Path(folder), args.jobs, args.runs, say=lambda *_: None))
        made = time.perf_counter() - began
        add_file_log(data_dir)
        service = JobService(data_dir)  # not scheduling: nothing but the writes measured touches the file
        announced = []
        service.events.run_recorded.connect(announced.append)  # the old way: a row at a time
        service.events.runs_recorded.connect(announced.extend)  # now: a job's rows at once
        dispatcher = service.dispatcher
        job = next(spec for spec in service.jobs.all() if spec.trigger.expression == "* * * * *")
        now = datetime.now(timezone.utc)
        times = [now - timedelta(minutes=m) for m in range(args.slots * 3, 0, -1)]
        missed = list(plan_due_runs(job, times, now + timedelta(minutes=5)).missed)[: args.slots]

        def per_row() -> None:  # record_missed as it was: a WARNING, a transaction and a read-back a slot
            for when, reason in missed:
                log.warning("job %s: run due %s %s", job.id, when.isoformat(), reason)
                dispatcher.record(job, RunCause.SCHEDULED, RunStatus.MISSED, when, reason)

        ways: dict[str, Callable[[], object]] = {"per row (before)": per_row,
                                                 "one transaction (now)": lambda: dispatcher.record_missed(job, missed)}
        times_s: dict[str, list[float]] = {name: [] for name in ways}
        for n in range(args.repeat):
            for name in list(ways)[:: 1 if n % 2 else -1]:
                start = time.perf_counter()
                ways[name]()
                times_s[name].append(time.perf_counter() - start)
        service.shutdown()
    assert len(announced) == 2 * args.repeat * len(missed)  # an event a row both ways
    load = os.getloadavg()[0]
    rows = {name: {"median_ms": round(1000 * statistics.median(t), 2), "worst_ms": round(1000 * max(t), 2)}
            for name, t in times_s.items()}  # fmt: skip
    print(f"\n{len(missed)} missed rows of one job, {args.runs:,} runs in history ({args.jobs} jobs, made in "
          f"{made:.0f} s), {args.repeat} repetitions each, load average {load:.2f}")
    print(f"{'way':<24} {'median ms':>10} {'worst ms':>10}")
    for name, row in rows.items():
        print(f"{name:<24} {row['median_ms']:>10.2f} {row['worst_ms']:>10.2f}")
    before, now_ = rows["per row (before)"], rows["one transaction (now)"]
    print(f"median x{before['median_ms'] / now_['median_ms']:.1f} faster, worst x{before['worst_ms'] / now_['worst_ms']:.1f}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "missed_rows.json"
    out.write_text(json.dumps({"args": vars(args), "machine": platform.platform(), "load": load, "rows": len(missed),
                               "results": rows}, indent=2))  # fmt: skip
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
