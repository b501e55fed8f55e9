"""The control socket's protocol: one JSON object per line each way, with bounds.

Requests are {"op": ..., ...} (see jobs.control); answers {"ok": true, "result": {...}} or
{"ok": false, "error": "...", "exit_code": 2}. Everything a server reads is bounded, because a
request that cannot be parsed must get an error answer, never a hang or a crash (issue 9,
item 14): a line is at most MAX_LINE_BYTES, JSON nested deeper than Python's recursion limit
is refused, NaN/Infinity are refused, and the text must be UTF-8.

One import limit applies with or without a running instance (issue 9, item 11): the TOML text
of an import may be MAX_IMPORT_BYTES. The line limit is derived from it: JSON escaping (ASCII
only, `\\u0001` for a control character) at most sextuples a string, so any import within the
limit fits in one line.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

MiB = 1024 * 1024
MAX_IMPORT_BYTES = 64 * MiB
MAX_LINE_BYTES = 6 * MAX_IMPORT_BYTES + MiB


class BadRequest(ValueError):
    """The line is not a request; the message says why (answered with exit code 2)."""


class LineTooLong(BadRequest):
    pass


def encode(message: dict[str, Any]) -> bytes:
    """One line. ASCII-only JSON carries any Python string, lone surrogates included."""
    return json.dumps(message, separators=(",", ":"), allow_nan=False).encode("ascii") + b"\n"


def _no_constants(name: str) -> NoReturn:
    raise BadRequest(f"{name} is not allowed")


def decode(line: bytes) -> dict[str, Any]:
    """Parse one line into a JSON object, or raise BadRequest."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"not UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except RecursionError:
        raise BadRequest("nested too deeply") from None
    except BadRequest:
        raise
    except ValueError as exc:
        raise BadRequest(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest(f"expected a JSON object, got {type(value).__name__}")
    return value


class LineBuffer:
    """Splits a byte stream into lines, refusing a line longer than `limit`.

    Looks for the newline only in bytes it has not searched yet: rescanning the whole buffer
    on every read would be quadratic for a large import arriving in 64 KiB pieces.
    """

    def __init__(self, limit: int = MAX_LINE_BYTES) -> None:
        self._limit = limit
        self._buf = bytearray()
        self._searched = 0

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        lines = []
        start = 0
        while True:
            end = self._buf.find(b"\n", max(start, self._searched))
            if end < 0:
                break
            if end - start > self._limit:
                raise LineTooLong(f"request too large: over {describe_size(self._limit)} in one line")
            lines.append(bytes(self._buf[start:end]))
            start = end + 1
            self._searched = start
        if start:
            del self._buf[:start]
        self._searched = len(self._buf)
        if len(self._buf) > self._limit:
            raise LineTooLong(f"request too large: over {describe_size(self._limit)} in one line")
        return lines


def describe_size(size: int) -> str:
    return f"{size / MiB:.0f} MiB" if size % MiB == 0 else f"{size / MiB:.1f} MiB"


def import_size_problem(request: dict[str, Any]) -> str | None:
    """Why an import request is over the limit, or None (the same check in every path)."""
    text = request.get("toml")
    if request.get("op") != "import" or not isinstance(text, str):
        return None
    return import_bytes_problem(len(text.encode("utf-8", "surrogatepass")), request.get("source") or "<input>")


def import_bytes_problem(size: int, source: str) -> str | None:
    """Why `size` bytes of TOML from `source` are over the import limit, or None."""
    if size <= MAX_IMPORT_BYTES:
        return None
    return f"{source}: {describe_size(size)} of job definitions is over the import limit of {describe_size(MAX_IMPORT_BYTES)}"
