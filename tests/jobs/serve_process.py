"""Helpers for tests that run `jobdesk` and `jobdesk serve` as real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

from jobs.ipc_client import InstanceUnreachable, request
from jobs.paths import DataDir

MAIN = str(Path(__file__).resolve().parents[2] / "main.py")


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def jobdesk(data_dir: DataDir, *args: str, timeout: float = 60, env: dict[str, Any] | None = None,
            input: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run([sys.executable, MAIN, "--data-dir", str(data_dir.root), *args], capture_output=True,
                          text=True, timeout=timeout, env=child_env(env), input=input)  # fmt: skip


def ping(data_dir: DataDir) -> dict[str, Any] | None:
    """The ping answer of whatever Jobdesk listens for `data_dir`, or None."""
    try:
        answer = request(data_dir, {"op": "ping"}, timeout=5.0, connect_timeout=0.5)
    except InstanceUnreachable:
        return None
    return answer.get("result")


def start_serve(data_dir: DataDir, env: dict[str, Any] | None = None, timeout: float = 30) -> subprocess.Popen[str]:
    """A `serve` process, returned once it answers on its control socket."""
    proc = subprocess.Popen([sys.executable, MAIN, "--data-dir", str(data_dir.root), "serve"], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env(env))  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.communicate()}")
        answer = ping(data_dir)
        if answer and answer.get("mode") == "serve" and answer.get("pid") == proc.pid:
            return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"serve did not start: {proc.communicate()}")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def history(data_dir: DataDir, *args: str) -> list[dict[str, Any]]:
    result = jobdesk(data_dir, "history", "--json", *args)
    assert result.returncode == 0, result.stderr
    runs: list[dict[str, Any]] = json.loads(result.stdout)
    return runs


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")
