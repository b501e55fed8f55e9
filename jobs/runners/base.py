"""The seam between deciding that a run goes ahead and carrying it out.

The dispatcher (jobs.dispatcher) admits runs: overlap policy, the global limit, queueing. A
`Runner` executes an admitted run somewhere (a local process today, a worker on another machine
later) and reports back through a `RunListener`: started (where, which process, and a handle to
find the run again), output text, and one final `RunOutcome`. History stores the outcome whole.

A runner never touches the database, Qt or the dispatcher's state: it only calls the listener,
from any thread, in this order: `queued` any number of times (only a runner that hands runs to
a queue elsewhere, e.g. a pool of workers: the run waits there, with a note such as "no worker
on pool gpu"), `started` at most once, `output` any number of times, `finished` exactly once
(also when the run never started, was cancelled, or the runner itself failed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from jobs.model import RunOutcome, RunRecord, RunRequest
from jobs.runlog import Stream

__all__ = ["Execution", "RunHandle", "RunListener", "RunStarted", "Runner", "RunnerUnavailable", "Stream"]


@dataclass(frozen=True)
class RunHandle:
    """What the run row keeps so that a later Jobdesk can find a run that was in flight when
    this one stopped: the runner's name plus its own reference (a task id for a remote runner;
    for a local process its pid, the OS's start time of that pid, and the marker its
    environment carries)."""

    runner: str
    pid: int | None = None
    process_started_at: float | None = None  # epoch seconds as the OS reports it; guards against pid reuse
    ref: str | None = None


@dataclass(frozen=True)
class RunStarted:
    """The run's process exists."""

    started_at: datetime  # aware UTC
    handle: RunHandle
    host: str | None = None  # None: this computer


class RunListener(Protocol):
    """Receives one run's reports (see the module docstring for the order)."""

    def queued(self, handle: RunHandle, pool: str | None, note: str | None) -> None: ...

    def started(self, info: RunStarted) -> None: ...

    def output(self, text: str, stream: Stream) -> None: ...

    def finished(self, outcome: RunOutcome) -> None: ...


class Execution(Protocol):
    """A run in progress, as its runner lets the dispatcher act on it."""

    def cancel(self, reason: str) -> None:
        """Stop the run: its whole process tree, wherever it runs. Thread-safe, idempotent,
        never blocks; the listener's `finished` follows with status KILLED."""


class RunnerUnavailable(Exception):
    """A run cannot go to the runner it asks for (e.g. no broker configured); the message is
    the run's error line."""


class Runner(Protocol):
    name: str  # stored with each run ("local")

    def start(self, request: RunRequest, listener: RunListener) -> Execution:
        """Begin the run and return at once; everything else arrives through `listener`."""

    def recover(self, record: RunRecord, listener: RunListener) -> Execution:
        """Take over a run a previous Jobdesk left in flight (its row has this runner's name and
        the handle from `started`). A runner that can follow the run re-attaches and reports its
        real outcome; one that cannot ends it, terminating what is left of it, and reports it
        INTERRUPTED saying so. Returns at once."""

    def close(self) -> None:
        """Release what the runner holds (threads, connections). Runs already cancelled."""

