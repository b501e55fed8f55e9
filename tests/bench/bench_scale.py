"""Does Jobdesk stay instant at 10,000 jobs and 10 million runs? Against 1 job, 0 runs, same run.

    python -m tests.bench.bench_scale [--jobs 10000] [--runs 10000000] [--repeat 5] [--folder DIR]

Both data directories are made once (tests/bench/scale_data.py; the big one takes minutes and
~2 GB) and kept in `--folder` (default: the temp folder). Each command is a whole process
(`main.py --data-dir D ...`, no instance running), timed `--repeat` times alternating small and
big; the table shows medians and the ratio big/small, with the issue's target. The import cost
of a command-line call is compared with `python -c "import sqlalchemy"` in the same run.
Prints a table and writes tests/bench/results/scale.json.
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


def measure_commands(small: Path, big: Path, repeat: int) -> list[dict]:
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
        timings: dict[str, list[float]] = {"small": [], "big": []}
        for _ in range(repeat):
            for which, root, job in (("small", small, small_job), ("big", big, big_job)):
                argv = [sys.executable, MAIN, "--data-dir", str(root), *(a.format(job=job) for a in args)]
                timings[which].append(_time(argv))
        small_s, big_s = statistics.median(timings["small"]), statistics.median(timings["big"])
        rows.append({"measure": label, "small_s": small_s, "big_s": big_s, "ratio": big_s / small_s, "target": target})
    return rows


def measure_imports(small: Path, repeat: int) -> dict:
    """`jobdesk list` on a small data dir against importing SQLAlchemy alone."""
    cli, baseline = [], []
    for _ in range(repeat):
        cli.append(_time([sys.executable, MAIN, "--data-dir", str(small), "list"]))
        baseline.append(_time([sys.executable, "-c", "import sqlalchemy"]))
    cli_s, base_s = statistics.median(cli), statistics.median(baseline)
    return {"measure": "jobdesk list, small data dir", "small_s": base_s, "big_s": cli_s, "ratio": cli_s / base_s,
            "target": 1.3, "baseline": "python -c 'import sqlalchemy'"}  # fmt: skip


def print_table(rows: list[dict], jobs: int, runs: int) -> None:
    print(f"\n| measure | 1 job, 0 runs | {jobs:,} jobs, {runs:,} runs | ratio | target |")
    print("|---|---|---|---|---|")
    for row in rows:
        ok = "ok" if row["ratio"] <= row["target"] else "MISSED"
        if "baseline" in row:
            print(f"| {row['measure']} (vs `{row['baseline']}` {row['small_s']:.2f} s) | | {row['big_s']:.2f} s | "
                  f"{row['ratio']:.2f}x | <= {row['target']}x {ok} |")  # fmt: skip
            continue
        print(f"| {row['measure']} | {row['small_s']:.2f} s | {row['big_s']:.2f} s | {row['ratio']:.2f}x | "
              f"<= {row['target']}x {ok} |")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=Path(tempfile.gettempdir()) / "jobdesk-bench")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"preparing data in {args.folder} (reused when present)")
    small = prepare(args.folder, 1, 0)
    big = prepare(args.folder, args.jobs, args.runs)
    rows = measure_commands(small, big, args.repeat)
    rows.append(measure_imports(small, args.repeat))
    print_table(rows, args.jobs, args.runs)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "scale.json"
    out.write_text(json.dumps({"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                               "jobs": args.jobs, "runs": args.runs, "repeat": args.repeat, "rows": rows}, indent=2))  # fmt: skip
    print(f"\nwrote {out}")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
