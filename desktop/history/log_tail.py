"""Read the end of a run's log file cheaply, however large the file is (NOTES item 31).

A 13 MB log froze other schedulers' viewers; here only the last `TAIL_BYTES` are ever read: one
seek to the end minus the tail, one read, then the partial first line is dropped so the view
starts at a line boundary. Bytes are decoded as UTF-8 with replacement characters, never an
exception. Qt-free, so it is trivially testable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TAIL_BYTES = 256 * 1024


@dataclass(frozen=True)
class LogTail:
    """What `read_tail` found.

    text: the decoded tail (the whole file when it is small).
    total_bytes: the file's size when read.
    shown_bytes: how many bytes `text` came from.
    end_offset: the file position just after those bytes: a live tail reads on from here.
    missing: the file does not exist (the run never started, or history retention removed it).
    error: why the file could not be read (permissions...), else None.
    """

    text: str
    total_bytes: int
    shown_bytes: int
    end_offset: int = 0
    missing: bool = False
    error: str | None = None
    data: bytes = b""  # the bytes `text` was decoded from (they start at end_offset - shown_bytes)

    @property
    def cut(self) -> bool:
        return self.shown_bytes < self.total_bytes


def read_tail(path: Path | str | None, max_bytes: int = TAIL_BYTES) -> LogTail:
    """The last `max_bytes` of `path` (fewer: it starts after the first newline in that window)."""
    if path is None:
        return LogTail("", 0, 0, missing=True)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            # One byte more than the window: when it is a newline the window starts on a line.
            start = max(0, size - max_bytes - 1)
            handle.seek(start)
            data = handle.read(size - start)
    except FileNotFoundError:
        return LogTail("", 0, 0, missing=True)
    except OSError as exc:
        return LogTail("", 0, 0, error=f"cannot read {path}: {exc.strerror or exc}")
    end = start + len(data)
    if start > 0:
        newline = data.find(b"\n")
        # A window without any newline (one huge line) is shown as it is rather than as nothing.
        data = data[newline + 1 :] if 0 <= newline < len(data) - 1 else data[1:]
    partial = incomplete_utf8_suffix(data)  # a character still being written: read it next time
    if partial:
        data, end = data[:-partial], end - partial
    return LogTail(data.decode("utf-8", errors="replace"), max(size, end), len(data), end, data=data)


def read_more(path: Path | str, offset: int, max_bytes: int = TAIL_BYTES) -> tuple[bytes, int] | None:
    """Bytes of `path` after `offset` (at most `max_bytes`) and the file's size; None when the
    file is gone or unreadable. A caller that gets exactly `max_bytes` should re-read the tail."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size <= offset:
                return b"", size
            handle.seek(offset)
            return handle.read(min(size - offset, max_bytes)), size
    except OSError:
        return None


def incomplete_utf8_suffix(data: bytes) -> int:
    """How many bytes at the end of `data` start a UTF-8 character that is not complete yet."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # not a continuation byte: the start of the last character
            needed = 2 if byte & 0xE0 == 0xC0 else 3 if byte & 0xF0 == 0xE0 else 4 if byte & 0xF8 == 0xF0 else 1
            return back if needed > back else 0
    return 0
