"""Remote runs get what local runs get (issue 13): the expected-output check, done on the worker
after exit 0, and the run's environment, recorded on the worker, both carried back in the
outcome so `history --json` and `jobdesk why` show them.

A real redis-server, a real `jobdesk worker` (PySide6 unimportable: tests/jobs/remote_env.py)
and a real `serve`. The worker's PATH starts with a folder of its own holding `python3`, which
the desktop's PATH lacks: a program resolved to that folder was resolved on the worker.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jobs.paths import resolve_data_dir
from tests.jobs.remote_env import RedisServer, Worker
from tests.jobs.serve_process import jobdesk, start_serve, stop
from tests.jobs.test_remote_run import add, final, run

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX sessions, Debian redis")]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("remote-facts")
    worker_bin = folder / "worker-bin"
    worker_bin.mkdir()
    (worker_bin / "python3").symlink_to(sys.executable)
    redis = RedisServer(folder / "redis").start()
    worker = Worker(redis.url, "main", folder, concurrency=2)
    data_dir = resolve_data_dir(folder / "data")
    data_dir.root.mkdir(parents=True)
    serve = None
    desktop_path = os.environ["PATH"]
    try:
        os.environ["PATH"] = os.pathsep.join([str(worker_bin), desktop_path])  # the worker's only
        try:
            worker.start()
        finally:
            os.environ["PATH"] = desktop_path
        assert jobdesk(data_dir, "config", "broker", redis.url).returncode == 0
        serve = start_serve(data_dir)
        yield data_dir, worker_bin
    finally:
        if serve is not None:
            stop(serve)
        worker.stop()
        redis.stop()


def runs(data_dir) -> dict[int, dict]:
    result = jobdesk(data_dir, "history", "--json", "--limit", "100")
    assert result.returncode == 0, result.stderr
    return {r["id"]: r for r in json.loads(result.stdout)}


def today_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def test_a_remote_run_that_writes_its_expected_file_succeeds_listing_it(env, tmp_path):
    data_dir, _ = env
    report = tmp_path / "report.py"
    report.write_text("import pathlib, datetime\n"
                      "day = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d')\n"
                      "pathlib.Path(f'out/sales-{day}.csv').write_text('region,total\\n')\n")  # fmt: skip
    (tmp_path / "out").mkdir()
    job = add(data_dir, "--name", "remote writes", "--every", "1d", "--tz", "UTC", "--on", "main",
              "--cwd", str(tmp_path), "--expect", "out/sales-{date}.csv", "--", "python3", "report.py")  # fmt: skip
    done = final(data_dir, run(data_dir, job))
    assert done["status"] == "succeeded", done
    [output] = done["outputs"]
    assert output["path"] == str(tmp_path / "out" / f"sales-{today_utc()}.csv") and output["bytes"] == 13


def test_a_remote_run_that_forgets_its_file_fails_naming_it(env, tmp_path):
    data_dir, _ = env
    job = add(data_dir, "--name", "remote forgets", "--every", "1d", "--tz", "UTC", "--on", "main",
              "--cwd", str(tmp_path), "--expect", "sales-{scheduled:%Y-%m-%d}.pdf", "--",
              "python3", "-c", "print('done')")  # fmt: skip
    done = final(data_dir, run(data_dir, job))
    assert done["status"] == "failed" and done["exit_code"] == 0, done
    assert done["error"] == f"expected output not written: sales-{today_utc()}.pdf"
    assert done["outputs"] == []
    log = Path(done["log_path"]).read_text()
    assert log == f"done\n[jobdesk] expected output not written: sales-{today_utc()}.pdf\n"


def test_a_remote_runs_environment_is_the_workers(env, tmp_path):
    data_dir, worker_bin = env
    report = tmp_path / "report.py"
    report.write_text("print('fine')\n")
    job = add(data_dir, "--name", "remote env", "--every", "1d", "--on", "main", "--env", "REGION=eu",
              "--cwd", str(tmp_path), "--", "python3", "report.py")  # fmt: skip
    done = final(data_dir, run(data_dir, job))
    assert done["status"] == "succeeded", done
    environment = done["environment"]
    assert environment is not None and environment["host"] == socket.gethostname() == done["ran_on"]
    assert environment["executable"] == str(worker_bin / "python3")  # the worker's PATH, not the desktop's
    [named] = environment["scripts"]
    import hashlib

    assert named["path"] == str(report) and named["sha256"] == hashlib.sha256(report.read_bytes()).hexdigest()
    assert environment["cwd"] == str(tmp_path) and environment["env"] == {"REGION": "eu"}


def test_why_names_the_script_edited_between_a_remote_success_and_failure(env, tmp_path):
    data_dir, _ = env
    report = tmp_path / "nightly.py"
    report.write_text("print('fine')\n")
    job = add(data_dir, "--name", "remote why", "--every", "1d", "--on", "main", "--cwd", str(tmp_path), "--",
              "python3", "nightly.py")  # fmt: skip
    good = final(data_dir, run(data_dir, job))
    assert good["status"] == "succeeded", good
    time.sleep(0.05)
    report.write_text("raise SystemExit('broken')\n")
    bad = final(data_dir, run(data_dir, job))
    assert bad["status"] == "failed", bad
    edited = datetime.fromtimestamp(report.stat().st_mtime).strftime("%H:%M")

    why = jobdesk(data_dir, "why", str(bad["id"]))
    assert why.returncode == 0, why.stderr
    assert why.stdout.splitlines()[1:] == [f"Changed since the last success (run #{good['id']}):",
                                           f"  • script nightly.py modified at {edited} (sha256 changed)"]
    shas = {run_id: r["environment"]["scripts"][0]["sha256"] for run_id, r in runs(data_dir).items()
            if run_id in (good["id"], bad["id"])}  # fmt: skip
    assert shas[good["id"]] != shas[bad["id"]]
