"""Starting to schedule (`JobService.start`), in stages a window can spread out (issue 10).

At 10,000 jobs, starting on the GUI thread froze the window for 0.3-1.3 s: reading and judging
every definition against APScheduler's store (jobs.reconcile), then the catch-up of the jobs
past due. The stages:

1. `prepare` (the event loop's thread): runs left from the last session, waiting runs and
   retries, the scheduler made and started *paused* (from here on the service is scheduling:
   an edit by the user goes straight to the scheduler, and nothing fires);
2. `read` (any thread, only reads): every definition row and store row, judged cheaply
   (`reconcile.plan`): usually only the jobs past due need more;
3. `step(deadline)` (the event loop's thread), until it returns True: those jobs the full way
   (re-read as they are now, so an edit made meanwhile is not undone), then their catch-up
   runs and missed rows (the missed-run policy, once), a few at a time; or, with
   `catch_up=False`, the catch-up left for `catch_up()` on a worker thread (the window);
4. `finish` (the event loop's thread): entries without a definition removed, the scheduler
   resumed, the watchdog, wake-up digest, retention and the database check started.

`JobService.start` runs them back to back (`serve`, tests); `desktop.startup` spreads them.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from jobs import reconcile as rec
from jobs.entry import set_handler
from jobs.next_runs import APS_TABLE
from jobs.quick_thread import start_soon
from jobs.thread_priority import in_background

if TYPE_CHECKING:
    from jobs.misfire import DuePlan
    from jobs.model import JobSpec
    from jobs.repository import StoredDefinition
    from jobs.service import JobService

log = logging.getLogger(__name__)

ROWS_PER_READ = 100  # work rows re-read per query in `step`


class StagedStart:
    def __init__(self, service: JobService, *, seal_in_background: bool = False) -> None:
        self.service = service
        self.seal_in_background = seal_in_background  # the window's start: jobs.wake_digest.start
        self._plan: rec.ReconcilePlan | None = None
        self._work: rec.Reconciling | None = None
        self._next_row = 0
        self._fresh: list[StoredDefinition] = []  # re-read work rows not yet done
        self._catch_up: list[tuple[JobSpec, DuePlan]] | None = None
        self.finished = False

    def prepare(self) -> None:
        for part in self.prepare_parts():
            part()

    def prepare_parts(self) -> list[Callable[[], None]]:
        """`prepare` in parts a window runs one per turn of its event loop (each a few queries)."""
        return [self._recover, self._resume_waits, self._make_scheduler]

    def _recover(self) -> None:
        service = self.service
        service.dispatcher  # noqa: B018  made before the first fire, on this (the event loop's) thread
        service.recover_leftovers()
        service.resume_waiting()

    def _resume_waits(self) -> None:
        from jobs.slow_runs import SlowRunWatch

        service = self.service
        service.dispatcher.resume_retries(service._spec_or_none)  # jobs.retries: pending retries wait again
        service.alerter.resume_pending()
        service.slow_runs = SlowRunWatch.on_events(service.engine, service.history, service._spec_or_none, service.events)

    def _make_scheduler(self) -> None:
        from tzlocal import get_localzone

        from jobs.scheduler import DispatchExecutor, JobdeskScheduler, SlicedJobStore
        from jobs.wake_digest import WakeDigests

        service = self.service
        service.scheduler = JobdeskScheduler(
            jobstores={"default": SlicedJobStore(engine=service.engine, tablename=APS_TABLE)},
            executors={"default": DispatchExecutor(service._on_due)},
            timezone=get_localzone(),
            jobstore_retry_interval=5,
        )
        service.scheduler.after_pass.append(service._after_pass)
        service.scheduler.start(paused=True)
        service.wake_digests = WakeDigests(service)  # before reconciling: its missed rows are the digest of the close
        # Only definitions that need work are decoded (jobs.reconcile); the fire path decodes
        # the others on their first fire and keeps them (`JobService._spec`).
        service._specs = {}

    def read(self) -> None:
        """Only reads the database: safe on a worker thread (it makes and holds no Qt object)."""
        service = self.service
        self._plan = rec.plan(service.jobs.rows(), rec.stored_jobs(service.engine, APS_TABLE), datetime.now(timezone.utc))

    def step(self, deadline: float = float("inf"), *, catch_up: bool = True) -> bool:
        """Do work until `deadline` (time.monotonic()); True when everything before `finish` is
        done. With `catch_up=False` True comes once the jobs are reconciled, and the catch-up is
        left for `catch_up()`, which may run on another thread."""
        service = self.service
        if self._plan is None:
            self.read()
        assert self._plan is not None
        if self._work is None:
            self._work = rec.Reconciling(service.scheduler, self._plan.left, service._decode_and_keep)
        work = self._plan.work
        while self._fresh or self._next_row < len(work):
            if not self._fresh:  # the rows as they are now, a query for ROWS_PER_READ of them
                chunk = work[self._next_row : self._next_row + ROWS_PER_READ]
                self._next_row += len(chunk)
                self._fresh = service.jobs.rows([row.id for row in chunk])
                continue
            self._work.step([self._fresh.pop(0)], datetime.now(timezone.utc))  # ~1-5 ms a row
            if time.monotonic() >= deadline:
                return False
        if self._catch_up is None:  # a job's missed rows or one run at a time: each is one write
            self._catch_up = _units(self._work.plans)
        if not catch_up:
            return True
        while self._catch_up:
            spec, plan = self._catch_up.pop(0)
            service._apply_plan(spec, plan)
            if time.monotonic() >= deadline:
                return not self._catch_up
        return True

    def catch_up(self, stop: Callable[[], bool] = lambda: False) -> int:
        """The catch-up runs and missed rows `step(catch_up=False)` left, in order, until `stop()`;
        how many were done. Safe on a worker thread (the dispatcher takes runs from any thread,
        and its events reach the GUI thread queued): at 10,000 jobs a start's ~100 catch-up runs
        kept the GUI thread busy ~40 ms each, their events' handlers included."""
        done = 0
        while self._catch_up and not stop():
            spec, plan = self._catch_up.pop(0)
            self.service._apply_plan(spec, plan)
            done += 1
        return done

    def finish(self) -> None:
        for part in self.finish_parts():
            part()

    def finish_parts(self) -> list[Callable[[], None]]:
        """`finish` in parts, as `prepare_parts`; scheduling runs from the first one on."""
        return [self._resume_scheduling, self._watch, self._background]

    def _resume_scheduling(self) -> None:
        assert self._work is not None, "step() until it returns True first"
        self._work.finish()  # its catch-up plans were carried out by `step`
        set_handler(self.service._fire_by_reference)
        self.service.scheduler.resume()

    def _watch(self) -> None:
        from jobs.scheduler import ClockWatchdog

        service = self.service
        service.watchdog = ClockWatchdog(service.scheduler, interval=service._watchdog_interval)
        service.watchdog.start()
        assert service.wake_digests is not None
        service.wake_digests.start(in_background=self.seal_in_background)

    def _background(self) -> None:
        service = self.service
        start_soon(in_background(service.prune_history))  # no wait on the event loop (jobs.quick_thread)
        service.db_check.start()  # a big file: the rest of what the open checked, unless begun already
        self.finished = True


def _units(plans: list[tuple[JobSpec, DuePlan]]) -> list[tuple[JobSpec, DuePlan]]:
    """Each plan as a plan of all its missed rows (one write: jobs.missed_rows) and plans of one
    run each, in the same order (missed rows first)."""
    from jobs.misfire import DuePlan

    units = []
    for spec, plan in plans:
        units += [(spec, DuePlan((), plan.missed))] if plan.missed else []
        units += [(spec, DuePlan((run,), ())) for run in plan.runs]
    return units


def import_ahead() -> None:
    """Import what `prepare` needs, on the calling (worker) thread, so the GUI thread finds it
    loaded: APScheduler, the slow-run watch and the wake-up digest, and the local zone looked up
    (~110 ms of imports measured on the GUI thread after the first paint, a stall of 130 ms at
    10,000 jobs). Reads nothing; any failure is left for `prepare` to meet and report."""
    try:
        import jobs.scheduler  # noqa: F401
        import jobs.slow_runs  # noqa: F401
        import jobs.wake_digest  # noqa: F401
        from tzlocal import get_localzone

        get_localzone()
    except Exception:
        log.debug("importing ahead failed; prepare imports on its own", exc_info=True)


def start_now(service: JobService) -> None:
    """All stages at once, on the event loop's thread."""
    staged = StagedStart(service)
    staged.prepare()
    while not staged.step():
        pass
    staged.finish()

