"""Desktop side: a remote run's output, written into the run's local log as it arrives.

The same files as a local run (jobs.runlog): one plain-text log in arrival order and the
`N.stderr-ranges` sidecar listing the byte ranges that came from stderr, so `jobdesk log`, the
window's output pane and history retention treat a remote run like any other. The worker
already capped the output (the run's `log_cap_bytes`); the runner notes a local run ends its
log with come from the outcome.

A desktop that restarts while the run goes on reads the run's stream again from its start:
`skip` is what the log already holds, and that much output is passed over.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import BinaryIO

from jobs.runlog import NOTE, Stream, ranges_path

log = logging.getLogger(__name__)


class RemoteLog:
    def __init__(self, path: Path, *, resume: bool = False) -> None:
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (0 if resume else os.O_TRUNC)
        self._file: BinaryIO | None = os.fdopen(os.open(path, flags, 0o600), "ab")
        self.size = path.stat().st_size
        self.skip = self.size if resume else 0
        self._ranges: BinaryIO | None = None
        if not resume:
            ranges_path(path).unlink(missing_ok=True)
        self._at_line_start = True
        self._failed = False

    def feed(self, text: str, stream: Stream) -> str:
        """Append `text`; returns the part that was new (not already in a resumed log)."""
        data = text.encode("utf-8", errors="replace")
        if self.skip:
            cut = min(self.skip, len(data))
            self.skip -= cut
            data = data[cut:]
            text = data.decode("utf-8", errors="replace")
        if not data:
            return ""
        start = self.size
        self._write(data)
        if stream == "stderr":
            self._note_range(start, self.size)
        self._at_line_start = data.endswith(b"\n")
        return text

    def close(self, notes: list[str], *, truncated_after: int | None = None, discarded: int = 0) -> None:
        """End the log like a local run's: the truncation line, then one line per note."""
        lines = []
        if truncated_after is not None:
            lines.append(f"\n{NOTE} output truncated after {truncated_after} bytes; {discarded} more bytes were discarded\n")
            self._at_line_start = True
        if notes and not self._at_line_start:
            lines.append("\n")
        lines += [f"{NOTE} {note}\n" for note in notes]
        self._write("".join(lines).encode())
        for file in (self._file, self._ranges):
            if file is not None:
                try:
                    file.close()
                except OSError as exc:
                    log.warning("cannot write run log %s: %s", self.path, exc)
        self._file = self._ranges = None

    def abandon(self) -> None:
        """Close the files without ending the log: the run goes on, a later start resumes it."""
        for file in (self._file, self._ranges):
            if file is not None:
                try:
                    file.close()
                except OSError:
                    pass
        self._file = self._ranges = None

    def _note_range(self, start: int, end: int) -> None:
        try:
            if self._ranges is None:
                fd = os.open(ranges_path(self.path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                self._ranges = os.fdopen(fd, "ab")
            self._ranges.write(f"{start} {end}\n".encode())  # readers merge touching ranges
            self._ranges.flush()
        except OSError as exc:
            log.warning("cannot write %s: %s", ranges_path(self.path), exc)

    def _write(self, data: bytes) -> None:
        if self._file is None or self._failed or not data:
            return
        try:
            self._file.write(data)
            self._file.flush()  # `jobdesk log --follow` and the window tail the file
            self.size += len(data)
        except OSError as exc:
            self._failed = True
            log.warning("cannot write run log %s: %s", self.path, exc)
