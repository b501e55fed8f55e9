"""Talking to the running Jobdesk instance over a local socket (named pipe on Windows).

Messages are single lines of JSON. Requests: {"op": ..., ...} (see jobs.control) plus "ping"
and "activate" (bring the window to the front). Answers: {"ok": true, "result": {...}} or
{"ok": false, "error": "...", "exit_code": 2}. A "run" request with "wait": true is answered
when the run ends, without blocking the instance's event loop.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from typing import Any, Callable

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from jobs.control import ControlError, execute, run_json
from jobs.model import RunRecord
from jobs.paths import DataDir
from jobs.service import JobService

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 16 * 1024 * 1024


def server_name(data_dir: DataDir) -> str:
    """A short, per-user, per-directory name (Unix socket paths are limited to ~100 bytes)."""
    digest = hashlib.sha256(str(data_dir.root).encode()).hexdigest()[:16]
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "user"
    return f"jobdesk-{user}-{digest}"


class IpcServer(QObject):
    """Serves requests for the instance that holds the data directory's lock."""

    activation_requested = Signal()

    def __init__(self, service: JobService, data_dir: DataDir, mode: str) -> None:
        super().__init__()
        self._service = service
        self._mode = mode
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._buffers: dict[QLocalSocket, bytearray] = {}
        self._waiting: dict[int, list[QLocalSocket]] = {}
        self._name = server_name(data_dir)
        self._server.newConnection.connect(self._accept)
        service.events.run_finished.connect(self._run_finished)

    def listen(self) -> bool:
        # Only the lock holder gets here, so a leftover socket file is from a dead instance.
        QLocalServer.removeServer(self._name)
        if not self._server.listen(self._name):
            log.error("cannot listen on %s: %s", self._name, self._server.errorString())
            return False
        return True

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            self._buffers[sock] = bytearray()
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._forget(s))

    def _forget(self, sock: QLocalSocket) -> None:
        if not shiboken6.isValid(sock):  # Qt deleted it already (server closing)
            return
        self._buffers.pop(sock, None)
        for waiting in self._waiting.values():
            if sock in waiting:
                waiting.remove(sock)
        sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        buf = self._buffers.get(sock)
        if buf is None:
            return
        buf += bytes(sock.readAll().data())
        if len(buf) > MAX_REQUEST_BYTES:
            self._send(sock, {"ok": False, "error": "request too large", "exit_code": 2})
            sock.disconnectFromServer()
            return
        while b"\n" in buf:
            line, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            self._handle(sock, line)

    def _handle(self, sock: QLocalSocket, line: bytes) -> None:
        try:
            request = json.loads(line)
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError as exc:
            self._send(sock, {"ok": False, "error": f"bad request: {exc}", "exit_code": 2})
            return
        op = request.get("op")
        if op == "ping":
            self._send(sock, {"ok": True, "result": {"pid": os.getpid(), "mode": self._mode}})
            return
        if op == "activate":
            self.activation_requested.emit()
            self._send(sock, {"ok": True, "result": {"mode": self._mode}})
            return
        try:
            result = execute(self._service, request)
        except ControlError as exc:
            self._send(sock, {"ok": False, "error": str(exc), "exit_code": exc.exit_code})
            return
        except Exception as exc:  # a bug: answer it instead of leaving the client hanging
            log.exception("request %r failed", op)
            self._send(sock, {"ok": False, "error": f"internal error: {exc}", "exit_code": 1})
            return
        if op == "run" and request.get("wait"):
            self._waiting.setdefault(result["run_id"], []).append(sock)
            record = self._service.history.get(result["run_id"])
            if record is not None and record.status.is_final:  # already over
                self._run_finished(record)
            return
        self._send(sock, {"ok": True, "result": result})

    def _run_finished(self, record: RunRecord) -> None:
        for sock in self._waiting.pop(record.id, []):
            self._send(sock, {"ok": True, "result": {"run_id": record.id, "run": run_json(record)}})

    @staticmethod
    def _send(sock: QLocalSocket, answer: dict[str, Any]) -> None:
        sock.write(json.dumps(answer).encode() + b"\n")
        sock.flush()


class InstanceUnreachable(RuntimeError):
    pass


def request(data_dir: DataDir, message: dict[str, Any], *, timeout: float | None = 30.0,
            connect_timeout: float = 5.0) -> dict[str, Any]:
    """Send one request to the running instance and wait for its answer (blocking)."""
    sock = QLocalSocket()
    sock.connectToServer(server_name(data_dir))
    if not sock.waitForConnected(int(connect_timeout * 1000)):
        raise InstanceUnreachable(sock.errorString())
    try:
        sock.write(json.dumps(message).encode() + b"\n")
        sock.flush()
        buf = bytearray()
        wait_ms = -1 if timeout is None else int(timeout * 1000)
        while b"\n" not in buf:
            if not sock.waitForReadyRead(wait_ms):
                if sock.state() != QLocalSocket.LocalSocketState.ConnectedState:
                    raise InstanceUnreachable("the running Jobdesk closed the connection")
                raise InstanceUnreachable("no answer from the running Jobdesk")
            buf += bytes(sock.readAll().data())
        answer: dict[str, Any] = json.loads(bytes(buf).partition(b"\n")[0])
        return answer
    finally:
        sock.disconnectFromServer()


