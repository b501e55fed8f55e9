"""A job on a pool runs on a real `jobdesk worker` through a real Redis (issue 11), with the
same history, output, stop and timeout as a local run.

One redis-server, one worker (concurrency 3, PySide6 unimportable: tests/jobs/remote_env.py)
and one `serve` are shared by the module: a worker takes a second or two to start.
"""

from __future__ import annotations

import os
import socket
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from jobs.paths import resolve_data_dir
from jobs.runlog import stderr_ranges
from tests.jobs.remote_env import RedisServer, Worker
from tests.jobs.serve_process import history, jobdesk, start_serve, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX sessions, Debian redis")]

# Writes its own pid and a child's pid (same session, sleeping) and then sleeps.
TREE = """
    import os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open(sys.argv[1], "w") as f:
        f.write(f"{os.getpid()} {child.pid}")
    print("tree up", flush=True)
    time.sleep(300)
"""


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("remote")
    redis = RedisServer(folder / "redis").start()
    worker = Worker(redis.url, "main", folder, concurrency=3)
    data_dir = resolve_data_dir(folder / "data")
    data_dir.root.mkdir(parents=True)
    serve = None
    try:
        worker.start()
        assert jobdesk(data_dir, "config", "broker", redis.url).returncode == 0
        serve = start_serve(data_dir)
        yield data_dir, worker, folder
    finally:
        if serve is not None:
            stop(serve)
        worker.stop()
        redis.stop()


def add(data_dir, *args: str) -> str:
    result = jobdesk(data_dir, "add", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def run(data_dir, job_id: str) -> int:
    result = jobdesk(data_dir, "run", job_id)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split("#")[1])


def row(data_dir, run_id: int) -> dict:
    [found] = [r for r in history(data_dir, "--limit", "100") if r["id"] == run_id]
    return found


def final(data_dir, run_id: int, timeout: float = 30) -> dict:
    return wait_for(lambda: (r := row(data_dir, run_id))["status"] not in ("queued", "running") and r, timeout)


def pids_in(path: Path) -> list[int]:
    return wait_for(lambda: path.exists() and path.read_text().strip() and [int(p) for p in path.read_text().split()])


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_job_on_a_pool_runs_on_a_worker_with_its_history_output_and_environment(env, tmp_path):
    data_dir, worker, _ = env
    go = tmp_path / "go"  # the job waits for it after its first lines: the test looks meanwhile
    script = textwrap.dedent("""
        import os, sys, time
        print("first", os.environ["GREETING"], os.getcwd(), flush=True)
        print("oops", file=sys.stderr, flush=True)
        while not os.path.exists(sys.argv[1]):
            time.sleep(0.05)
        print("second", os.environ["JOBDESK_RUN_ID"])
        sys.exit(3)
    """)
    job = add(data_dir, "--name", "remote hello", "--every", "1d", "--on", "main", "--env", "GREETING=hi",
              "--cwd", str(tmp_path), "--", sys.executable, "-c", script, str(go))
    run_id = run(data_dir, job)
    running = wait_for(lambda: (r := row(data_dir, run_id))["status"] == "running" and r)
    assert running["ran_on"] == socket.gethostname() and running["pool"] == "main"
    log_path = Path(running["log_path"])
    # A live tail: the first line is in the local log while the run still goes on.
    wait_for(lambda: log_path.exists() and b"oops" in log_path.read_bytes())
    assert row(data_dir, run_id)["status"] == "running"
    go.touch()

    done = final(data_dir, run_id)
    assert done["status"] == "failed" and done["exit_code"] == 3 and done["error"] == "exit code 3"
    assert done["ran_on"] == socket.gethostname() and done["pool"] == "main"
    assert done["duration"] > 0 and done["stderr_tail"] == "oops"
    printed = jobdesk(data_dir, "log", str(run_id))
    assert printed.stdout == f"first hi {tmp_path}\noops\nsecond {run_id}\n"
    data = log_path.read_bytes()
    assert [data[a:b] for a, b in stderr_ranges(log_path)] == [b"oops\n"]  # stderr kept apart, like local
    assert done["output_bytes"] == len(data)


def test_stop_kills_the_whole_tree_on_the_worker(env, tmp_path):
    data_dir, _, _ = env
    pids_file = tmp_path / "pids"
    job = add(data_dir, "--name", "remote tree", "--every", "1d", "--on", "main", "--", sys.executable, "-c",
              textwrap.dedent(TREE), str(pids_file))
    run_id = run(data_dir, job)
    leader, child = pids_in(pids_file)
    assert alive(leader) and alive(child)
    stopped = jobdesk(data_dir, "stop", str(run_id))
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.startswith(f"stopped run #{run_id} (killed after")
    done = row(data_dir, run_id)
    assert done["status"] == "killed" and done["error"] == "killed: stopped by the user"
    wait_for(lambda: not alive(leader) and not alive(child), timeout=10)
    assert b"tree up" in Path(done["log_path"]).read_bytes()


def test_a_timeout_ends_the_whole_tree_on_the_worker(env, tmp_path):
    data_dir, _, _ = env
    pids_file = tmp_path / "pids"
    job = add(data_dir, "--name", "remote slow", "--every", "1d", "--on", "main", "--timeout", "2s", "--",
              sys.executable, "-c", textwrap.dedent(TREE), str(pids_file))
    run_id = run(data_dir, job)
    leader, child = pids_in(pids_file)
    done = final(data_dir, run_id)
    assert done["status"] == "timed out"
    assert done["error"] == "timed out after 2s; process tree terminated"
    assert not alive(leader) and not alive(child)
    assert Path(done["log_path"]).read_text().endswith("[jobdesk] timed out after 2s; process tree terminated\n")


def test_local_runs_say_where_they_ran_too(env):
    data_dir, _, _ = env
    job = add(data_dir, "--name", "here", "--every", "1d", "--", sys.executable, "-c", "print('local')")
    done = final(data_dir, run(data_dir, job))
    assert done["status"] == "succeeded" and done["ran_on"] is None and done["pool"] is None


def test_workers_lists_the_pool_with_its_worker_and_runs_in_progress(env, tmp_path):
    data_dir, worker, _ = env
    pids_file = tmp_path / "pids"
    job = add(data_dir, "--name", "remote busy", "--every", "1d", "--on", "main", "--", sys.executable, "-c",
              textwrap.dedent(TREE), str(pids_file))
    run_id = run(data_dir, job)
    pids_in(pids_file)
    import json

    pools = wait_for(lambda: (p := json.loads(jobdesk(data_dir, "workers", "--json").stdout)) and p[0]["running"] == 1 and p)
    [pool] = pools
    assert pool["pool"] == "main" and pool["online"] == 1
    [entry] = pool["workers"]
    assert entry["pid"] == worker.pid and entry["concurrency"] == 3 and entry["host"] == socket.gethostname()
    assert entry["seconds_since_heartbeat"] < 10
    text = jobdesk(data_dir, "workers")
    assert text.returncode == 0 and text.stdout.startswith("main: 1 online, 1 running, last heartbeat ")
    assert jobdesk(data_dir, "stop", str(run_id)).returncode == 0


def test_the_worker_never_loaded_qt(env):
    _, worker, _ = env
    # Its PYTHONPATH starts with a PySide6 that raises on import (remote_env.NO_QT), and it ran
    # every job above; its own modules say the same.
    process = psutil.Process(worker.pid)
    maps = "".join(Path(f"/proc/{p.pid}/maps").read_text() for p in [process, *process.children()])
    assert "Qt6Core" not in maps and "PySide6" not in maps
    assert "must not import PySide6" not in worker.log()
    assert os.environ.get("JOBDESK_WORKER_STATE") is None  # the state folder went to the worker only
