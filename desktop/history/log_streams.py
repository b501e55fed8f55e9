"""Which text of a run's log came from stderr, for the output pane, live while the run goes on.

The log is one plain file in arrival order; the runner lists the stderr stretches in a sidecar
(`jobs.runlog`: `stderr_ranges`, `split_streams`). The sidecar is written a little after the
log: a stderr stretch that is still growing is added to it when the runner next passes output on
(every ~100 ms while the run writes) or when the stretch ends. So the end of what was just read
may be stderr that the sidecar does not list yet.

`LogStreams` therefore keeps the bytes it cannot be sure of yet (those after the last listed
stderr byte, read less than `SETTLE_S` ago, while the run goes on) apart: they are shown at once
as `provisional` text, and shown again, split by the sidecar as it then is, at the next read,
until they settle. Settled text is decoded once, per stream (a UTF-8 character split across two
pipe reads with the other stream's bytes between is rebuilt, as the runner does). Qt-free.
"""

from __future__ import annotations

import codecs
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jobs.runlog import STREAMS, Stream, ranges_path, split_streams, stderr_ranges

SETTLE_S = 1.0  # the sidecar lags the log by ~0.1-0.2 s; a wide margin for a loaded machine

Piece = tuple[Stream, str]


@dataclass
class Split:
    """What one read adds: `settled` text is final; `provisional` replaces the last one."""

    settled: list[Piece] = field(default_factory=list)
    provisional: list[Piece] = field(default_factory=list)


class LogStreams:
    """Follows one log from `start` (a byte offset at a line start) on."""

    def __init__(self, log_path: Path, start: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._path = log_path
        self._clock = clock
        self.settled = start  # bytes before this offset are shown for good
        self._pending = bytearray()  # bytes from `settled` on, read but not settled
        self._reads: deque[tuple[float, int]] = deque()  # (when read, end offset) of pending reads
        self._decoders = {stream: codecs.getincrementaldecoder("utf-8")(errors="replace") for stream in STREAMS}
        self._ranges: list[tuple[int, int]] = []
        self._ranges_size = -1

    @property
    def end(self) -> int:
        """The offset after the last byte read."""
        return self.settled + len(self._pending)

    def ranges(self) -> list[tuple[int, int]]:
        """The stderr ranges, read again only when the sidecar has grown."""
        try:
            size = ranges_path(self._path).stat().st_size
        except OSError:
            size = 0
        if size != self._ranges_size:
            self._ranges_size = size
            self._ranges = stderr_ranges(self._path)
        return self._ranges

    def feed(self, data: bytes, *, final: bool) -> Split:
        """Add `data` (the log's bytes from `end` on). `final`: the run has ended and the log is
        complete, so everything settles now."""
        now = self._clock()
        if data:
            self._pending += data
            self._reads.append((now, self.end))
        ranges = self.ranges()
        known = ranges[-1][1] if ranges else 0  # every stderr byte before this is listed
        settle_to = self.end if final else max(known, self._settled_by_age(now))
        settle_to = min(max(settle_to, self.settled), self.end)
        cut = settle_to - self.settled
        out = Split()
        if cut:
            out.settled = self._decode(bytes(self._pending[:cut]), self.settled, ranges, keep_state=True)
            del self._pending[:cut]
            self.settled = settle_to
            while self._reads and self._reads[0][1] <= self.settled:
                self._reads.popleft()
        if self._pending:
            out.provisional = self._decode(bytes(self._pending), self.settled, ranges, keep_state=False)
        return out

    def _settled_by_age(self, now: float) -> int:
        """The end of the newest read old enough for the sidecar to list its stderr."""
        settled = self.settled
        for when, end in self._reads:
            if now - when < SETTLE_S:
                break
            settled = end
        return settled

    def _decode(self, data: bytes, offset: int, ranges: list[tuple[int, int]], *, keep_state: bool) -> list[Piece]:
        saved = {stream: decoder.getstate() for stream, decoder in self._decoders.items()}
        pieces: list[Piece] = []
        for stream, part in split_streams(data, offset, ranges):
            text = self._decoders[stream].decode(part)
            if not text:
                continue
            if pieces and pieces[-1][0] == stream:
                pieces[-1] = (stream, pieces[-1][1] + text)
            else:
                pieces.append((stream, text))
        if not keep_state:  # provisional: decoded again from the same state next time
            for stream, decoder in self._decoders.items():
                decoder.setstate(saved[stream])
        return pieces
