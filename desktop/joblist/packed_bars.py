"""The Jobs table's recent-run strips, one `bytes` per job.

10,000 jobs' strips are 200,000 runs. As `RunBar` tuples (each with its own int and floats)
they were ~30 MiB of the window's memory; packed, 26 bytes a run, they are ~6 MiB. The table
unpacks a strip only to paint or describe a row on screen (20 runs: microseconds).
"""

from __future__ import annotations

import math
import struct
from typing import Any, Iterable

from jobs.model import RunStatus
from jobs.run_stats import STRIP_RUNS, RunBar

_BAR = struct.Struct("<qddBB")  # id, started (epoch s), duration (s), status, slow; NaN: None
_STATUSES = tuple(RunStatus)
_STATUS_CODE = {status: code for code, status in enumerate(_STATUSES)}
_VALUE_CODE = {status.value: code for code, status in enumerate(_STATUSES)}
_SLOW: tuple[str | None, ...] = (None, "long", "short")
_SLOW_CODE = {word: code for code, word in enumerate(_SLOW)}


def pack_bars(bars: Iterable[RunBar]) -> bytes:
    """A strip as bytes; a `slow` word other than long/short is kept as "long" (unusual)."""
    return b"".join(
        _BAR.pack(bar.id, _float(bar.started_at), _float(bar.duration), _STATUS_CODE[bar.status], _SLOW_CODE.get(bar.slow, 1))
        for bar in bars
    )


def pack_rows(rows: Iterable[tuple[Any, ...]], limit: int = STRIP_RUNS) -> dict[str, bytes]:
    """Each job's newest `limit` runs, oldest first, from `jobs.run_stats.recent_run_rows`
    (job id, run id, status value, started, ended, slow): packed as they stream in, so no
    tuple per run is ever held for all jobs at once."""
    growing: dict[str, bytearray] = {}
    for job_id, run_id, status, started, ended, slow in rows:
        duration = max(0.0, ended - started) if started is not None and ended is not None else None
        packed = _BAR.pack(int(run_id), _float(started), _float(duration), _VALUE_CODE[status], _SLOW_CODE.get(slow, 1))
        growing.setdefault(job_id, bytearray()).extend(packed)
    return {job_id: b"".join(_by_run_id(data)[-limit:]) for job_id, data in growing.items()}


def _by_run_id(data: bytearray) -> list[bytes]:
    """The packed runs of `data`, each its own bytes, oldest first."""
    size = _BAR.size
    return sorted((bytes(data[at:at + size]) for at in range(0, len(data), size)), key=_run_id)


def _run_id(record: bytes) -> int:
    return int(_BAR.unpack(record)[0])


def unpack_bars(packed: bytes) -> tuple[RunBar, ...]:
    return tuple(RunBar(run_id, _STATUSES[status], _none(started), _none(duration), _SLOW[slow])
                 for run_id, started, duration, status, slow in _BAR.iter_unpack(packed))  # fmt: skip


def bar_count(packed: bytes) -> int:
    return len(packed) // _BAR.size


def _float(value: float | None) -> float:
    return math.nan if value is None else value


def _none(value: float) -> float | None:
    return None if math.isnan(value) else value
