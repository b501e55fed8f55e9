"""`log`, `log --follow`, `stop` and `history` against a real `serve` (issue 8 item 8): the run's
output as it comes, a stop that kills the whole tree and ends the run `killed`, and running
rows with their elapsed time."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psutil
import pytest

from tests.jobs.test_serve import MAIN, history, jobdesk, start_serve, stop, wait_for

ENV = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}

# Prints one line, waits for the test to let it go on (a file appears), prints five more, fails
TICKER = (
    "import os, sys, time\nprint('tick 0', flush=True)\nwhile not os.path.exists(sys.argv[1]):\n    time.sleep(0.05)\n"
    "for i in range(1, 6):\n    print('tick', i, flush=True)\n    time.sleep(0.1)\nraise SystemExit(3)"
)
# A shell that starts a child that ignores TERM: only the KILL after the grace ends it
STUBBORN = "import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(\"child\", flush=True); time.sleep(120)'])\ntime.sleep(120)"


@pytest.fixture
def served(data_dir):
    data_dir.root.mkdir(parents=True)
    jobdesk(data_dir, "config", "kill_grace", "1")
    jobdesk(data_dir, "config", "max_concurrent", "1")  # a second run waits, queued
    proc = start_serve(data_dir)
    yield proc
    stop(proc)


def test_log_follow_prints_output_as_it_comes_and_exits_like_the_run(data_dir, served, tmp_path):
    go_on = tmp_path / "go-on"
    added = jobdesk(data_dir, "add", "--name", "ticker", "--every", "1d", "--", sys.executable, "-c", TICKER, str(go_on))
    assert added.returncode == 0, added.stderr
    started = jobdesk(data_dir, "run", "ticker")
    run_id = int(started.stdout.strip().split("#")[1])
    follower = subprocess.Popen([sys.executable, MAIN, "--data-dir", str(data_dir.root), "log", str(run_id), "--follow"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    first = follower.stdout.readline()  # arrives while the run is still going
    assert first == "tick 0\n"
    assert history(data_dir)[0]["status"] == "running" and follower.poll() is None
    go_on.touch()
    rest, err = follower.communicate(timeout=60)
    assert follower.returncode == 3  # the job's own exit code, as with run --wait
    assert (first + rest).splitlines() == [f"tick {i}" for i in range(6)]
    assert err.startswith(f"run #{run_id} failed in ") and err.endswith(", exit code 3\n")
    printed = jobdesk(data_dir, "log", str(run_id))
    assert printed.returncode == 0 and printed.stdout.splitlines() == [f"tick {i}" for i in range(6)]


def test_stop_kills_the_tree_and_the_run_ends_killed(data_dir, served):
    assert jobdesk(data_dir, "add", "--name", "stubborn", "--every", "1d", "--", sys.executable, "-c", STUBBORN).returncode == 0
    run_id = int(jobdesk(data_dir, "run", "stubborn").stdout.strip().split("#")[1])
    wait_for(lambda: "child" in jobdesk(data_dir, "log", str(run_id)).stdout)
    tree = psutil.Process(served.pid).children(recursive=True)
    assert len(tree) >= 2
    assert jobdesk(data_dir, "add", "--name", "waiter", "--every", "1d", "--", "true").returncode == 0
    queued_id = int(jobdesk(data_dir, "run", "waiter").stdout.strip().split("#")[1])
    rows = jobdesk(data_dir, "history").stdout.splitlines()
    line = next(row for row in rows if row.startswith(f"{run_id} "))
    assert "running" in line and "s+" in line  # the time so far, not "-"
    assert "queued" in next(row for row in rows if row.startswith(f"{queued_id} "))
    dropped = jobdesk(data_dir, "stop", str(queued_id))
    assert (dropped.returncode, dropped.stdout) == (0, f"stopped run #{queued_id} (killed before it started)\n"), dropped.stderr
    stopped = jobdesk(data_dir, "stop", str(run_id))
    assert stopped.returncode == 0 and stopped.stdout.startswith(f"stopped run #{run_id} (killed after "), stopped.stderr
    [run] = [r for r in history(data_dir) if r["id"] == run_id]
    assert run["status"] == "killed" and run["error"] == "killed: stopped by the user"
    gone, alive = psutil.wait_procs(tree, timeout=10)
    assert alive == []
    again = jobdesk(data_dir, "stop", str(run_id))
    assert again.returncode == 2 and again.stderr == f"jobdesk: run #{run_id} has already ended (killed); nothing to stop\n"


def test_run_wait_over_the_socket_says_why_a_program_could_not_start(data_dir, served):
    assert jobdesk(data_dir, "add", "--name", "typo", "--every", "1d", "--", "pyhton3").returncode == 0
    result = jobdesk(data_dir, "run", "typo", "--wait")
    assert result.returncode == 1
    assert result.stdout.endswith("failed: could not start: program not found: 'pyhton3'\n") and "None" not in result.stdout
    shown = json.loads(jobdesk(data_dir, "show", "typo", "--json").stdout)
    assert shown["last_status"] == "failed"
    ended = jobdesk(data_dir, "stop", "1")
    assert ended.returncode == 2 and ended.stderr == "jobdesk: run #1 has already ended (failed); nothing to stop\n"
