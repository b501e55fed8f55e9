"""The asking end of the control socket: find the socket, check who is behind it, send one
request, read one answer.

On Unix this is a plain `socket` (no Qt objects, so it also works from threads and needs no
QCoreApplication); Windows uses QLocalSocket for its named pipes. What a caller may do next
depends on the error:

- `InstanceUnreachable`: nothing was sent; ask again, or act on the store if the lock is free.
- `AnswerLost`: the request went out but no answer came back, so it may have been carried out.
- `UnsafeSocket` (jobs.control_socket): the socket or its listener is another user's. Nothing
  was sent; never ask again.

A full listen queue (EAGAIN, many clients at once) is retried with exponential backoff within
`connect_timeout`; `on_retry` counts those retries for tests and benchmarks.
"""

from __future__ import annotations

import os
import random
import socket
import time
from pathlib import Path
from typing import Any, Callable

from jobs import control_socket
from jobs.control_socket import InstanceUnreachable, UnsafeSocket
from jobs.paths import DataDir
from jobs.wire import MAX_LINE_BYTES, BadRequest, LineBuffer, decode, encode

__all__ = ["AnswerLost", "Backoff", "InstanceUnreachable", "UnsafeSocket", "request"]


class AnswerLost(InstanceUnreachable):
    """The request was sent, but the instance went away (or went quiet) before answering."""


class Backoff:
    """Exponential pauses with jitter, so clients that collided do not collide again."""

    def __init__(self, first: float = 0.02, cap: float = 0.5) -> None:
        self._delay = first
        self._cap = cap

    def pause(self, deadline: float | None = None) -> None:
        delay = self._delay * random.uniform(0.5, 1.0)
        if deadline is not None:
            delay = max(0.0, min(delay, deadline - time.monotonic()))
        time.sleep(delay)
        self._delay = min(self._cap, self._delay * 2)


def request(data_dir: DataDir, message: dict[str, Any], *, timeout: float | None = 30.0, connect_timeout: float = 5.0,
            on_retry: Callable[[], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Send one request to the running instance and wait for its answer (blocking)."""
    if os.name == "nt":
        return _request_pipe(data_dir, message, timeout, connect_timeout)
    sock, path = _connect(data_dir, connect_timeout, on_retry)
    with sock:
        control_socket.check_peer(sock, path)  # before a single byte of the request leaves
        sock.settimeout(timeout)
        send_error: OSError | None = None
        try:
            sock.sendall(encode(message))
        except OSError as exc:  # e.g. the server refused an oversized line and hung up: read why
            send_error = exc
        try:
            line = _read_line(sock)
        except TimeoutError:
            raise AnswerLost(f"no answer from the running Jobdesk within {timeout:.0f} s") from None
        except OSError:
            line = None
    if line is None:
        if send_error is not None:
            # Not all of the line went out, so it was never carried out (it has no newline).
            raise InstanceUnreachable(f"the running Jobdesk closed the connection: {send_error}")
        raise AnswerLost("the running Jobdesk closed the connection before answering")
    try:
        return decode(line)
    except BadRequest as exc:
        raise AnswerLost(f"unreadable answer from the running Jobdesk: {exc}") from None


def _connect(data_dir: DataDir, connect_timeout: float,
             on_retry: Callable[[], None] | None) -> tuple[socket.socket, Path]:  # fmt: skip
    deadline = time.monotonic() + connect_timeout
    backoff = Backoff()
    while True:
        busy = False
        for path in control_socket.candidates(data_dir):
            if not control_socket.socket_ready(path, data_dir):
                continue
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                sock.connect(os.fspath(path))
            except (BlockingIOError, TimeoutError):  # EAGAIN: its listen queue is full
                busy = True
            except OSError:  # refused: a socket file nobody listens on (a crashed instance)
                pass
            else:
                return sock, path
            sock.close()
        if not busy:
            raise InstanceUnreachable("no Jobdesk is listening")
        if time.monotonic() >= deadline:
            raise InstanceUnreachable(f"the running Jobdesk accepted no connection within {connect_timeout:.0f} s")
        if on_retry is not None:
            on_retry()
        backoff.pause(deadline)


def _read_line(sock: socket.socket) -> bytes | None:
    """The first line the server sends, or None if it closed the connection before one."""
    reader = LineBuffer(MAX_LINE_BYTES)
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return None
        lines = reader.feed(chunk)
        if lines:
            return lines[0]


def _request_pipe(data_dir: DataDir, message: dict[str, Any], timeout: float | None,
                  connect_timeout: float) -> dict[str, Any]:  # fmt: skip
    """Windows: QLocalSocket over a named pipe (no socket file, no peer check here)."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtNetwork import QLocalSocket

    if QCoreApplication.instance() is None:
        _request_pipe.app = QCoreApplication([])  # type: ignore[attr-defined]
    sock = QLocalSocket()
    sock.connectToServer(control_socket.pipe_name(data_dir))
    if not sock.waitForConnected(int(connect_timeout * 1000)):
        raise InstanceUnreachable(sock.errorString())
    try:
        sock.write(encode(message))
        sock.flush()
        reader = LineBuffer(MAX_LINE_BYTES)
        wait_ms = -1 if timeout is None else int(timeout * 1000)
        while True:
            if not sock.waitForReadyRead(wait_ms):
                if sock.state() != QLocalSocket.LocalSocketState.ConnectedState:
                    raise AnswerLost("the running Jobdesk closed the connection before answering")
                raise AnswerLost("no answer from the running Jobdesk")
            lines = reader.feed(bytes(sock.readAll().data()))
            if lines:
                return decode(lines[0])
    finally:
        sock.disconnectFromServer()
