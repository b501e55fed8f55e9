"""Longer and much shorter than usual: a run that passes its job's usual time, or a success
that took a fraction of it (Healthchecks #236: "it succeeded in 2 s, it takes 10 min").

- **Longer than usual**: a running run passes max(p95 x factor, p95 + margin) of its job's last
  50 successful runs (`JobSpec.slow_factor`, default 2; `slow_margin`, default 1 min), once the
  job has at least `run_stats.MIN_RUNS_LONG` successes. The run is marked "long" once, while
  still running, and `JobEvents.run_slow` goes out once.
- **Much shorter than usual**: a run that succeeded in under a quarter of the median of at least
  `run_stats.MIN_RUNS_SHORT` earlier successes is marked "short" (and `run_slow` goes out).

`SlowRunWatch` works the same in the window and in `serve`: at a run's start one query (one
index range) gives the job's p95, which becomes a deadline kept in memory; a worker thread
sleeps until the earliest deadline. No query runs while nothing is due: no polling.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import Qt

from jobs.history import HistoryRepository
from jobs.model import JobSpec, RunRecord, RunStatus
from jobs.run_stats import duration_stats, long_after, much_shorter

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from jobs.events import JobEvents

log = logging.getLogger(__name__)

LONG, SHORT = "long", "short"
_LONGEST_SLEEP = 30.0  # seconds: wake now and then anyway (a wall-clock jump, a suspend)


class SlowRunWatch:
    """Marks and announces runs that take much longer or shorter than usual (module docstring).

    `started`/`finished` may be called from any thread; they only hand the record over.
    """

    def __init__(self, engine: Engine, history: HistoryRepository, spec_of: Callable[[str], JobSpec | None],
                 announce: Callable[[RunRecord], None]) -> None:  # fmt: skip
        self._engine = engine
        self._history = history
        self._spec_of = spec_of
        self._announce = announce  # e.g. JobEvents.run_slow.emit
        self._inbox: queue.SimpleQueue[tuple[str, RunRecord] | None] = queue.SimpleQueue()
        self._due: dict[int, float] = {}  # run id -> epoch seconds at which it is longer than usual
        self._thread = threading.Thread(target=self._serve, name="slow-runs", daemon=True)
        self._thread.start()

    @classmethod
    def on_events(cls, engine: Engine, history: HistoryRepository, spec_of: Callable[[str], JobSpec | None],
                  events: JobEvents) -> SlowRunWatch:  # fmt: skip
        """A watch fed by `events`' run_started/run_finished that announces on its run_slow.

        Direct connections: the emitting thread hands the record over itself. A plain method
        connected the default way was called on the GUI thread (an event queued per run start
        and end, and a wait for the GIL there, in the middle of a burst of runs)."""
        watch = cls(engine, history, spec_of, events.run_slow.emit)
        events.run_started.connect(watch.started, Qt.ConnectionType.DirectConnection)
        events.run_finished.connect(watch.finished, Qt.ConnectionType.DirectConnection)
        return watch

    def started(self, record: RunRecord) -> None:
        self._inbox.put(("started", record))

    def finished(self, record: RunRecord) -> None:
        self._inbox.put(("finished", record))

    def close(self, timeout: float = 5.0) -> None:
        self._inbox.put(None)
        self._thread.join(timeout)

    # --- the worker thread ----------------------------------------------------------------------

    def _serve(self) -> None:
        while True:
            wait = min((due - time.time() for due in self._due.values()), default=_LONGEST_SLEEP)
            try:
                item = self._inbox.get(timeout=max(0.0, min(wait, _LONGEST_SLEEP)))
            except queue.Empty:
                item = ("tick", None)  # type: ignore[assignment]
            if item is None:
                return
            try:
                self._handle(*item)
            except Exception:  # a database hiccup must not end the watch
                log.exception("checking run durations failed")

    def _handle(self, what: str, record: RunRecord | None) -> None:
        if what == "started" and record is not None:
            self._watch(record)
        elif what == "finished" and record is not None:
            self._due.pop(record.id, None)
            self._check_short(record)
        now = time.time()
        for run_id in [run_id for run_id, due in self._due.items() if due <= now]:
            del self._due[run_id]
            self._mark(run_id, LONG, only_running=True)

    def _watch(self, record: RunRecord) -> None:
        spec = self._spec_of(record.job_id)
        if spec is None:
            return
        stats = duration_stats(self._engine, [record.job_id], before_id=record.id).get(record.job_id)
        limit = long_after(spec, stats)
        if limit is not None:
            started = record.started_at.timestamp() if record.started_at is not None else time.time()
            self._due[record.id] = started + limit

    def _check_short(self, record: RunRecord) -> None:
        if record.status is not RunStatus.SUCCEEDED or record.slow is not None:
            return
        stats = duration_stats(self._engine, [record.job_id], before_id=record.id).get(record.job_id)
        if much_shorter(record.duration, stats):
            self._mark(record.id, SHORT)

    def _mark(self, run_id: int, kind: str, *, only_running: bool = False) -> None:
        # The row decides: a run that ended meanwhile, or was marked already, is left alone,
        # so each run is announced at most once.
        if not self._history.mark_slow(run_id, kind, only_running=only_running):
            return
        record = self._history.get(run_id)
        if record is not None:
            log.warning("run #%d of %s is %s than usual", run_id, record.job_name,
                        "longer" if kind == LONG else "much shorter")  # fmt: skip
            self._announce(record)
