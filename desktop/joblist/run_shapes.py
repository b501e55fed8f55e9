"""Usual durations and recent-run strips for the jobs table, kept between snapshot loads.

Read on the snapshot loader's worker thread (jobs.run_stats: one statement per job set). Only
jobs a run event touched since the last load are read again: a run that ends changes one job's
numbers, and reading all of 10,000 jobs' takes about a second. Plain Python, no Qt objects: it
lives on the worker thread too (NOTES item 34).
"""

from __future__ import annotations

import threading
from typing import Iterable

from sqlalchemy import Engine

from jobs.run_stats import DurationStats, RunBar, duration_stats, recent_runs


class RunShapes:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed: set[str] | None = None  # None: read every job next time
        self._durations: dict[str, DurationStats] = {}
        self._strips: dict[str, tuple[RunBar, ...]] = {}

    def mark_changed(self, job_id: str) -> None:
        """A run of `job_id` started or ended (any thread)."""
        with self._lock:
            if self._changed is not None:
                self._changed.add(job_id)

    def load(self, engine: Engine, job_ids: Iterable[str]) -> tuple[dict[str, DurationStats], dict[str, tuple[RunBar, ...]]]:
        """Every job's usual duration and strip, reading only what changed (worker thread)."""
        ids = list(job_ids)
        with self._lock:
            changed, self._changed = self._changed, set()
        known = set(self._strips) | set(self._durations)
        wanted = ids if changed is None else [job_id for job_id in ids if job_id in changed or job_id not in known]
        if wanted:
            fresh_durations, fresh_strips = duration_stats(engine, wanted), recent_runs(engine, wanted)
            for job_id in wanted:
                self._set(self._durations, job_id, fresh_durations.get(job_id))
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
