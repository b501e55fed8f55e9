"""A GUI-thread-like writer beside threads that write short transactions (runs starting and
ending): how long its writes wait, with this process's writers taking turns (jobs/write_turns.py)
and without (SQLite's busy handler alone, which sleeps 1, 2, 5 ... 100 ms between tries).

    python -m tests.bench.bench_write_turns [--writers 6] [--writes 150] [--rounds 3]

Each round runs both ways back to back on a fresh SQLite file; prints median / p99 / worst of the
lone writer's waits and writes tests/bench/results/write_turns.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, event, text

from jobs.db import BUSY_TIMEOUT_MS, TURN_WAIT_S, _set_pragmas
from jobs.write_turns import take_turns

RESULTS = Path(__file__).parent / "results"


def one_way(turns: bool, writers: int, writes: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/bench.sqlite3", pool_size=writers + 2,
                               connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})  # fmt: skip
        event.listen(engine, "connect", _set_pragmas)
        if turns:
            take_turns(engine, TURN_WAIT_S)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE runs (id INTEGER PRIMARY KEY, at REAL)"))
            conn.execute(text("CREATE TABLE jobs (id INTEGER PRIMARY KEY, next REAL)"))
            conn.execute(text("INSERT INTO jobs VALUES (1, 0)"))
        stop = threading.Event()

        def run_thread() -> None:  # a run's rows: queued, started, ended (a few ms apart)
            while not stop.is_set():
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO runs (at) VALUES (:t)"), {"t": time.time()})
                    time.sleep(0.001)
                time.sleep(random.random() * 0.01)

        threads = [threading.Thread(target=run_thread, daemon=True) for _ in range(writers)]
        for thread in threads:
            thread.start()
        waits = []
        for n in range(writes):  # the scheduler's pass: its job's next run time
            began = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(text("UPDATE jobs SET next = :n WHERE id = 1"), {"n": n})
            waits.append(1000 * (time.perf_counter() - began))
            time.sleep(0.01)
        stop.set()
        for thread in threads:
            thread.join()
        engine.dispose()
        return waits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=6)
    parser.add_argument("--writes", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[float]] = {"turns": [], "sqlite": []}
    for round_ in range(args.rounds):
        for way in (("turns", "sqlite") if round_ % 2 == 0 else ("sqlite", "turns")):
            results[way] += one_way(way == "turns", args.writers, args.writes)
    print(f"\nlone writer beside {args.writers} writing threads, {args.rounds} x {args.writes} writes a way")
    print("| way | median | p99 | worst |\n|---|---|---|---|")
    table = {}
    for way, label in (("turns", "turns (jobs.write_turns)"), ("sqlite", "SQLite's busy handler alone")):
        waits = sorted(results[way])
        row = {"median_ms": statistics.median(waits), "p99_ms": waits[int(0.99 * (len(waits) - 1))], "worst_ms": waits[-1]}
        table[way] = row
        print(f"| {label} | {row['median_ms']:.1f} ms | {row['p99_ms']:.1f} ms | {row['worst_ms']:.1f} ms |")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "write_turns.json"
    out.write_text(json.dumps({"writers": args.writers, "writes": args.writes, "rounds": args.rounds, "results": table}, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
