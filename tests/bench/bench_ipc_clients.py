"""Many command-line clients at once against a real `serve`: connect retries and answer times.

    python -m tests.bench.bench_ipc_clients [--clients 200] [--rounds 3]

`--clients` threads wait at a barrier, then each sends one `list` request through the real
client (jobs.ipc_client: peer check, retry with backoff when the listen queue is full). The
same run measures `serve` with Qt's default listen backlog (50, the baseline that gave 3 retries
at 200 clients in issue 9) and with Jobdesk's (jobs.ipc.LISTEN_BACKLOG). Prints a table and
writes tests/bench/results/ipc_clients.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from jobs.ipc import LISTEN_BACKLOG  # noqa: E402
from jobs.ipc_client import InstanceUnreachable, request  # noqa: E402
from jobs.paths import DataDir  # noqa: E402

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parents[2]
QT_DEFAULT_BACKLOG = 50
SERVE_WITH_BACKLOG = (
    "import sys, jobs.ipc as ipc; ipc.LISTEN_BACKLOG = int(sys.argv[1]); import main; "
    "main.exit_now(main.main(['--data-dir', sys.argv[2], 'serve']))"
)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def start_serve(data_dir: DataDir, backlog: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", SERVE_WITH_BACKLOG, str(backlog), str(data_dir.root)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if request(data_dir, {"op": "ping"}, timeout=5, connect_timeout=0.5)["result"]["pid"] == proc.pid:
                return proc
        except (InstanceUnreachable, KeyError):
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("serve did not start")


def one_round(data_dir: DataDir, clients: int) -> dict[str, float]:
    retries: list[int] = []
    times: list[float] = []
    failures: list[str] = []
    barrier = threading.Barrier(clients)
    lock = threading.Lock()

    def client() -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            answer = request(data_dir, {"op": "list"}, timeout=60, connect_timeout=30, on_retry=lambda: retries.append(1))
            ok = bool(answer.get("ok"))
        except Exception as exc:  # counted, not raised: the benchmark reports failures
            ok, answer = False, {"error": repr(exc)}
        with lock:
            times.append((time.perf_counter() - started) * 1000)
            if not ok:
                failures.append(str(answer.get("error")))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"retries": len(retries), "failures": len(failures), "p50_ms": percentile(times, 50),
            "p99_ms": percentile(times, 99), "max_ms": max(times)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results = {}
    for label, backlog in (("Qt default backlog", QT_DEFAULT_BACKLOG), ("Jobdesk backlog", LISTEN_BACKLOG)):
        with tempfile.TemporaryDirectory() as tmp:
            data_dir = DataDir(Path(tmp) / "data")
            proc = start_serve(data_dir, backlog)
            try:
                results[label] = {"backlog": backlog, "rounds": [one_round(data_dir, args.clients) for _ in range(args.rounds)]}
            finally:
                proc.terminate()
                proc.wait(30)
    print(f"{args.clients} clients at once, one `list` each, {args.rounds} rounds ({platform.machine()}, {os.cpu_count()} cores)")
    print(f"{'server':<20} {'backlog':>7} {'retries':>10} {'failures':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for label, result in results.items():
        rounds = result["rounds"]
        print(f"{label:<20} {result['backlog']:>7} {'/'.join(str(r['retries']) for r in rounds):>10} "
              f"{sum(r['failures'] for r in rounds):>9} {percentile([r['p50_ms'] for r in rounds], 50):>8.0f} "
              f"{percentile([r['p99_ms'] for r in rounds], 50):>8.0f} {max(r['max_ms'] for r in rounds):>8.0f}")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ipc_clients.json").write_text(json.dumps({"clients": args.clients, "results": results}, indent=2))


if __name__ == "__main__":
    main()
