"""A run's output on disk: one plain-text log in arrival order, plus which bytes came from stderr.

The job's stdout and stderr arrive on separate pipes so that stderr can be shown apart and its
last lines kept for notifications (`LogSink.stderr_tail`). Both go into one log file, in the
order the reader received them (the order they were written whenever Jobdesk keeps up; two
writes a few microseconds apart on different pipes can swap). The log stays plain text a user
can open anywhere; the stderr parts are listed in a sidecar file, `N.stderr-ranges` beside
`N.log`: one line "START END" per stderr stretch (byte offsets into the log, END exclusive;
lines may overlap or repeat a stretch that grew, readers take the union; `stderr_ranges`).

The log keeps the first `cap` bytes; the rest is counted and dropped (NOTES items 20, 31).
Runner notes (truncation, leftovers, errors) go at the end, prefixed `[jobdesk]`, in neither
stream.
"""

from __future__ import annotations

import codecs
import logging
import os
import selectors
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, BinaryIO, Literal

log = logging.getLogger(__name__)

Stream = Literal["stdout", "stderr"]
STREAMS: tuple[Stream, Stream] = ("stdout", "stderr")
NOTE = "[jobdesk]"
RANGES_SUFFIX = ".stderr-ranges"
TAIL_LINES = 20
_TAIL_BYTES = 16 * 1024  # stderr kept in memory for the tail (also past the log cap)
_TAIL_LINE_CHARS = 500
_MAX_RANGE_LINES = 100_000  # past this, later stderr shows as ordinary output
_CHUNK = 64 * 1024


def ranges_path(log_path: Path) -> Path:
    return log_path.with_suffix(RANGES_SUFFIX)


def stderr_ranges(log_path: Path) -> list[tuple[int, int]]:
    """The merged byte ranges of `log_path` that came from stderr (empty if none or unknown)."""
    try:
        text = ranges_path(log_path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    spans = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit() and int(parts[0]) < int(parts[1]):
            spans.append((int(parts[0]), int(parts[1])))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def split_streams(data: bytes, offset: int, ranges: list[tuple[int, int]]) -> list[tuple[Stream, bytes]]:
    """Cut `data` (the log's bytes from `offset` on) into (stream, bytes) pieces by `ranges`."""
    pieces: list[tuple[Stream, bytes]] = []
    position, end = offset, offset + len(data)
    for start, stop in ranges:
        if stop <= position or start >= end:
            continue
        if start > position:
            pieces.append(("stdout", data[position - offset:start - offset]))
            position = start
        cut = min(stop, end)
        pieces.append(("stderr", data[position - offset:cut - offset]))
        position = cut
    if position < end:
        pieces.append(("stdout", data[position - offset:]))
    return pieces


class LogSink:
    """The run's log file (capped), its stderr ranges, the stderr tail and the decoded text
    waiting for on_output. Fed by the reader threads, read and closed by the run thread."""

    def __init__(self, path: Path, cap: int, decode: bool) -> None:
        self._file = _open_private(path, truncate=True)
        self._ranges_path = ranges_path(path)
        self._ranges: BinaryIO | None = None
        self._cap = cap
        self._decoders = {
            stream: codecs.getincrementaldecoder("utf-8")(errors="replace") for stream in STREAMS
        } if decode else None
        self._lock = threading.Lock()
        self._pending: list[tuple[Stream, str]] = []
        self._at_line_start = True
        self._closed = False
        self._write_failed = False
        self._kept = 0  # bytes of output in the log
        self._open_range: list[int] | None = None  # [start, end] of the stderr stretch being written
        self._range_written_to = -1  # the end of the open stretch as last written to the ranges file
        self._range_lines = 0
        self._tail = bytearray()
        self.total = 0  # bytes the process wrote, kept or not

    @property
    def truncated(self) -> bool:
        return self.total > self._cap

    def feed(self, chunk: bytes, stream: Stream = "stdout") -> None:
        with self._lock:
            if self._closed:  # the run gave up waiting for the pipes: drain and drop
                return
            if stream == "stderr":
                self._tail += chunk
                del self._tail[:-_TAIL_BYTES]
            before = self.total
            self.total += len(chunk)
            kept = chunk[: max(0, self._cap - before)]
            if kept:
                self._note_stream(stream, len(kept))
                self._write(kept)
                self._kept += len(kept)
                self._at_line_start = kept.endswith(b"\n")
                if self._decoders is not None:
                    text = self._decoders[stream].decode(kept)
                    if self._pending and self._pending[-1][0] == stream:
                        self._pending[-1] = (stream, self._pending[-1][1] + text)
                    elif text:
                        self._pending.append((stream, text))
            if self.truncated and before <= self._cap:
                self._end_range()
                # The byte count of the discarded rest is appended to this line by close().
                self._write(f"\n{NOTE} output truncated after {self._cap} bytes".encode())

    def take_text(self) -> list[tuple[Stream, str]]:
        """The decoded output since the last call, as (stream, text) pieces in order."""
        with self._lock:
            pieces = [(stream, text) for stream, text in self._pending if text]
            self._pending.clear()
            self._flush_range()  # a live viewer of the file sees the stderr stretch grow
            return pieces

    def stderr_tail(self) -> str | None:
        """The last TAIL_LINES lines of stderr (None if it wrote nothing)."""
        with self._lock:
            data = bytes(self._tail)
        if not data.strip():
            return None
        lines = data.decode("utf-8", errors="replace").rstrip("\n").splitlines()[-TAIL_LINES:]
        return "\n".join(line[:_TAIL_LINE_CHARS] for line in lines)

    def close(self, notes: Iterable[str]) -> None:
        """Finish the log with the runner's notes; later output is ignored."""
        with self._lock:
            self._closed = True
            if self._decoders is not None:
                for stream in STREAMS:
                    rest = self._decoders[stream].decode(b"", final=True)
                    if rest:
                        self._pending.append((stream, rest))
            self._end_range()
            lines = [f"{NOTE} {note}\n" for note in notes]
            if self.truncated:
                lines.insert(0, f"; {self.total - self._cap} more bytes were discarded\n")
            elif lines and not self._at_line_start:
                lines.insert(0, "\n")
            self._write("".join(lines).encode())
            for file in (self._file, self._ranges):
                if file is not None:
                    try:
                        file.close()
                    except OSError as exc:
                        log.warning("cannot write run log %s: %s", file.name, exc)

    # --- stderr ranges (caller holds the lock) ---------------------------------------------

    def _note_stream(self, stream: Stream, size: int) -> None:
        if stream == "stdout":
            self._end_range()
        elif self._open_range is not None and self._open_range[1] == self._kept:
            self._open_range[1] += size
        else:
            self._end_range()
            self._open_range = [self._kept, self._kept + size]

    def _end_range(self) -> None:
        self._flush_range()
        self._open_range = None

    def _flush_range(self) -> None:
        span = self._open_range
        if span is None or self._range_lines >= _MAX_RANGE_LINES or span[1] == self._range_written_to:
            return
        try:
            if self._ranges is None:
                self._ranges = _open_private(self._ranges_path, truncate=True)
            self._ranges.write(f"{span[0]} {span[1]}\n".encode())
            self._ranges.flush()
            self._range_lines += 1
        except OSError as exc:
            log.warning("cannot write %s: %s", self._ranges_path, exc)
            self._range_lines = _MAX_RANGE_LINES
        self._range_written_to = span[1]

    def _write(self, data: bytes) -> None:
        if self._write_failed or not data:
            return
        try:
            self._file.write(data)
            self._file.flush()  # the log viewer tails the file while the run goes on
        except OSError as exc:  # e.g. disk full: keep draining the pipes, stop logging
            self._write_failed = True
            log.warning("cannot write run log %s: %s", self._file.name, exc)


def drain(pipes: dict[Stream, IO[bytes]], sink: LogSink) -> None:
    """Reader thread: move everything from the pipes into the sink until both are at end of file.

    One thread waits on both pipes and, when both have data, reads stdout first: a program that
    prints its progress and then fails writes in that order, and separate reader threads were
    seen to swap such a pair. Windows cannot wait on pipes this way: a thread per pipe there.
    """
    if sys.platform == "win32":
        threads = [threading.Thread(target=_drain_one, args=(pipe, sink, stream), daemon=True)
                   for stream, pipe in pipes.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return
    open_pipes = dict(pipes)
    try:
        with selectors.DefaultSelector() as selector:
            for stream, pipe in open_pipes.items():
                selector.register(pipe, selectors.EVENT_READ, stream)
            while open_pipes:
                ready = {key.data for key, _ in selector.select()}
                for stream in STREAMS:
                    if stream in ready:
                        chunk = os.read(open_pipes[stream].fileno(), _CHUNK)
                        if chunk:
                            sink.feed(chunk, stream)
                        else:
                            selector.unregister(open_pipes[stream])
                            open_pipes.pop(stream).close()
    finally:
        for pipe in open_pipes.values():
            pipe.close()


def _drain_one(pipe: IO[bytes], sink: LogSink, stream: Stream) -> None:
    try:
        while chunk := os.read(pipe.fileno(), _CHUNK):
            sink.feed(chunk, stream)
    finally:
        pipe.close()


def _open_private(path: Path, truncate: bool) -> BinaryIO:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else 0) | getattr(os, "O_BINARY", 0)
    return os.fdopen(os.open(path, flags, 0o600), "wb")
