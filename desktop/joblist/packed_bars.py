"""The Jobs table's recent-run strips, one `bytes` per job.

10,000 jobs' strips are 200,000 runs. As `RunBar` tuples (each with its own int and floats)
they were ~30 MiB of the window's memory; packed, 26 bytes a run, they are ~6 MiB. The table
unpacks a strip only to paint or describe a row on screen (20 runs: microseconds).
"""

from __future__ import annotations

import math
import struct
from typing import Iterable

from jobs.model import RunStatus
from jobs.run_stats import RunBar

_BAR = struct.Struct("<qddBB")  # id, started (epoch s), duration (s), status, slow; NaN: None
_STATUSES = tuple(RunStatus)
_STATUS_CODE = {status: code for code, status in enumerate(_STATUSES)}
_SLOW: tuple[str | None, ...] = (None, "long", "short")
_SLOW_CODE = {word: code for code, word in enumerate(_SLOW)}


def pack_bars(bars: Iterable[RunBar]) -> bytes:
    """A strip as bytes; a `slow` word other than long/short is kept as "long" (unusual)."""
    return b"".join(
        _BAR.pack(bar.id, _float(bar.started_at), _float(bar.duration), _STATUS_CODE[bar.status], _SLOW_CODE.get(bar.slow, 1))
        for bar in bars
    )


def unpack_bars(packed: bytes) -> tuple[RunBar, ...]:
    return tuple(RunBar(run_id, _STATUSES[status], _none(started), _none(duration), _SLOW[slow])
                 for run_id, started, duration, status, slow in _BAR.iter_unpack(packed))  # fmt: skip


def bar_count(packed: bytes) -> int:
    return len(packed) // _BAR.size


def _float(value: float | None) -> float:
    return math.nan if value is None else value


def _none(value: float) -> float | None:
    return None if math.isnan(value) else value
