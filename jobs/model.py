"""Plain data of Jobdesk: job definitions, trigger specs, run records and their enums.

Everything here is a frozen dataclass or an enum: safe to hand between threads, cheap to
compare, and free of Qt, SQLAlchemy and APScheduler so every layer can share it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Union


class Overlap(enum.StrEnum):
    """What happens when a run is due while the job's previous run is still going."""

    SKIP = "skip"  # record the new run as skipped
    QUEUE = "queue"  # keep one run waiting; a second waiting run is skipped
    PARALLEL = "parallel"  # allow up to JobSpec.max_parallel runs at once


class Notify(enum.StrEnum):
    NEVER = "never"
    FAILURE = "failure"
    ALWAYS = "always"


class RunCause(enum.StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    CATCH_UP = "catch-up"


class RunStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a free slot (never reported as missed)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    KILLED = "killed"
    MISSED = "missed"
    INTERRUPTED = "interrupted"  # the app or machine died during the run
    SKIPPED = "skipped"  # a previous run was still going (overlap policy)

    @property
    def is_final(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)

    @property
    def is_failure(self) -> bool:
        return self in (RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.KILLED, RunStatus.INTERRUPTED)


# --- triggers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CronSpec:
    """A standard 5-field crontab expression (0 and 7 are Sunday) in an IANA time zone."""

    expression: str
    timezone: str


INTERVAL_UNITS = ("weeks", "days", "hours", "minutes", "seconds")


@dataclass(frozen=True)
class IntervalSpec:
    """Every `amount` `unit`s from `start` (aware). Day and week units keep the wall-clock time."""

    amount: int
    unit: str  # one of INTERVAL_UNITS
    timezone: str
    start: datetime | None = None  # anchored at creation when None is saved
    end: datetime | None = None
    jitter: int | None = None  # seconds


@dataclass(frozen=True)
class DateSpec:
    """One run at `run_at` (aware)."""

    run_at: datetime
    timezone: str


TriggerSpec = Union[CronSpec, IntervalSpec, DateSpec]


# --- jobs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobSpec:
    """A job definition: what our own table stores and the source of truth for scheduling."""

    name: str
    command: tuple[str, ...]
    trigger: TriggerSpec
    id: str = ""  # assigned when first saved
    description: str = ""
    tags: tuple[str, ...] = ()
    shell: bool = False  # run command[0] through the system shell (only when asked for)
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = ()  # overrides on top of the app's environment
    timeout: float | None = None  # seconds; None = no limit
    overlap: Overlap = Overlap.SKIP
    max_parallel: int = 1  # only for Overlap.PARALLEL
    misfire_grace: float | None = None  # seconds late a run may still start; None = any
    coalesce: bool = True  # several missed runs collapse into one catch-up run
    notify: Notify = Notify.FAILURE
    paused: bool = False

    @property
    def env_dict(self) -> dict[str, str]:
        return dict(self.env)

    @property
    def slot_limit(self) -> int:
        """How many runs of this job may go at once."""
        return max(1, self.max_parallel) if self.overlap is Overlap.PARALLEL else 1


@dataclass(frozen=True)
class RunRecord:
    """One row of history."""

    id: int
    job_id: str
    job_name: str
    cause: RunCause
    status: RunStatus
    scheduled_at: datetime | None = None
    queued_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    exit_code: int | None = None
    log_path: Path | None = None
    output_bytes: int = 0
    truncated: bool = False
    error: str | None = None
    command: tuple[str, ...] = ()
    shell: bool = False
    cwd: str | None = None
    env: tuple[tuple[str, str], ...] = field(default=())

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()
