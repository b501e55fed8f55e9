"""Does Jobdesk stay instant at 10,000 jobs and 10 million runs? Against 1 job, 0 runs, same run.

    python -m tests.bench.bench_scale [--jobs 10000] [--runs 10000000] [--repeat 5] [--folder DIR]
                                      [--soak 600] [--idle 30] [--only commands|window|serve]
                                      [--against DIR] [--closed MINUTES]

Both data directories are made once (tests/bench/scale_data.py; the big one takes minutes and
~2 GB) and kept in `--folder` (default: the temp folder). Each command is a whole process
(`main.py --data-dir D ...`, no instance running), timed `--repeat` times alternating small and
big; the table shows medians and the ratio big/small, with the issue's target. The import cost
of a command-line call is compared with `python -c "import sqlalchemy"` in the same run.

The window (this code only; `--against` does not apply): `--repeat` cold starts on each data dir,
alternating, through tests/bench/bench_gui.py's `start_marks` (the app prints its marks under
JOBDESK_BENCH_EXIT_AFTER_SHOW, desktop/bench_probe.py): first paint, jobs listed, jobs + first
history page listed (ratios of medians), the longest gap of a 10 ms GUI-thread heartbeat from the
first paint until everything loaded (<= 50 ms) and peak RSS (<= 200 MiB), both checked on the
worst big start. Each store is first brought up to now, so these are starts without a catch-up.
`--closed MINUTES` adds `--repeat` starts of each as if Jobdesk had been closed that long (every
job due meanwhile made due MINUTES ago in the store, as a real close leaves it): the morning start,
with its catch-up, wake-up digest and burst of runs; its stall, peak RSS and time to all loaded.

`serve` at `--jobs` jobs (tests/bench/serve_load.py: 1 % every minute, the rest daily, each
running `true`; its own data directory, also kept): launch to first scheduler pass (median of
`--repeat` starts, against a 1-job directory in the same run), idle CPU between two minute
boundaries (`--idle` seconds), then a `--soak`-second run: slots due against runs started,
fire latency (started_at - scheduled_at) p50/p99, and CPU.
`--against DIR`: another checkout of Jobdesk (e.g. `git worktree add /tmp/base main`), whose
main.py is timed the same way, interleaved with this one (same data, same Python and packages),
for a before/after table; its serve start is measured only if it logs its first pass.
Prints the tables and writes tests/bench/results/scale.json.
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
import time
from pathlib import Path

from tests.bench import bench_gui, serve_load
from tests.bench.scale_data import prepare

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "main.py")
RESULTS = Path(__file__).parent / "results"


def _time(argv: list[str]) -> float:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, timeout=600)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return took


def _first_job(root: Path) -> str:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, MAIN, "--data-dir", str(root), "list", "--json"], capture_output=True,
                         env=env, check=True, timeout=600).stdout  # fmt: skip
    return str(json.loads(out)[0]["id"])


def measure_commands(small: Path, big: Path, repeat: int, mains: dict[str, str]) -> list[dict]:
    """Each command, small and big data, with every main.py in `mains`, interleaved."""
    small_job, big_job = _first_job(small), _first_job(big)
    cases = [
        ("jobdesk list --json", ["list", "--json"], 1.3),
        ("jobdesk show ID", ["show", "{job}"], 1.3),
        ("history --limit 50", ["history", "--limit", "50"], 1.3),
        ("history --job ID --limit 50", ["history", "--job", "{job}", "--limit", "50"], 1.3),
        ("history --status failed --limit 50", ["history", "--status", "failed", "--limit", "50"], 1.3),
    ]
    rows = []
    for label, args, target in cases:
        timings: dict[tuple[str, str], list[float]] = {(who, which): [] for who in mains for which in ("small", "big")}
        for _ in range(repeat):
            for which, root, job in (("small", small, small_job), ("big", big, big_job)):
                for who, main in mains.items():
                    argv = [sys.executable, main, "--data-dir", str(root), *(a.format(job=job) for a in args)]
                    timings[(who, which)].append(_time(argv))
        for who in mains:
            small_s, big_s = statistics.median(timings[(who, "small")]), statistics.median(timings[(who, "big")])
            rows.append({"measure": label, "code": who, "small_s": small_s, "big_s": big_s, "ratio": big_s / small_s,
                         "target": target})  # fmt: skip
    return rows


def measure_imports(small: Path, repeat: int, mains: dict[str, str]) -> list[dict]:
    """`jobdesk list` on a small data dir against importing SQLAlchemy alone."""
    cli: dict[str, list[float]] = {who: [] for who in mains}
    baseline = []
    for _ in range(repeat):
        for who, main in mains.items():
            cli[who].append(_time([sys.executable, main, "--data-dir", str(small), "list"]))
        baseline.append(_time([sys.executable, "-c", "import sqlalchemy"]))
    base_s = statistics.median(baseline)
    return [{"measure": "jobdesk list, small data dir", "code": who, "small_s": base_s, "big_s": statistics.median(cli[who]),
             "ratio": statistics.median(cli[who]) / base_s, "target": 1.3, "baseline": "python -c 'import sqlalchemy'"}
            for who in mains]  # fmt: skip


def as_if_closed(root: Path, minutes: float) -> int:
    """Make the store look as it would after Jobdesk was closed `minutes`: each job due within
    the next `minutes` becomes due `minutes` ago (an every-minute job: that many slots missed).
    Through APScheduler's own store: a job's time is in its row's column and in its pickled
    state, and a row whose two disagree is due again at every pass."""
    from datetime import timedelta

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from sqlalchemy import select

    from jobs.db import open_database
    from jobs.paths import resolve_data_dir
    from jobs.stored_next_runs import APS_TABLE

    engine = open_database(resolve_data_dir(root).database)
    try:
        store = SQLAlchemyJobStore(engine=engine, tablename=APS_TABLE)
        store.start(None, "default")  # type: ignore[arg-type]
        table = store.jobs_t
        with engine.connect() as conn:
            due = list(conn.execute(select(table.c.id).where(table.c.next_run_time < time.time() + minutes * 60)).scalars())
        for job_id in due:
            job = store.lookup_job(job_id)
            if job is not None and job.next_run_time is not None:
                job.next_run_time = job.next_run_time - timedelta(minutes=minutes)  # (_modify needs a scheduler)
                store.update_job(job)
        return len(due)
    finally:
        engine.dispose()


def measure_after_close(small: Path, big: Path, repeat: int, minutes: float) -> list[dict]:
    """`repeat` starts of each data dir after a close of `minutes` (`as_if_closed`), alternating."""
    keys = {"paint": "JOBDESK_FIRST_PAINT", "loaded": "JOBDESK_LOADED", "stall": "JOBDESK_STALL_MAX#",
            "rss": "JOBDESK_PEAK_RSS#"}  # fmt: skip
    values: dict[str, dict[str, list[float]]] = {which: {key: [] for key in keys} for which in ("small", "big")}
    with tempfile.TemporaryDirectory() as config_home:
        env = bench_gui.environment(Path(config_home))
        for i in range(repeat):
            for which, root in (("small", small), ("big", big)):
                due = as_if_closed(root, minutes)
                marks = bench_gui.start_marks("jobdesk", root, env, until="JOBDESK_LOADED")
                for key, mark in keys.items():
                    values[which][key].append(marks[mark])
                print(f"  after {minutes:g} min closed, run {i + 1} {which:5s} ({due} jobs due): "
                      f"all loaded {marks[keys['loaded']]:.1f} s, worst stall {marks[keys['stall']]:.0f} ms, "
                      f"peak RSS {marks[keys['rss']]:.0f} MiB", flush=True)  # fmt: skip
    med = {which: {key: statistics.median(v) for key, v in by.items()} for which, by in values.items()}
    label = f"window after {minutes:g} min closed:"
    return [
        {"measure": f"{label} everything loaded (catch-up included)", "code": "this", "small_s": med["small"]["loaded"],
         "big_s": med["big"]["loaded"], "ratio": med["big"]["loaded"] / med["small"]["loaded"], "target": None,
         "samples": {which: values[which]["loaded"] for which in values}},
        *({"measure": f"{label} {what}", "code": "this", "unit": unit, "small": med["small"][key], "big": med["big"][key],
           "worst_big": max(values["big"][key]), "limit": limit, "samples": {which: values[which][key] for which in values}}
          for what, key, unit, limit in (("longest GUI-thread stall while loading", "stall", "ms", 50.0),
                                         ("peak RSS", "rss", "MiB", 200.0))),
    ]  # fmt: skip


def measure_window(small: Path, big: Path, repeat: int) -> list[dict]:
    """The window (`main.py --data-dir D`, bench_gui's cold start), small and big alternating:
    first paint, jobs listed (the table's first screen), every job in the table, jobs + first
    history page listed, the longest GUI-thread stall
    from the first paint until everything loaded (desktop/bench_probe.py), peak RSS."""
    keys = {"paint": "JOBDESK_FIRST_PAINT", "jobs": "JOBDESK_JOBS_SHOWN", "history": "JOBDESK_HISTORY_SHOWN",
            "stall": "JOBDESK_STALL_MAX#", "rss": "JOBDESK_PEAK_RSS#"}  # fmt: skip
    values: dict[str, dict[str, list[float]]] = {
        which: {key: [] for key in (*keys, "shown", "listed")} for which in ("small", "big")
    }
    with tempfile.TemporaryDirectory() as config_home:
        env = bench_gui.environment(Path(config_home))
        # One start of each, not measured, brings the stores up to now, as `measure_serve` does:
        # otherwise the first start catches up whatever fell due since the data was last used
        # (an hour closed: ~6,000 missed slots of the every-minute jobs), a cost that depends on
        # how long ago that was, not on the code.
        for root in (small, big):
            bench_gui.start_marks("jobdesk", root, env, until="JOBDESK_LOADED")
        for i in range(repeat):
            for which, root in (("small", small), ("big", big)):
                marks = bench_gui.start_marks("jobdesk", root, env, until="JOBDESK_LOADED")
                missing = [mark for mark in keys.values() if mark not in marks]
                if missing:
                    raise SystemExit(f"window on {root}: no {', '.join(missing)} (got {sorted(marks)})")
                for key, mark in keys.items():
                    values[which][key].append(marks[mark])
                # Jobs are listed when the table shows its first rows: read ahead of the rest with
                # many jobs (JOBDESK_FIRST_SCREEN), else every job at once
                shown = marks.get("JOBDESK_FIRST_SCREEN", marks[keys["jobs"]])
                values[which]["shown"].append(shown)
                values[which]["listed"].append(max(shown, marks[keys["history"]]))
                print(f"  run {i + 1} {which:5s} paint {marks[keys['paint']]:.2f} s, jobs shown {shown:.2f} s, "
                      f"all jobs {marks[keys['jobs']]:.2f} s, "
                      f"history {marks[keys['history']]:.2f} s, worst stall {marks[keys['stall']]:.0f} ms, "
                      f"peak RSS {marks[keys['rss']]:.0f} MiB", flush=True)  # fmt: skip
    med = {which: {key: statistics.median(v) for key, v in by.items()} for which, by in values.items()}
    rows = []
    for label, key, target in (("window: first paint", "paint", 1.3), ("window: jobs listed (first screen)", "shown", None),
                               ("window: every job in the table", "jobs", None),
                               ("window: jobs + first history page listed", "listed", 1.5)):  # fmt: skip
        rows.append({"measure": label, "code": "this", "small_s": med["small"][key], "big_s": med["big"][key],
                     "ratio": med["big"][key] / med["small"][key], "target": target,
                     "samples": {which: values[which][key] for which in values}})  # fmt: skip
    for label, key, unit, limit in (("window: longest GUI-thread stall while loading", "stall", "ms", 50.0),
                                    ("window: peak RSS", "rss", "MiB", 200.0)):  # fmt: skip
        rows.append({"measure": label, "code": "this", "unit": unit, "small": med["small"][key], "big": med["big"][key],
                     "worst_big": max(values["big"][key]), "limit": limit,
                     "samples": {which: values[which][key] for which in values}})  # fmt: skip
    return rows


def print_table(rows: list[dict], jobs: int, runs: int) -> None:
    print(f"\n| measure | code | 1 job, 0 runs | {jobs:,} jobs, {runs:,} runs | ratio | target |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        if "limit" in row:  # an absolute target, checked on the worst big sample
            unit, limit = row["unit"], row["limit"]
            ok = "ok" if row["worst_big"] <= limit else "MISSED"
            print(f"| {row['measure']} (median; worst) | {row['code']} | {row['small']:.0f} {unit} | "
                  f"{row['big']:.0f} {unit}; {row['worst_big']:.0f} {unit} | | <= {limit:.0f} {unit} {ok} |")  # fmt: skip
            continue
        if row["target"] is None:
            print(f"| {row['measure']} | {row['code']} | {row['small_s']:.2f} s | {row['big_s']:.2f} s | "
                  f"{row['ratio']:.2f}x | |")  # fmt: skip
            continue
        ok = "ok" if row["ratio"] <= row["target"] else "MISSED"
        if "baseline" in row:
            print(f"| {row['measure']} (vs `{row['baseline']}` {row['small_s']:.2f} s) | {row['code']} | | "
                  f"{row['big_s']:.2f} s | {row['ratio']:.2f}x | <= {row['target']}x {ok} |")  # fmt: skip
            continue
        print(f"| {row['measure']} | {row['code']} | {row['small_s']:.2f} s | {row['big_s']:.2f} s | {row['ratio']:.2f}x | "
              f"<= {row['target']}x {ok} |")  # fmt: skip


def measure_serve(folder: Path, jobs: int, repeat: int, idle_s: float, soak_s: float, mains: dict[str, str]) -> dict:
    """Restart (1 job against `jobs` jobs, each code, interleaved), then idle CPU and a soak
    at `jobs` jobs with this code."""
    small, big = serve_load.prepare(folder, 1), serve_load.prepare(folder, jobs)
    starts: dict[str, dict[str, list[float]]] = {who: {"small": [], "big": []} for who in mains}
    for _ in range(repeat):
        for which, root in (("small", small), ("big", big)):
            for who, main in mains.items():
                # A restart: a first start brings the store up to now (catching up what was
                # missed since the last run: its cost depends on how long that was), then the
                # measured start finds nothing or next to nothing to catch up.
                for measured in (False, True):
                    serve = serve_load.start(root, main)
                    try:
                        took = serve_load.wait_first_pass(serve)
                    except RuntimeError as exc:  # e.g. a checkout that does not log its first pass
                        print(f"  {who}: {exc}")
                        took = float("nan")
                    finally:
                        serve.stop()
                    if measured:
                        starts[who][which].append(took)
    serve = serve_load.start(big)
    try:
        serve_load.wait_first_pass(serve)
        idle = serve_load.idle_cpu(serve, idle_s)
        soak = serve_load.soak(serve, soak_s)
    finally:
        serve.stop()
    medians = {who: {which: statistics.median(values) for which, values in by.items()} for who, by in starts.items()}
    return {"jobs": jobs, "start_small_s": medians["this"]["small"], "start_s": medians["this"]["big"],
            "starts_s": starts, "start_medians_s": medians, "idle_cpu": idle, "idle_seconds": idle_s, "soak": soak}  # fmt: skip


def print_serve(serve: dict) -> None:
    soak = serve["soak"]
    per_day = soak["expected"] * 86400 / max(soak["seconds"], 1)
    print(f"\n| serve, {serve['jobs']:,} jobs | measured | target |")
    print("|---|---|---|")
    for who, by in serve["start_medians_s"].items():
        print(f"| restart: launch to first scheduler pass ({who}) | {by['big']:.2f} s (1 job: {by['small']:.2f} s) | "
              f"<= 2 s {'ok' if by['big'] <= 2 else 'MISSED'} |")  # fmt: skip
    print(f"| idle CPU ({serve['idle_seconds']:.0f} s between minute boundaries) | {100 * serve['idle_cpu']:.2f} % of a core | "
          f"<= 1 % {'ok' if serve['idle_cpu'] <= 0.01 else 'MISSED'} |")  # fmt: skip
    print(f"| soak {soak['seconds']:.0f} s (~{per_day:,.0f} runs a day): slots run / due | {soak['ran']:,} / "
          f"{soak['expected']:,}, {soak['missed']} missed | 0 missed {'ok' if soak['missed'] == 0 else 'MISSED'} |")  # fmt: skip
    if soak["latency_p50_ms"] is not None:
        print(f"| fire latency (due -> process started) p50 / p99 / max | {soak['latency_p50_ms']:.0f} / "
              f"{soak['latency_p99_ms']:.0f} / {soak['latency_max_ms']:.0f} ms | |")  # fmt: skip
    print(f"| serve CPU during the soak | {100 * soak['cpu_share']:.1f} % of a core | |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "jobdesk-bench")
    parser.add_argument("--soak", type=float, default=600.0, help="seconds of the serve soak")
    parser.add_argument("--idle", type=float, default=30.0, help="seconds of the idle-CPU measure")
    parser.add_argument("--only", choices=["commands", "window", "serve"], help="measure only one part")
    parser.add_argument("--against", type=Path, help="another checkout to time interleaved (before/after)")
    parser.add_argument("--closed", type=float, default=0.0, metavar="MINUTES",
                        help="window: also starts as if Jobdesk had been closed this long (0: none)")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"preparing data in {args.folder} (reused when present)")
    mains = {"this": MAIN}
    if args.against is not None:
        mains["against"] = str(args.against.resolve() / "main.py")
    rows: list[dict] = []
    serve = None
    if args.only in (None, "commands", "window"):
        small = prepare(args.folder, 1, 0)
        big = prepare(args.folder, args.jobs, args.runs)
        if args.only != "window":
            rows = measure_commands(small, big, args.repeat, mains)
            rows += measure_imports(small, args.repeat, mains)
        if args.only != "commands":
            rows += measure_window(small, big, args.repeat)
            if args.closed > 0:
                rows += measure_after_close(small, big, args.repeat, args.closed)
        print_table(rows, args.jobs, args.runs)
    if args.only in (None, "serve"):
        serve = measure_serve(args.folder, args.jobs, args.repeat, args.idle, args.soak, mains)
        print_serve(serve)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("scale.json" if args.only is None else f"scale-{args.only}.json")
    out.write_text(json.dumps({"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                               "jobs": args.jobs, "runs": args.runs, "repeat": args.repeat, "rows": rows,
                               "against": None if args.against is None else str(args.against),
                               "serve": serve}, indent=2))  # fmt: skip
    print(f"\nwrote {out}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
