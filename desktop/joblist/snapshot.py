"""The jobs snapshot: everything the window shows about jobs, loaded off the GUI thread.

`SnapshotLoader` reads the definitions, next run times, last runs, the upcoming fire times, the
Timeline's lanes and the schedules in words on a worker thread and hands a frozen `Snapshot` back
through a queued signal. Fire times come from the core (`JobService.fire_times`: one computation
for Upcoming, the Timeline and the command line, its triggers and times kept between loads). Requests are debounced (~200 ms) and coalesced: a burst of `jobs_changed` events costs
one load, and never more than one load runs at a time. Other views (the history's job filter,
the tray's run menu) take job names from the snapshots instead of reading the store again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from desktop.gui_bridge import ensure_bridge, post
from desktop.joblist.row_order import SortState
from desktop.joblist.rows import COUNTDOWN, NEXT_RUN, JobRow, TableRows, cached_key, fresh_rows, table_rows
from desktop.joblist.run_shapes import RunShapes
from desktop.upcoming_model import shown_digest
from jobs import triggers
from jobs.after_next import ExpectedAfter, next_expected
from jobs.chain_plan import with_expected, with_expected_lanes
from jobs.chains import finished_so_far
from jobs.gui_priority import every
from jobs.model import JobSpec, RunRecord, RunStatus
from jobs.repository import BrokenRow
from jobs.memory_trim import give_back_freed_memory
from jobs.service import JobService
from jobs.run_stats import DurationStats
from jobs.upcoming import Lane

log = logging.getLogger(__name__)

DEBOUNCE_MS = 200
FIRST_SCREEN_ROWS = 100  # rows read ahead of the rest at start-up (more than a screen holds)
FIRST_SCREEN_FROM = 1000  # ...when there are at least this many jobs (fewer are read in ~20 ms)
TRIM_EVERY_S = 5.0  # at most this often the C heap's free pages are handed back before a load
MAX_WAIT_MS = 1500


@dataclass(frozen=True)
class Snapshot:
    specs: tuple[JobSpec, ...] = ()
    next_runs: dict[str, datetime] = field(default_factory=dict)
    last_runs: dict[str, RunRecord] = field(default_factory=dict)
    upcoming: tuple[tuple[datetime, JobSpec], ...] = ()  # every active job's next run, then the nearest
    upcoming_digest: int | None = None  # upcoming_model.shown_digest of those rows (made off the GUI thread)
    lanes: tuple[Lane, ...] = ()  # the Timeline: every job's fires over the next 24 hours
    schedules: dict[str, str] = field(default_factory=dict)  # job id -> schedule in words
    broken: tuple[BrokenRow, ...] = ()
    took: float = 0.0  # seconds the load took
    complete: bool = True  # False: a first, quick snapshot without last runs and schedule words
    # Usual durations and the last runs' strip per job (desktop.joblist.run_shapes; insight)
    durations: dict[str, DurationStats] = field(default_factory=dict)
    strips: dict[str, bytes] = field(default_factory=dict)  # packed (desktop.joblist.packed_bars)
    expected_after: dict[str, ExpectedAfter] = field(default_factory=dict)  # after-jobs' next runs (jobs.after_next)
    # The table's rows, made on the worker with the sorted column's keys (None: the model makes
    # them; desktop.joblist.rows), and in the table's order when the load began
    rows: dict[str, JobRow] | None = None
    table: TableRows | None = None
    last_finished_failed: bool | None = None  # the newest finished run failed (None: no finished run)
    by_name: tuple[JobSpec, ...] = ()  # the specs in name order (the tray's menu, the history's filter)
    # ...as (id, name) pairs: the very tuple of the load before when unchanged (History's job filter
    # then knows at once that it has them; making and comparing them there was ~4 ms a load)
    name_choices: tuple[tuple[str, str], ...] = ()
    paused_count: int = 0  # (the window's Pause all / Resume all)
    first_screen: bool = False  # only `table`: the table's first rows, before all jobs are read (jobs.first_screen)


def describe_schedule(spec: JobSpec, cache: dict[Any, str], names: dict[str, str] | None = None) -> str:
    """The schedule in words; cron words are cached (cron-descriptor costs ~0.1 ms a call).
    `names` (id -> name) names the jobs an after-job waits for."""
    key = spec.trigger
    cacheable = not hasattr(key, "start") and not hasattr(key, "jobs")  # words that depend on now, on names
    if cacheable and key in cache:
        return cache[key]
    try:
        words = triggers.describe(spec.trigger, names=names)
    except Exception as exc:  # a stored trigger that no longer validates: show it, never fail
        words = f"Invalid schedule: {exc}"
    if cacheable:
        cache[key] = words
    return words


class SnapshotLoader(QObject):
    """Loads `Snapshot`s on a worker thread; `loaded(Snapshot)` arrives on the GUI thread.

    Requests are debounced with a quiet period: a load starts `debounce_ms` after the last
    request, but no later than `max_wait_ms` after the first one. During a burst of runs (a
    hundred events a second) that is one load every `max_wait_ms`, not one every 200 ms: each
    load is Python work on a worker thread, and every bit of it makes the GUI thread wait for
    the GIL on its own calls into Python (measured: 100-150 ms stalls while painting).

    Loads run on one worker thread, started once and then woken through a queue: starting a
    thread per load made the GUI thread wait in `Thread.start()` until the new thread got the
    GIL, which during a burst of runs took tens of milliseconds.

    Signals:
        loaded(Snapshot): a load finished.
    """

    loaded = Signal(object)
    first_screen = Signal(object)  # Snapshot(first_screen=True): the table's first rows, at start-up
    working = Signal(bool)  # a load began (True) or ended, after its `loaded` (False)
    _done = Signal(object)  # emitted by the worker; queued to this (GUI-thread) object
    _partial = Signal(object)  # the quick first snapshot, from the worker

    def __init__(self, service: JobService, parent: QObject | None = None, *, debounce_ms: int = DEBOUNCE_MS,
                 max_wait_ms: int = MAX_WAIT_MS) -> None:  # fmt: skip
        super().__init__(parent)
        self._service = service
        self._debounce = QTimer(self, singleShot=True, interval=debounce_ms)
        self._debounce.timeout.connect(self.load_now)
        self._max_wait = QTimer(self, singleShot=True, interval=max_wait_ms)
        self._max_wait.timeout.connect(self.load_now)
        self._worker: threading.Thread | None = None
        self._requests: queue.SimpleQueue[bool | None] = queue.SimpleQueue()  # quick_first, or None: stop
        self._loading = False
        self._again = False
        self._closed = False
        self._words: dict[Any, str] = {}
        self.run_shapes = RunShapes()
        # The Jobs table's order (read on the worker: its rows come sorted, with their keys made)
        self.sort_order: Callable[[], SortState] = SortState
        self._partial_applied = threading.Event()
        self._trimmed_at = time.perf_counter()
        self._previous_rows: dict[str, JobRow] = {}  # the last complete load's rows (the worker's only)
        self._previous_table: TableRows | None = None  # ...and in the table's order
        self._name_choices: tuple[tuple[str, str], ...] = ()  # the last load's (Snapshot.name_choices)
        self._serial = 0  # of the worker's TableRows
        self.loads = 0  # finished loads (tests, benchmark)
        self._done.connect(self._on_done)
        self._partial.connect(self._on_partial)

    @Slot()
    @Slot(object)
    def request(self, _payload: object = None) -> None:
        """Load once requests pause for the debounce interval (or the longest wait passed)."""
        if self._closed:
            return
        self._debounce.start()  # (re)start: wait for a quiet moment
        if not self._max_wait.isActive():
            self._max_wait.start()

    @Slot()
    def load_now(self) -> None:
        self._debounce.stop()
        self._max_wait.stop()
        if self._closed:
            return
        if self._loading:
            self._again = True  # one more load once this one ends: it may have read stale data
            return
        self._loading = True
        self.working.emit(True)
        if self._worker is None:
            ensure_bridge()
            self._worker = threading.Thread(target=self._serve, name="jobs-snapshot", daemon=True)
            self._worker.start()
        self._requests.put(self.loads == 0)

    @property
    def loading(self) -> bool:
        return self._loading

    @property
    def busy(self) -> bool:
        return self._loading or self._debounce.isActive() or self._max_wait.isActive()

    def close(self, timeout: float = 10.0) -> None:
        """Stop loading and wait for a load in progress (before the database closes)."""
        self._closed = True
        self._partial_applied.set()
        self._debounce.stop()
        self._max_wait.stop()
        self._requests.put(None)
        if self._worker is not None:
            self._worker.join(timeout)

    def _serve(self) -> None:
        """The worker thread: one load per request until told to stop."""
        while (quick_first := self._requests.get()) is not None:
            self._work(quick_first)

    def _work(self, quick_first: bool) -> None:
        started = time.perf_counter()
        if started - self._trimmed_at > TRIM_EVERY_S:  # what the last loads freed goes back (jobs.memory_trim)
            self._trimmed_at = started
            give_back_freed_memory()
        snapshot = None
        try:
            snapshot = self._load(quick_first=quick_first)
        except Exception:
            if not self._closed:
                log.exception("loading the jobs failed")
        if snapshot is not None:
            snapshot = replace(snapshot, took=time.perf_counter() - started)
        if not self._closed:
            post(self, lambda: self._done.emit(snapshot))  # desktop.gui_bridge: dropped if the window is gone

    def _load(self, *, quick_first: bool = False) -> Snapshot:
        """Everything the window shows about jobs. With `quick_first` (the first load, at
        start-up) a quick snapshot goes out before the slow parts: last runs are one query per
        job and the schedule words cost ~0.4 ms each the first time (0.6 s for 1,000 jobs)."""
        service = self._service
        if quick_first and not self._closed and (screen := self._first_screen_or_none()) is not None:
            self._hand_over(screen)
        all_specs, broken_rows = service.read_jobs()
        specs, broken = tuple(all_specs), tuple(broken_rows)
        next_runs = service.next_run_times(all_specs)
        now = datetime.now(timezone.utc)
        done = finished_so_far(service.engine, service.history, all_specs)  # after-jobs: what they still wait for
        upcoming = tuple(with_expected(service.fire_times.upcoming(all_specs, next_runs, now=now), all_specs, done))
        expected_after = next_expected(all_specs, next_runs, done)
        shown_table = self._previous_table  # what the table shows, if it took it: the rows compared with
        if quick_first and not self._closed:
            order = self.sort_order()
            first_rows = fresh_rows(specs, next_runs, {}, {}, {}, {}, expected_after, order.column)
            shown_table = table_rows(list(first_rows.values()), order, self._next_serial())
            partial = Snapshot(specs, next_runs, {}, upcoming, shown_digest(upcoming, {}), (), {}, broken,
                               complete=False, expected_after=expected_after, rows=first_rows, **self._by_name(specs),
                               table=shown_table)  # fmt: skip
            self._hand_over(partial)
        lanes = tuple(with_expected_lanes(service.fire_times.timeline(all_specs, next_runs, now=now), all_specs, done))
        last_runs = service.last_runs([spec.id for spec in specs], brief=True)  # what the table shows of them
        names = {spec.id: spec.name for spec in specs}
        schedules = {spec.id: describe_schedule(spec, self._words, names) for spec in every(specs)}
        durations, strips = self.run_shapes.load(service.engine, (spec.id for spec in specs))
        order = self.sort_order()
        rows = fresh_rows(specs, next_runs, last_runs, schedules, durations, strips, expected_after, order.column,
                          previous=self._previous_rows)  # fmt: skip
        self._previous_rows = rows
        table = self._previous_table = table_rows(list(rows.values()), order, self._next_serial(), shown_table)
        return Snapshot(specs, next_runs, last_runs, upcoming, shown_digest(upcoming, schedules), lanes, schedules, broken,
                        durations=durations, strips=strips, expected_after=expected_after, rows=rows, table=table,
                        **self._by_name(specs),
                        last_finished_failed=_last_finished_failed(last_runs))  # fmt: skip

    def _hand_over(self, partial: Snapshot) -> None:
        """Have the GUI thread take `partial` and wait until it did, so that this thread does
        not compete for the GIL meanwhile: filling the table is thousands of calls into Python,
        each one waiting for the GIL otherwise (its paint comes later; jobs.gui_priority)."""
        self._partial_applied.clear()
        if self._closed:  # (close() set it before this cleared it)
            return
        post(self, lambda: self._partial.emit(partial))
        self._partial_applied.wait(2.0)

    def _first_screen_or_none(self) -> Snapshot | None:
        """`_first_screen`, which only saves time: if it fails, the load goes on without it."""
        try:
            return self._first_screen()
        except Exception:
            log.exception("reading the first screen of jobs failed; reading them all")
            return None

    def _first_screen(self) -> Snapshot | None:
        """The table's first rows, when it is sorted soonest first (its default), read without
        reading every job (jobs.first_screen); None when that would not be quicker."""
        order = self.sort_order()
        if order.column not in (NEXT_RUN, COUNTDOWN) or order.descending:
            return None
        found = self._service.soonest_jobs(FIRST_SCREEN_ROWS, at_least=FIRST_SCREEN_FROM)
        if found is None:
            return None
        soonest, next_runs = found
        specs = tuple(soonest.specs)
        expected_after = next_expected(specs, next_runs, finished_so_far(self._service.engine, self._service.history, specs))
        rows = fresh_rows(specs, next_runs, {}, {}, {}, {}, expected_after, order.column)
        horizon = soonest.horizon.timestamp()  # every job not read runs later: the rows up to it come first
        first = [item for item in table_rows(list(rows.values()), order, 0).ordered if cached_key(item, order.column) <= horizon]
        return Snapshot(complete=False, first_screen=True, table=table_rows(first, order, self._next_serial()))

    def _by_name(self, specs: tuple[JobSpec, ...]) -> dict[str, Any]:
        """The snapshot's fields on the jobs by name (`by_name`, `name_choices`, `paused_count`)."""
        by_name = in_name_order(specs)
        choices = tuple((spec.id, spec.name) for spec in by_name)
        if choices == self._name_choices:
            choices = self._name_choices
        self._name_choices = choices
        return {"by_name": by_name, "name_choices": choices, "paused_count": sum(spec.paused for spec in specs)}

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    @Slot(object)
    def _on_partial(self, snapshot: Snapshot) -> None:
        try:
            if not self._closed:
                (self.first_screen if snapshot.first_screen else self.loaded).emit(snapshot)
        finally:
            self._partial_applied.set()

    @Slot(object)
    def _on_done(self, snapshot: Snapshot | None) -> None:
        self._loading = False
        if self._closed:
            return
        if snapshot is not None:
            self.loads += 1
            self.loaded.emit(snapshot)
        self.working.emit(False)
        if self._again:
            self._again = False
            self.load_now()


def _last_finished_failed(last_runs: dict[str, RunRecord]) -> bool | None:
    """Whether the newest finished run (missed and skipped ones aside) failed: the tray's colour."""
    finished = [r for r in last_runs.values() if r.status.is_final and r.status not in (RunStatus.MISSED, RunStatus.SKIPPED)]
    return max(finished, key=lambda r: r.id).status.is_failure if finished else None


def in_name_order(specs: tuple[JobSpec, ...]) -> tuple[JobSpec, ...]:
    """Specs by name, case aside, then id: the order of every list of jobs by name (made on the
    worker; at 10,000 jobs each sort on the GUI thread was 5-20 ms a load)."""
    return tuple(sorted(specs, key=lambda spec: (spec.name.casefold(), spec.id)))
