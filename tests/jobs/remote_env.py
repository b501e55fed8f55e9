"""Real servers for the remote-run tests: a `redis-server` on 127.0.0.1 and a free port, and
real `jobdesk worker` processes (main.py) that cannot import PySide6.

Every worker runs with a PySide6 package first on its PYTHONPATH that raises ImportError: a
worker that imported Qt anywhere would fail its runs, so each remote test also proves that a
worker machine needs no Qt (issue 11).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from jobs.remote import registry
from jobs.remote.celery_app import redis_client

MAIN = str(Path(__file__).resolve().parents[2] / "main.py")
NO_QT = 'raise ImportError("a Jobdesk worker must not import PySide6")\n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_path() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise AssertionError("redis-server is missing: `python3 dev.py` installs it (apt-get install redis-server)")
    return found


class RedisServer:
    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"redis-{self.port}.log", "ab") as out:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                [redis_server_path(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                 "no", "--dir", str(self.folder)],
                stdout=out, stderr=subprocess.STDOUT,
            )
        client = redis_client(self.url, socket_timeout=1.0)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return self
            except Exception:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise AssertionError(f"redis-server did not start on port {self.port}")
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: a crash, everything in memory lost."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def no_qt_path(folder: Path) -> str:
    package = folder / "no-qt" / "PySide6"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(NO_QT)
    return str(package.parent)


class Worker:
    """A `jobdesk worker` process for one pool."""

    def __init__(self, url: str, pool: str, folder: Path, concurrency: int = 2, state: Path | None = None) -> None:
        self.url = url
        self.pool = pool
        self.folder = folder
        self.concurrency = concurrency
        self.state = state or folder / f"worker-state-{pool}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.output: Path = folder / f"worker-{pool}-{time.monotonic_ns()}.log"

    def start(self, timeout: float = 30.0) -> "Worker":
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "JOBDESK_WORKER_STATE": str(self.state),
               "PYTHONPATH": os.pathsep.join([no_qt_path(self.folder), *filter(None, [os.environ.get("PYTHONPATH")])])}
        env.pop("QT_QPA_PLATFORM", None)
        with open(self.output, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, MAIN, "worker", "--broker", self.url, "--pool", self.pool, "--concurrency",
                 str(self.concurrency)],
                stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )
        client = redis_client(self.url, socket_timeout=1.0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if any(w.pid == self.proc.pid for w in registry.read(client).workers):
                    return self
            except Exception:
                pass
            time.sleep(0.1)
        raise AssertionError(f"worker did not write a heartbeat in {timeout:g}s:\n{self.log()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def log(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def kill9(self) -> None:
        """SIGKILL to the worker's main process only (its pool processes die with it)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # warm shutdown: finishes its runs first
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def client_of(url: str) -> Any:
    return redis_client(url, socket_timeout=2.0)
