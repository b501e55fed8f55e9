"""Which text of a run's log came from stderr, for the output pane, live while the run goes on.

The log is one plain file in arrival order; the runner lists the stderr stretches in a sidecar
(`jobs.runlog`: `stderr_ranges`, `split_streams`). The sidecar is written a little after the
log: a stderr stretch that is still growing is added to it when the runner next passes output on
(every ~100 ms while the run writes) or when the stretch ends. So the end of what was just read
may be stderr that the sidecar does not list yet.

`LogStreams` therefore keeps the bytes it cannot be sure of yet (those after the last listed
stderr byte, read less than `SETTLE_S` ago, while the run goes on; at most `PROVISIONAL_MAX`) apart: they are shown at once
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
# At most this much stays provisional (shown again at every read): a program writing 50 MiB a
# second would otherwise have the viewer re-insert megabytes ten times a second. Past it, the
# oldest bytes settle with the ranges known then (a stderr stretch the runner has not listed
# after 16 KiB more output would show as stdout: only for such a fast writer).
PROVISIONAL_MAX = 16 * 1024

Piece = tuple[Stream, str]


@dataclass
class Split:
    """What the view does with one read: drop the provisional end it shows when `replace`, add
    `text`, and remember that its last `provisional` characters may change at the next read."""

    text: list[Piece] = field(default_factory=list)
    provisional: int = 0
    replace: bool = False


class LogStreams:
    """Follows one log from `start` (a byte offset at a line start) on.

    Two decoder states per stream: `_settled` after the settled bytes, `_shown` after every
    byte shown. While the sidecar has not changed, what is shown for the pending bytes is still
    right, so a read only adds its own bytes (the common case: a program writing stdout); when
    it has changed, the pending bytes are shown again, split by the new ranges.
    """

    def __init__(self, log_path: Path, start: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._path = log_path
        self._clock = clock
        self.settled = start  # bytes before this offset are shown for good
        self._pending = bytearray()  # bytes from `settled` on, read but not settled
        self._reads: deque[tuple[float, int]] = deque()  # (when read, end offset) of pending reads
        self._settled = _decoders()
        self._shown = _decoders()
        self._ranges: list[tuple[int, int]] = []
        self._ranges_size = -1
        self._shown_with: list[tuple[int, int]] | None = None  # the ranges the shown text was split by

    @property
    def end(self) -> int:
        """The offset after the last byte read."""
        return self.settled + len(self._pending)

    def ranges(self) -> list[tuple[int, int]]:
        """The stderr ranges, read again only when the sidecar has grown (the same list otherwise)."""
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
        now, offset = self._clock(), self.end
        if data:
            self._pending += data
            self._reads.append((now, self.end))
        ranges = self.ranges()
        known = ranges[-1][1] if ranges else 0  # every stderr byte before this is listed
        settle_to = self.end if final else max(known, self._settled_by_age(now), self.end - PROVISIONAL_MAX)
        settle_to = min(max(settle_to, self.settled), self.end)
        out = Split()
        same = ranges is self._shown_with
        if same:  # what is shown is still right: add this read's bytes only
            out.text = _decode(self._shown, data, offset, ranges)
        cut = settle_to - self.settled
        if cut:
            settled_text = _decode(self._settled, bytes(self._pending[:cut]), self.settled, ranges)
            del self._pending[:cut]
            self.settled = settle_to
            while self._reads and self._reads[0][1] <= self.settled:
                self._reads.popleft()
        else:
            settled_text = []
        if same:
            saved = _states(self._settled)
            out.provisional = sum(len(text) for _, text in _decode(self._settled, bytes(self._pending), self.settled, ranges))
            _restore(self._settled, saved)
        else:  # show the pending bytes again, split by the ranges as they are now
            _restore(self._shown, _states(self._settled))
            provisional = _decode(self._shown, bytes(self._pending), self.settled, ranges)
            out.text, out.provisional, out.replace = _joined(settled_text + provisional), sum(len(t) for _, t in provisional), True
            self._shown_with = ranges
        return out

    def _settled_by_age(self, now: float) -> int:
        """The end of the newest read old enough for the sidecar to list its stderr."""
        settled = self.settled
        for when, end in self._reads:
            if now - when < SETTLE_S:
                break
            settled = end
        return settled


Decoders = dict[Stream, "codecs.IncrementalDecoder"]


def _decoders() -> Decoders:
    return {stream: codecs.getincrementaldecoder("utf-8")(errors="replace") for stream in STREAMS}


def _states(decoders: Decoders) -> dict[Stream, tuple[bytes, int]]:
    return {stream: decoder.getstate() for stream, decoder in decoders.items()}


def _restore(decoders: Decoders, states: dict[Stream, tuple[bytes, int]]) -> None:
    for stream, decoder in decoders.items():
        decoder.setstate(states[stream])


def _decode(decoders: Decoders, data: bytes, offset: int, ranges: list[tuple[int, int]]) -> list[Piece]:
    """`data` (from `offset` on) as (stream, text) pieces, each stream through its own decoder."""
    return _joined([(stream, decoders[stream].decode(part)) for stream, part in split_streams(data, offset, ranges)])


def _joined(pieces: list[Piece]) -> list[Piece]:
    out: list[Piece] = []
    for stream, text in pieces:
        if not text:
            continue
        if out and out[-1][0] == stream:
            out[-1] = (stream, out[-1][1] + text)
        else:
            out.append((stream, text))
    return out
