"""A run the dispatcher (jobs.dispatcher) has admitted, and how its runner's reports reach it.

`_Pending` is the dispatcher's own record of a run between admission and its end (queued, held
for a condition, running); `RunReports` is the `RunListener` a runner gets for one run.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from jobs.model import JobSpec, RunCause, RunOutcome
from jobs.runners.base import Execution, RunHandle, RunStarted, Stream

if TYPE_CHECKING:
    from jobs.dispatcher import Dispatcher


@dataclass
class _Pending:
    run_id: int
    job: JobSpec
    cause: RunCause
    scheduled_at: datetime | None
    queued_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    row_written: bool = False  # a run that starts at once gets its row after its process exists
    done: threading.Event = field(default_factory=threading.Event)
    execution: Execution | None = None
    cancel_reason: str | None = None
    log_path: Path | None = None
    started: RunStarted | None = None
    ignore_conditions: bool = False  # "Run anyway": the gate is not asked
    waiting_for: str | None = None  # what its row says it waits for (held runs)
    upstream_run_id: int | None = None  # cause "after": the upstream run that started it (jobs.chains)
    attempt: int = 1  # jobs.retries: which attempt of its chain this run is
    first_run_id: int | None = None  # the chain's first run (None: this one)


class RunReports:
    """The `RunListener` of one run: passes the runner's reports to the dispatcher."""

    def __init__(self, dispatcher: Dispatcher, pending: _Pending) -> None:
        self._dispatcher = dispatcher
        self._pending = pending

    def queued(self, handle: RunHandle, pool: str | None, note: str | None) -> None:
        self._dispatcher._on_queued(self._pending, handle, pool, note)

    def started(self, info: RunStarted) -> None:
        self._dispatcher._on_started(self._pending, info)

    def output(self, text: str, stream: Stream) -> None:
        self._dispatcher._on_output(self._pending, text, stream)

    def finished(self, outcome: RunOutcome) -> None:
        self._dispatcher._on_finished(self._pending, outcome)


@dataclass(frozen=True)
class RunnerSettings:
    max_concurrent: int = 4
    log_cap_bytes: int = 10 * 1024 * 1024
    kill_grace: float = 5.0
    output_interval: float = 0.1
