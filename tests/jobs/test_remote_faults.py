"""The five faults of issue 11, each with a real redis-server, real `jobdesk worker` processes
and a real `serve`: broker unreachable, no worker on the pool, worker killed mid-run, Jobdesk
restarted while remote runs are in flight, Redis restarted mid-run."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from datetime import datetime
from pathlib import Path

import psutil
import pytest

from jobs.paths import resolve_data_dir
from jobs.remote.protocol import HEARTBEAT_TIMEOUT
from tests.jobs.remote_env import RedisServer, Worker, free_port
from tests.jobs.serve_process import history, jobdesk, start_serve, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX sessions, Debian redis")]

# Notes each start in a file (to count runs), prints, waits (argv[2]: seconds, or a file to
# appear: the test decides when it ends), prints, notes its end in FILE.end, exits argv[3].
COUNTED = """
    import os, sys, time
    with open(sys.argv[1], "a") as f:
        f.write(f"{os.getpid()}\\n")
    print("begin", flush=True)
    if sys.argv[2].replace(".", "", 1).isdigit():
        time.sleep(float(sys.argv[2]))
    else:
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.05)
    print("end", flush=True)
    with open(sys.argv[1] + ".end", "a") as f:
        f.write(f"{os.getpid()}\\n")
    sys.exit(int(sys.argv[3]))
"""


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    redis = RedisServer(folder / "redis").start()
    worker = Worker(redis.url, "main", folder, concurrency=2)
    try:
        worker.start()
        yield redis, worker, folder
    finally:
        worker.stop()
        redis.stop()


@pytest.fixture
def desk(tmp_path):
    """A data directory, and `serve` processes started on it (stopped at the end)."""
    data_dir = resolve_data_dir(tmp_path / "data")
    data_dir.root.mkdir(parents=True)
    serves = []

    def start():
        serves.append(start_serve(data_dir))
        return serves[-1]

    yield data_dir, start
    for serve in serves:
        stop(serve)


def add(data_dir, *args: str) -> str:
    result = jobdesk(data_dir, "add", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def counted(job_args: list[str], starts: Path, wait: float | Path, code: int = 0) -> list[str]:
    return [*job_args, "--", sys.executable, "-c", textwrap.dedent(COUNTED), str(starts), str(wait), str(code)]


def ends(starts: Path) -> list[str]:
    return lines(starts.with_name(starts.name + ".end"))


def row(data_dir, run_id: int) -> dict:
    [found] = [r for r in history(data_dir, "--limit", "200") if r["id"] == run_id]
    return found


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_broker_unreachable_when_a_run_is_due_fails_it_within_seconds_without_the_password(desk):
    data_dir, start = desk
    port = free_port()  # nobody listens there
    assert jobdesk(data_dir, "config", "broker", f"redis://:hunter2@127.0.0.1:{port}/0").returncode == 0
    start()
    add(data_dir, "--name", "due remote", "--every", "1s", "--allow-sub-10s", "--on", "main", "--",
        sys.executable, "-c", "print('never')")
    failed = wait_for(lambda: [r for r in history(data_dir) if r["status"] == "failed"], timeout=20)[-1]
    assert failed["error"] == f"broker unreachable: redis://127.0.0.1:{port} (connection refused)"
    assert failed["cause"] == "scheduled" and failed["pool"] == "main"
    late = datetime.fromisoformat(failed["ended_at"]) - datetime.fromisoformat(failed["scheduled_at"])
    assert late.total_seconds() < 5  # "within seconds"
    # The scheduler went on firing meanwhile: it never waited on the network.
    wait_for(lambda: len([r for r in history(data_dir) if r["status"] == "failed"]) >= 3, timeout=20)
    assert jobdesk(data_dir, "list").returncode == 0
    everything = jobdesk(data_dir, "history", "--json").stdout + (data_dir.root / "jobdesk.log").read_text()
    assert "hunter2" not in everything and "hunter2" not in jobdesk(data_dir, "config").stdout


def test_no_worker_on_the_pool_waits_queued_then_is_missed_and_never_runs_later(desk, shared, tmp_path):
    redis, _, folder = shared
    data_dir, start = desk
    assert jobdesk(data_dir, "config", "broker", redis.url).returncode == 0
    start()
    starts = tmp_path / "starts"
    job = add(data_dir, *counted(["--name", "gpu job", "--every", "1d", "--on", "gpu", "--grace", "6s"], starts, 0))
    run_id = int(jobdesk(data_dir, "run", job).stdout.split("#")[1])
    waiting = wait_for(lambda: (r := row(data_dir, run_id))["error"] and r)
    assert waiting["status"] == "queued" and waiting["error"] == "no worker on pool gpu" and waiting["pool"] == "gpu"
    done = wait_for(lambda: (r := row(data_dir, run_id))["status"] != "queued" and r, timeout=20)
    assert done["status"] == "missed" and done["error"] == "no worker on pool gpu"
    assert done["started_at"] is None and done["ran_on"] is None
    # A worker that comes later gets the task from the queue and does not run it.
    late = Worker(redis.url, "gpu", folder).start()
    try:
        wait_for(lambda: "jobdesk.run" in late.log() and "succeeded" in late.log(), timeout=15)
        assert lines(starts) == []
    finally:
        late.stop()


def test_a_worker_killed_mid_run_ends_it_interrupted_once_and_its_next_start_ends_the_leftover(desk, shared, tmp_path):
    redis, _, folder = shared
    data_dir, start = desk
    assert jobdesk(data_dir, "config", "broker", redis.url).returncode == 0
    start()
    state = tmp_path / "worker-state"
    doomed = Worker(redis.url, "k9", folder, state=state).start()
    starts = tmp_path / "starts"
    job = add(data_dir, *counted(["--name", "long", "--every", "1d", "--on", "k9"], starts, 300))
    run_id = int(jobdesk(data_dir, "run", job).stdout.split("#")[1])
    [pid] = wait_for(lambda: lines(starts))
    wait_for(lambda: row(data_dir, run_id)["status"] == "running")
    doomed.kill9()
    killed_at = time.monotonic()
    done = wait_for(lambda: (r := row(data_dir, run_id))["status"] != "running" and r, timeout=HEARTBEAT_TIMEOUT + 15)
    assert time.monotonic() - killed_at < HEARTBEAT_TIMEOUT + 5  # within the heartbeat timeout (plus a look)
    assert done["status"] == "interrupted" and done["error"].startswith("worker lost")
    assert alive(int(pid))  # its own session outlived the worker: that is what the next start cleans
    replacement = Worker(redis.url, "k9", folder, state=state).start()
    try:
        wait_for(lambda: not alive(int(pid)), timeout=15)
        assert "ended 1 process(es) a previous worker left running" in replacement.log()
        time.sleep(2)
        assert lines(starts) == [pid]  # not re-run by the new worker
        assert row(data_dir, run_id)["status"] == "interrupted"
    finally:
        replacement.stop()


def test_jobdesk_restarted_while_remote_runs_are_in_flight_records_their_real_outcome(desk, shared, tmp_path):
    redis, _, _ = shared
    data_dir, start = desk
    assert jobdesk(data_dir, "config", "broker", redis.url).returncode == 0
    serve = start()
    quick, slow = tmp_path / "quick", tmp_path / "slow"
    first = add(data_dir, *counted(["--name", "ends while down", "--every", "1d", "--on", "main"], quick, tmp_path / "go1", 3))
    second = add(data_dir, *counted(["--name", "ends after", "--every", "1d", "--on", "main"], slow, tmp_path / "go2"))
    runs = [int(jobdesk(data_dir, "run", job).stdout.split("#")[1]) for job in (first, second)]
    wait_for(lambda: lines(quick) and lines(slow))
    wait_for(lambda: all((r := row(data_dir, run_id))["log_path"] and b"begin" in Path(r["log_path"]).read_bytes()
                         for run_id in runs))
    serve.kill()  # SIGKILL: no goodbye
    serve.wait(10)
    (tmp_path / "go1").touch()  # the first run ends meanwhile, with nobody to record it
    wait_for(lambda: ends(quick))
    start()
    (tmp_path / "go2").touch()  # the second ends once Jobdesk follows it again
    for run_id, code, status in ((runs[0], 3, "failed"), (runs[1], 0, "succeeded")):
        done = wait_for(lambda: (r := row(data_dir, run_id))["status"] not in ("running", "queued") and r, timeout=30)
        assert (done["status"], done["exit_code"]) == (status, code), done
        assert Path(done["log_path"]).read_text() == "begin\nend\n"  # each line once, none lost
    assert len(lines(quick)) == 1 and len(lines(slow)) == 1


def test_redis_restarted_mid_run_still_records_the_outcome(desk, tmp_path):
    data_dir, start = desk
    redis = RedisServer(tmp_path / "redis").start()
    worker = Worker(redis.url, "main", tmp_path, concurrency=1)
    try:
        worker.start()
        assert jobdesk(data_dir, "config", "broker", redis.url).returncode == 0
        start()
        starts = tmp_path / "starts"
        go = tmp_path / "go"
        job = add(data_dir, *counted(["--name", "through a restart", "--every", "1d", "--on", "main"], starts, go, 4))
        run_id = int(jobdesk(data_dir, "run", job).stdout.split("#")[1])
        wait_for(lambda: row(data_dir, run_id)["status"] == "running")
        redis.kill()  # everything Redis held is gone: queue, streams, heartbeats
        time.sleep(1)
        redis.start()  # the same port, empty
        go.touch()  # the run ends after the restart
        done = wait_for(lambda: (r := row(data_dir, run_id))["status"] != "running" and r, timeout=40)
        assert (done["status"], done["exit_code"]) == ("failed", 4), done
        assert Path(done["log_path"]).read_text().endswith("end\n")
        assert len(lines(starts)) == 1
        # The worker writes its heartbeat to the new Redis too (every 2 s).
        wait_for(lambda: (pools := json.loads(jobdesk(data_dir, "workers", "--json").stdout)) and pools[0]["online"] == 1)
    finally:
        worker.stop()
        redis.stop()


def test_a_run_still_waiting_for_a_worker_when_jobdesk_restarts_runs_once_a_worker_comes(desk, shared, tmp_path):
    redis, _, folder = shared
    data_dir, start = desk
    assert jobdesk(data_dir, "config", "broker", redis.url).returncode == 0
    serve = start()
    starts = tmp_path / "starts"
    job = add(data_dir, *counted(["--name", "waits", "--every", "1d", "--on", "later"], starts, 0, 0))
    run_id = int(jobdesk(data_dir, "run", job).stdout.split("#")[1])
    wait_for(lambda: row(data_dir, run_id)["error"] == "no worker on pool later")
    serve.kill()
    serve.wait(10)
    start()
    time.sleep(HEARTBEAT_TIMEOUT + 2)  # longer than a lost worker takes: a waiting run is not "lost"
    waiting = row(data_dir, run_id)
    assert waiting["status"] == "queued" and waiting["error"] == "no worker on pool later"
    worker = Worker(redis.url, "later", folder).start()
    try:
        done = wait_for(lambda: (r := row(data_dir, run_id))["status"] not in ("queued", "running") and r, timeout=30)
        assert done["status"] == "succeeded" and done["error"] is None and done["pool"] == "later"
        assert len(lines(starts)) == 1
    finally:
        worker.stop()
