"""`ConditionGate`: decides, for runs the dispatcher holds, when they may start.

The dispatcher consults `check(job)` before a run takes a slot (quick: cached answers only, safe
under its lock). A run whose conditions do not hold is *held*: it keeps its job's place for the
overlap policy, shows as `waiting` ("waiting for AC power") and is stored, so a restart keeps
it. The gate's worker thread then re-checks every held run whenever the `ConditionSource` says
something changed, and every `poll` seconds meanwhile (power has no change signal here): a run
whose conditions hold is released, one that waited past its job's `condition_deadline` ends
`missed` ("on battery for 6h"). Server probes (`network:HOST:PORT`) run only on that thread,
with a short timeout, once per pass; `check` answers from the last probe for `probe_max_age`
seconds (forgotten when the network changes), else the run is held until the worker has asked.
No Qt here, and nothing ever blocks the GUI thread.

The gate talks to its owner (the dispatcher) through `HoldOwner`; the owner re-checks under its
own lock that a run is still held, so a run stopped meanwhile is never started.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Protocol

from jobs.conditions.requirements import AC_POWER, Requirement, join_words, parse_requirements
from jobs.conditions.source import ConditionSource
from jobs.durations import format_duration
from jobs.model import JobSpec

log = logging.getLogger(__name__)

POLL_SECONDS = 10.0
PROBE_TIMEOUT = 3.0
PROBE_MAX_AGE = 30.0


@dataclass(frozen=True)
class HeldRun:
    """A run the dispatcher holds, as the gate sees it."""

    run_id: int
    job: JobSpec
    since: datetime  # aware; its deadline counts from here
    waiting_for: str | None  # what its row says now (None: not shown as waiting yet)


class HoldOwner(Protocol):
    def held_runs(self) -> list[HeldRun]: ...

    def release_held(self, run_id: int) -> bool: ...

    def show_waiting(self, run_id: int, waiting_for: str) -> None: ...

    def expire_held(self, run_id: int, reason: str) -> None: ...


@dataclass(frozen=True)
class Verdict:
    unmet: tuple[Requirement, ...] = ()
    unknown: tuple[Requirement, ...] = ()  # servers not probed yet: only the worker thread may

    @property
    def met(self) -> bool:
        return not self.unmet and not self.unknown

    @property
    def words(self) -> str:
        """"AC power and a network connection" (what the run waits for)."""
        return join_words([r.words for r in (*self.unmet, *self.unknown)])

    def missed_reason(self, deadline: float) -> str:
        """"on battery for 6h" (why a run that waited its whole deadline did not happen)."""
        return f"{join_words([r.absent for r in self.unmet or self.unknown])} for {format_duration(deadline)}"


class ConditionGate:
    def __init__(self, source: ConditionSource, *, poll: float = POLL_SECONDS, probe_timeout: float = PROBE_TIMEOUT,
                 probe_max_age: float = PROBE_MAX_AGE, clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.source = source
        self.poll = poll
        self._probe_timeout = probe_timeout
        self._probe_max_age = probe_max_age
        self._clock = clock
        self._owner: HoldOwner | None = None
        self._lock = threading.Lock()
        self._probes: dict[tuple[str, int], tuple[float, bool]] = {}  # (host, port) -> (when, answered)
        self._wake = threading.Event()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.passes = 0  # worker passes over the held runs (tests, logs)
        source.subscribe(self._source_changed)

    def attach(self, owner: HoldOwner) -> None:
        self._owner = owner

    # --- quick answers (any thread) ------------------------------------------------------

    def check(self, job: JobSpec) -> Verdict:
        """The job's conditions from what is known now: no probe is made here."""
        return self._verdict(job, probe=False)

    def _verdict(self, job: JobSpec, *, probe: bool, asked: dict[tuple[str, int], bool] | None = None) -> Verdict:
        try:
            requirements = parse_requirements(job.requires)
        except ValueError:  # validated when saved; a bad stored one must not hold runs forever
            log.warning("job %s: unreadable conditions %r ignored", job.id, job.requires)
            return Verdict()
        unmet: list[Requirement] = []
        unknown: list[Requirement] = []
        for requirement in requirements:
            answer = self._holds(requirement, probe, asked)
            if answer is None:
                unknown.append(requirement)
            elif not answer:
                unmet.append(requirement)
        return Verdict(tuple(unmet), tuple(unknown))

    def _holds(self, requirement: Requirement, probe: bool, asked: dict[tuple[str, int], bool] | None) -> bool | None:
        """Whether one requirement holds; None: a server nobody asked lately (only a `probe`
        asks it: the worker thread, once per pass in `asked`)."""
        if requirement.kind == AC_POWER:
            return self.source.ac_power() is not False  # None: cannot tell, so it does not hold runs
        if not self.source.network():
            return False
        if requirement.host is None or requirement.port is None:
            return True
        key = (requirement.host, requirement.port)
        if not probe:
            with self._lock:
                cached = self._probes.get(key)
            fresh = cached is not None and self._clock() - cached[0] < self._probe_max_age
            return cached[1] if cached is not None and fresh else None
        if asked is not None and key in asked:
            return asked[key]
        answered = self.source.reachable(requirement.host, requirement.port, self._probe_timeout)
        with self._lock:
            self._probes[key] = (self._clock(), answered)
        if asked is not None:
            asked[key] = answered
        return answered

    # --- the worker ----------------------------------------------------------------------

    def wake(self) -> None:
        """Re-check held runs soon (a run was held, or something changed). Any thread."""
        with self._lock:
            if self._stopped:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="conditions", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stopped = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _source_changed(self) -> None:
        with self._lock:
            self._probes.clear()  # the network changed: ask the servers again
        if self._thread is not None:
            self.wake()

    def _loop(self) -> None:
        pause: float | None = None
        while True:
            self._wake.wait(pause)
            self._wake.clear()
            if self._stopped:
                return
            try:
                pause = self.check_held()
            except Exception:  # a database error must not end the checking
                log.exception("checking the conditions of waiting runs failed; trying again in %ss", self.poll)
                pause = self.poll

    def check_held(self) -> float | None:
        """One pass over the held runs: release, show as waiting, or end past the deadline.
        Returns the seconds until the next pass is needed (None: nothing is held)."""
        owner = self._owner
        if owner is None:
            return None
        self.passes += 1
        held = owner.held_runs()
        now = self._clock()
        pause: float | None = None
        asked: dict[tuple[str, int], bool] = {}
        for run in held:
            verdict = self._verdict(run.job, probe=True, asked=asked)
            waited = max(0.0, now - run.since.timestamp())
            deadline = run.job.condition_deadline
            if verdict.met:
                log.info("job %s: run #%d may start: its conditions hold", run.job.id, run.run_id)
                owner.release_held(run.run_id)
            elif deadline is not None and waited >= deadline:
                reason = verdict.missed_reason(deadline)
                log.warning("job %s: run #%d missed: %s", run.job.id, run.run_id, reason)
                owner.expire_held(run.run_id, reason)
            else:
                left = self.poll if deadline is None else max(0.05, min(self.poll, deadline - waited))
                pause = left if pause is None else min(pause, left)
                if verdict.words != run.waiting_for:
                    owner.show_waiting(run.run_id, verdict.words)
        return pause
