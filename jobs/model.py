"""Plain data of Jobdesk: job definitions, trigger specs, run records and their enums.

Everything here is a frozen dataclass or an enum: safe to hand between threads, cheap to
compare, and free of Qt, SQLAlchemy and APScheduler so every layer can share it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Union

from jobs.run_facts import OutputFile, RunEnvironment


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
    AFTER = "after"  # its upstream jobs finished (jobs.chains)


class RunStatus(enum.StrEnum):
    QUEUED = "queued"  # waiting for a free slot (never reported as missed)
    WAITING = "waiting"  # due, but a condition of the job (AC power, network) does not hold yet
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMED_OUT = "timed out"
    KILLED = "killed"
    MISSED = "missed"
    INTERRUPTED = "interrupted"  # the app or machine died during the run
    SKIPPED = "skipped"  # a previous run was still going (overlap policy)
    RETRY_PENDING = "retry pending"  # an attempt failed; this row is the next one, due at `retry_at`

    @property
    def is_final(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING, RunStatus.RETRY_PENDING)

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


AFTER_STATUSES = ("success", "failure", "any")


@dataclass(frozen=True)
class AfterSpec:
    """Run after other jobs: when every job in `jobs` (ids) has finished with `status` since
    this job last ran (jobs.chains). No time of its own: `timezone` is only the zone its runs'
    times are shown in."""

    jobs: tuple[str, ...]
    status: str = "success"  # one of AFTER_STATUSES
    timezone: str = "UTC"


TriggerSpec = Union[CronSpec, IntervalSpec, DateSpec, AfterSpec]


# --- jobs -----------------------------------------------------------------------------------


# Defaults of JobSpec fields that other modules compare with (with slots, `JobSpec.slow_factor`
# is the slot, not the default).
DEFAULT_SLOW_FACTOR = 2.0
DEFAULT_SLOW_MARGIN = 60.0  # seconds


@dataclass(frozen=True, slots=True)
class JobSpec:
    """A job definition: what our own table stores and the source of truth for scheduling.

    With slots: the window and the scheduler keep every definition, and a per-instance dict
    (~1.6 KiB for 34 fields) was ~16 MiB of 10,000 jobs. Read defaults from `DEFAULT_*` or
    `dataclasses.fields`, not from class attributes."""

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
    # Conditions that make a due run wait (jobs.conditions): "ac-power", "network",
    # "network:HOST:PORT"; past `condition_deadline` seconds of waiting the run ends missed.
    requires: tuple[str, ...] = ()
    condition_deadline: float | None = None  # None: wait as long as it takes
    # Alerts beyond the desktop (jobs.alerts), following `notify`; empty: the settings' defaults.
    email: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()
    runs_on: str | None = None  # a pool of `jobdesk worker`s (jobs.remote); None: this computer
    # A run is longer than usual past max(p95 x slow_factor, p95 + slow_margin) (jobs.slow_runs).
    slow_factor: float = DEFAULT_SLOW_FACTOR
    slow_margin: float = DEFAULT_SLOW_MARGIN  # seconds
    # Retries (jobs.retries): a failed attempt runs again up to `retries` times, after
    # retry_delay * retry_backoff ** (attempt - 1) seconds, at most `retry_max` (None: no cap).
    # `retry_on` says which ends retry ("failure", "timeout"); `retry_on_exit` adds exit codes.
    retries: int = 0
    retry_delay: float = 30.0
    retry_backoff: float = 2.0
    retry_max: float | None = None
    retry_on: tuple[str, ...] = ("failure", "timeout")
    retry_on_exit: tuple[int, ...] = ()
    # Files a successful run must write (globs, with {date}/{scheduled:%Y-%m-%d}: jobs.expected_outputs)
    expect: tuple[str, ...] = ()
    run_with: str | None = None  # an interpreter's path: it runs the command (jobs.interpreters)

    @property
    def argv(self) -> tuple[str, ...]:
        """What a run executes: the interpreter (if any) followed by the command's tokens."""
        return (self.run_with, *self.command) if self.run_with else self.command

    @property
    def env_dict(self) -> dict[str, str]:
        return dict(self.env)

    @property
    def slot_limit(self) -> int:
        """How many runs of this job may go at once."""
        return max(1, self.max_parallel) if self.overlap is Overlap.PARALLEL else 1


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    """One alert about a run, sent (or being sent) to one address or URL."""

    channel: str  # "email" or "webhook"
    target: str  # the address or the URL
    state: str  # "pending", "sent" or "failed"
    at: datetime | None = None  # aware UTC: when it was sent or last failed
    attempts: int = 0
    error: str | None = None  # why the last attempt failed


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One row of history. With slots: each job's newest run is kept in the window, and at
    10,000 jobs a per-instance dict (~1.6 KiB for 44 fields) was ~16 MiB of them."""

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
    # Where and as what the run went (jobs.runners): which runner, the host (None: this
    # computer), the process id and the OS's start time of that process (epoch seconds, so a
    # reused pid is never taken for the run), and the runner's own handle (e.g. a task id).
    runner: str | None = None
    ran_on: str | None = None
    pid: int | None = None
    process_started_at: float | None = None
    handle: str | None = None
    left_processes: int = 0  # processes a run left running after it exited (terminated by Jobdesk)
    stderr_tail: str | None = None  # its last lines of stderr (up to 20), for notifications
    # What the run waited (or waits) for before it could start, in words ("AC power"); None
    # when it never waited for a condition (jobs.conditions).
    waiting_for: str | None = None
    # E-mail and webhook deliveries about this run (jobs.alerts), oldest first.
    alerts: tuple[AlertDelivery, ...] = ()
    pool: str | None = None  # the pool of workers it was sent to (None: run on this computer)
    slow: str | None = None  # "long" or "short" than its job usually takes (jobs.slow_runs); None: usual
    # Retries (jobs.retries): this row is attempt `attempt` of at most `attempts`; the chain
    # began with run `first_run_id` (None: this row). A pending retry is due at `retry_at`; an
    # attempt followed by a retry names it in `retried_by` (so it is not the final outcome).
    attempt: int = 1
    attempts: int = 1
    first_run_id: int | None = None
    retry_at: datetime | None = None
    retried_by: int | None = None
    # Schema 5 (outputs): the expected outputs it wrote, and what it ran with (jobs.run_facts).
    outputs: tuple[OutputFile, ...] = ()
    environment: RunEnvironment | None = None
    upstream_run_id: int | None = None  # cause "after": the upstream run whose end started it
    # Schema 5 (digest): the wake-up digest a missed row belongs to (or a run it started), and
    # the choice made there: "run-latest", "run-all", "skip"; None: none (jobs.digest_store).
    digest_id: int | None = None
    digest_choice: str | None = None

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


# --- running --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunRequest:
    """What to run and how: a snapshot, so later edits of the job do not touch a running run.

    Everything but `log_path` (where this computer keeps the output) can travel to another
    machine as JSON.
    """

    command: tuple[str, ...]
    log_path: Path
    shell: bool = False  # command[0] through the system shell; further items joined with spaces
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict, hash=False)  # overrides on top of the runner's environment
    timeout: float | None = None  # seconds
    log_cap_bytes: int = 10 * 1024 * 1024
    kill_grace: float = 5.0  # seconds between SIGTERM and SIGKILL
    run_id: int | None = None  # the history row; given to the job as JOBDESK_RUN_ID
    job_id: str = ""
    pool: str | None = None  # run by a worker of this pool (jobs.runners.celery_runner)
    wait_limit: float | None = None  # with no worker on the pool this long, the run is missed
    # Expected outputs with their placeholders filled (relative to `cwd`); checked by the local
    # runner after exit 0 (jobs.expected_outputs)
    expect: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A read-only copy: the caller's dict may change while the run is on another thread.
        object.__setattr__(self, "env", MappingProxyType(dict(self.env)))


@dataclass(frozen=True)
class RunOutcome:
    """How a run ended; history stores it whole (`HistoryRepository.finish`)."""

    status: RunStatus  # a final status: SUCCEEDED, FAILED, TIMED_OUT, KILLED or INTERRUPTED
    exit_code: int | None  # negative signal number when killed by a signal; None if never started
    started_at: datetime | None  # aware UTC; None when no process ever existed
    ended_at: datetime  # aware UTC
    output_bytes: int = 0  # everything the process wrote, including what was cut
    truncated: bool = False
    error: str | None = None  # one line, e.g. "program not found: 'pyhton3'"
    pid: int | None = None
    left_processes: int = 0  # processes still running after the job exited, then terminated
    stderr_tail: str | None = None  # the last lines (up to 20) the job wrote to stderr
    outputs: tuple[OutputFile, ...] = ()  # the expected outputs it wrote (jobs.expected_outputs)
    environment: RunEnvironment | None = None  # what it ran with (jobs.run_environment)
