"""The serving end of the control socket, for the process that holds the data directory's lock.

The window, `serve` and a foreground `jobdesk run` listen; the command line and a second window
ask (jobs.ipc_client). Protocol and bounds: jobs.wire. Where the socket lives and why both ends
check each other: jobs.control_socket. Requests are {"op": ...} (see jobs.control) plus "ping"
(who are you?) and "activate" (bring the window to the front). A "run" request with "wait":
true is answered when the run ends, without blocking the event loop.

A holder that cannot listen raises `SocketUnavailable`: it must not go on deaf, because the
command line would then wait for it in vain, or reach whoever listens there instead (issue 9,
item 1).
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from jobs import control_socket, wire
from jobs.control import ControlError, execute, run_json
from jobs.instance import describe_holder
from jobs.ipc_client import InstanceUnreachable, request
from jobs.log_file import stop_file_log
from jobs.model import RunRecord
from jobs.paths import DataDir
from jobs.service import JobService

__all__ = ["InstanceUnreachable", "IpcServer", "SocketUnavailable", "request"]

log = logging.getLogger(__name__)

# The kernel's queue of connections not yet accepted; Qt's default of 50 made 3 of 200
# simultaneous clients retry (issue 9, item 14). Linux caps it at net.core.somaxconn (4096).
LISTEN_BACKLOG = 1024
# Test-only: the operation after which the server exits, between saving and answering
# (tests/jobs/test_request_ids.py kills `serve` exactly there).
EXIT_BEFORE_REPLY_ENV = "JOBDESK_TEST_EXIT_BEFORE_REPLY"


class SocketUnavailable(RuntimeError):
    """The control socket cannot be listened on; the message says where and why."""


class IpcServer(QObject):
    """Serves requests for the instance that holds the data directory's lock.

    `refused` maps operations this holder does not carry out to the error it answers with
    (a foreground run does not start other runs). `backlog` and `max_line_bytes` are there
    for tests that need a small queue or a small line limit.
    """

    activation_requested = Signal()

    def __init__(self, service: JobService, data_dir: DataDir, mode: str, *, holder: str | None = None,
                 refused: Mapping[str, str] | None = None, backlog: int | None = None,
                 max_line_bytes: int = wire.MAX_LINE_BYTES) -> None:  # fmt: skip
        super().__init__()
        self._service = service
        self._data_dir = data_dir
        self._mode = mode
        self._holder = describe_holder(mode, os.getpid(), holder)
        self._refused = dict(refused or {})
        self._server = QLocalServer(self)
        backlog = LISTEN_BACKLOG if backlog is None else backlog
        self._server.setListenBacklogSize(backlog)
        self._server.setMaxPendingConnections(max(backlog, 30))
        self._max_line_bytes = max_line_bytes
        if os.name == "nt":  # the pipe's ACL; on Unix the private directory does this job
            self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._readers: dict[QLocalSocket, wire.LineBuffer] = {}
        self._waiting: dict[int, list[QLocalSocket]] = {}
        self.path: str | None = None
        self._server.newConnection.connect(self._accept)
        service.events.run_finished.connect(self._run_finished)

    @property
    def holder(self) -> str:
        return self._holder

    def listen(self) -> None:
        """Listen on the private place for this data directory, or raise SocketUnavailable."""
        if os.name == "nt":
            self._listen_at(control_socket.pipe_name(self._data_dir))
            return
        try:
            place = control_socket.choose_place(self._data_dir, lambda path: self._listen_at(str(path)))
        except control_socket.UnsafeSocket as exc:
            raise SocketUnavailable(f"cannot listen for commands: {exc}") from None
        os.chmod(place, 0o600)
        log.info("listening for commands on %s", place)

    def _listen_at(self, name: str) -> str | None:
        # Only the lock holder gets here, so a file already there is a dead instance's socket
        # (or a same-user stray): replace it.
        QLocalServer.removeServer(name)
        if self._server.listen(name):
            self.path = name
            return None
        if os.name == "nt":
            raise SocketUnavailable(f"cannot listen for commands on {name}: {self._server.errorString()}")
        return f"{name}: {self._server.errorString()}"

    def close(self) -> None:
        for sock in list(self._readers):  # let answers already written reach their clients
            if shiboken6.isValid(sock) and sock.bytesToWrite() > 0:
                sock.waitForBytesWritten(1000)
        self._server.close()  # also removes the socket file

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            if not self._same_user(sock):
                sock.abort()
                sock.deleteLater()
                continue
            self._readers[sock] = wire.LineBuffer(self._max_line_bytes)
            sock.readyRead.connect(lambda s=sock: self._read(s))
            sock.disconnected.connect(lambda s=sock: self._forget(s))

    @staticmethod
    def _same_user(sock: QLocalSocket) -> bool:
        if os.name == "nt":
            return True
        try:
            uid = control_socket.peer_uid_of_fd(int(sock.socketDescriptor()))
        except OSError as exc:
            log.warning("cannot check who connected to the control socket (%s): dropping the connection", exc)
            return False
        if uid is not None and uid != os.geteuid():
            log.warning("dropped a connection to the control socket from uid %d (only uid %d may ask)", uid, os.geteuid())
            return False
        return True

    def _forget(self, sock: QLocalSocket) -> None:
        if not shiboken6.isValid(sock):  # Qt deleted it already (server closing)
            return
        self._readers.pop(sock, None)
        for waiting in self._waiting.values():
            if sock in waiting:
                waiting.remove(sock)
        sock.deleteLater()

    def _read(self, sock: QLocalSocket) -> None:
        reader = self._readers.get(sock)
        if reader is None:
            return
        try:
            lines = reader.feed(bytes(sock.readAll().data()))
        except wire.LineTooLong as exc:
            self._readers.pop(sock, None)
            self._send(sock, {"ok": False, "error": f"{exc} (imports may be {wire.describe_size(wire.MAX_IMPORT_BYTES)})",
                              "exit_code": 2})  # fmt: skip
            sock.disconnectFromServer()
            return
        for line in lines:
            self._handle(sock, line)

    def _handle(self, sock: QLocalSocket, line: bytes) -> None:
        try:
            req = wire.decode(line)
        except wire.BadRequest as exc:
            self._send(sock, {"ok": False, "error": f"bad request: {exc}", "exit_code": 2})
            return
        op = req.get("op")
        if op == "ping":
            self._send(sock, {"ok": True, "result": {"pid": os.getpid(), "mode": self._mode, "holder": self._holder}})
            return
        if op == "activate":
            self.activation_requested.emit()
            self._send(sock, {"ok": True, "result": {"mode": self._mode, "holder": self._holder}})
            return
        if isinstance(op, str) and op in self._refused:
            self._send(sock, {"ok": False, "error": self._refused[op], "exit_code": 1})
            return
        try:
            result = execute(self._service, req)
        except ControlError as exc:
            self._send(sock, {"ok": False, "error": str(exc), "exit_code": exc.exit_code})
            return
        except Exception as exc:  # a bug: answer it instead of leaving the client hanging
            log.exception("request %r failed", op)
            self._send(sock, {"ok": False, "error": f"internal error: {exc}", "exit_code": 1})
            return
        if os.environ.get(EXIT_BEFORE_REPLY_ENV) == op:
            log.warning("%s=%s: exiting between saving and answering", EXIT_BEFORE_REPLY_ENV, op)
            stop_file_log()  # (that line, and those before it)
            os._exit(70)
        if op == "run" and req.get("wait"):
            self._waiting.setdefault(result["run_id"], []).append(sock)
            record = self._service.history.get(result["run_id"])
            if record is not None and record.status.is_final:  # already over
                self._run_finished(record)
            return
        self._send(sock, {"ok": True, "result": result})

    def _run_finished(self, record: RunRecord) -> None:
        if record.retried_by is not None and record.id in self._waiting:  # `run --wait` waits for the last attempt
            self._waiting.setdefault(record.retried_by, []).extend(self._waiting.pop(record.id))
            return
        for sock in self._waiting.pop(record.id, []):
            self._send(sock, {"ok": True, "result": {"run_id": record.id, "run": run_json(record)}})

    @staticmethod
    def _send(sock: QLocalSocket, answer: dict[str, Any]) -> None:
        if not shiboken6.isValid(sock) or sock.state() != QLocalSocket.LocalSocketState.ConnectedState:
            return  # the client gave up before the answer was ready
        sock.write(wire.encode(answer))
        sock.flush()

