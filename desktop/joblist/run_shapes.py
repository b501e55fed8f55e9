"""Usual durations and recent-run strips for the jobs table, kept between snapshot loads.

Read on the snapshot loader's worker thread (jobs.run_stats: one statement per job set). Only
jobs a run event touched since the last load are read again: a run that ends changes one job's
numbers, and reading all of 10,000 jobs' takes about a second. Plain Python, no Qt objects: it
lives on the worker thread too (NOTES item 34).

Usual durations are read `CHUNK` jobs at a time, strips are packed as their rows stream in and
kept packed (desktop.joblist.packed_bars): all 10,000 jobs' 500,000 durations and 200,000 runs
as Python objects at once were ~40 MiB of the window's peak memory.
"""

from __future__ import annotations

import threading
from typing import Iterable

from sqlalchemy import Engine

from desktop.joblist.packed_bars import pack_rows
from jobs.run_stats import DurationStats, duration_stats, recent_run_rows

CHUNK = 1000  # jobs per read


class RunShapes:
    def __init__(self, chunk: int = CHUNK) -> None:
        self._chunk = chunk
        self._lock = threading.Lock()
        self._changed: set[str] | None = None  # None: read every job next time
        self._durations: dict[str, DurationStats] = {}
        self._strips: dict[str, bytes] = {}  # packed (desktop.joblist.packed_bars)

    def mark_changed(self, job_id: str) -> None:
        """A run of `job_id` started or ended (any thread)."""
        with self._lock:
            if self._changed is not None:
                self._changed.add(job_id)

    def load(self, engine: Engine, job_ids: Iterable[str]) -> tuple[dict[str, DurationStats], dict[str, bytes]]:
        """Every job's usual duration and strip, reading only what changed (worker thread)."""
        ids = list(job_ids)
        with self._lock:
            changed, self._changed = self._changed, set()
        known = set(self._strips) | set(self._durations)
        wanted = ids if changed is None else [job_id for job_id in ids if job_id in changed or job_id not in known]
        for start in range(0, len(wanted), self._chunk):
            chunk = wanted[start:start + self._chunk]
            fresh_durations = duration_stats(engine, chunk)
            for job_id in chunk:
                self._set(self._durations, job_id, fresh_durations.get(job_id))
        if wanted:  # one statement: its cost is mostly fixed (~2 s for 1,000 jobs or 10,000)
            fresh_strips = pack_rows(recent_run_rows(engine, wanted))
            for job_id in wanted:
                self._set(self._strips, job_id, fresh_strips.get(job_id))
        keep = set(ids)
        return ({k: v for k, v in self._durations.items() if k in keep},
                {k: v for k, v in self._strips.items() if k in keep})  # fmt: skip

    @staticmethod
    def _set(store: dict, job_id: str, value: object) -> None:  # type: ignore[type-arg]
        if value is None:
            store.pop(job_id, None)
        else:
            store[job_id] = value
