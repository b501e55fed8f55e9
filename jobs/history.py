"""Run history: one row per run, missed slot or skipped overlap.

The row keeps the outcome and what was run (command, directory, environment overrides: NOTES
item 32), never the output: that goes to the run's log file. Queries are keyset-paged by id,
newest first, over indexes, so a million rows cost the same as a hundred.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import Engine, and_, func, insert, or_, select, text, update

from jobs.db import run_table
from jobs.gui_priority import every, give_way
from jobs.last_runs import OUTCOME_COLUMNS, LastRun, newest_statements, outcomes  # noqa: F401  (LastRun: here first)
from jobs.model import AlertDelivery, JobSpec, RunCause, RunOutcome, RunRecord, RunStatus
from jobs.retention import Stop, prune_runs
from jobs.run_facts import environment_from_text, environment_to_text, outputs_from_text, outputs_to_text
from jobs.runners.base import RunStarted
from jobs.workdir import resolved_cwd

log = logging.getLogger(__name__)
T = run_table.c


def to_epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, timezone.utc)


@dataclass(frozen=True)
class HistoryQuery:
    job_id: str | None = None
    statuses: tuple[RunStatus, ...] = ()
    since: datetime | None = None  # by the time the run was queued (due or asked for)
    until: datetime | None = None
    text: str | None = None  # substring of the job name
    before_id: int | None = None  # keyset paging: rows older than this id
    limit: int = 100

    def where(self) -> Any:
        clauses = []
        if self.job_id:
            clauses.append(T.job_id == self.job_id)
        if self.statuses:
            clauses.append(T.status.in_([s.value for s in self.statuses]))
        if self.since is not None:
            clauses.append(T.queued_at >= self.since.timestamp())
        if self.until is not None:
            clauses.append(T.queued_at < self.until.timestamp())
        if self.text:
            clauses.append(T.job_name.ilike(f"%{_escape_like(self.text)}%", escape="\\"))
        if self.before_id is not None:
            clauses.append(T.id < self.before_id)
        return and_(True, *clauses)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class HistoryRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._id_lock = threading.Lock()
        self._last_id: int | None = None

    def allocate_id(self) -> int:
        """A run id known before its row is written, so a run can start first and be recorded
        right after (the row write is then off the fire-latency path). Only the process holding
        the instance lock writes runs, so ids handed out here cannot collide."""
        return self.allocate_ids(1)[0]

    def allocate_ids(self, count: int) -> range:
        """`count` ids in one block, as `allocate_id` hands them out (a batch of rows)."""
        with self._id_lock:
            if self._last_id is None:
                with self._engine.connect() as conn:
                    seq = conn.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'runs'")).scalar()
                    top = conn.execute(select(func.max(T.id))).scalar()
                self._last_id = max(int(seq or 0), int(top or 0))
            first = self._last_id + 1
            self._last_id += max(0, count)
            return range(first, self._last_id + 1)

    @property
    def engine(self) -> Engine:
        return self._engine

    # --- writing ---------------------------------------------------------------------------

    def create(
        self,
        job: JobSpec,
        cause: RunCause,
        status: RunStatus,
        *,
        scheduled_at: datetime | None = None,
        error: str | None = None,
        run_id: int | None = None,
        queued_at: datetime | None = None,
        waiting_for: str | None = None,
        queued_on: tuple[str, str | None, str | None] | None = None,
        upstream_run_id: int | None = None,
    ) -> int:
        """Insert a row and return its id. Final statuses (missed, skipped) also get ended_at.
        `queued_on`: (runner, handle, pool) of a run handed to a pool's queue (see mark_queued)."""
        now = time.time()
        values: dict[str, Any] = dict(
            id=run_id if run_id is not None else self.allocate_id(),
            cause=cause.value,
            status=status.value,
            scheduled_at=to_epoch(scheduled_at),
            queued_at=now if queued_at is None else queued_at.timestamp(),
            error=error,
            waiting_for=waiting_for,
            upstream_run_id=upstream_run_id,
            **_what_was_run(job),
        )
        if queued_on is not None:
            values.update(runner=queued_on[0], handle=queued_on[1], pool=queued_on[2])
        if status.is_final:
            values["ended_at"] = now
        with self._engine.begin() as conn:
            conn.execute(insert(run_table).values(**values))
        return int(values["id"])

    def create_started(
        self, run_id: int, job: JobSpec, cause: RunCause, *, scheduled_at: datetime | None,
        queued_at: datetime, log_path: Path | None, started: RunStarted | None, runner: str | None = None,
        upstream_run_id: int | None = None,
    ) -> None:
        """Write the row of a run that did not wait for a slot (see `allocate_id`); `started`
        is None when its process could not be started."""
        values = dict(
            id=run_id, cause=cause.value, status=RunStatus.RUNNING.value, scheduled_at=to_epoch(scheduled_at),
            queued_at=queued_at.timestamp(), log_path=str(log_path) if log_path else None,
            upstream_run_id=upstream_run_id, **_what_was_run(job), **_where_it_runs(started, runner),
        )
        with self._engine.begin() as conn:
            conn.execute(insert(run_table).values(**values))

    def create_many(
        self, rows: Iterable[tuple[JobSpec, RunCause, RunStatus, datetime | None, str | None]]
    ) -> list[RunRecord]:
        """Record several final rows (a job's missed slots, an import of old history) in one
        transaction: all or none. Returns their records in the order given, read back in one
        query in the same transaction, so each is what `get` returns (a row a transaction cost
        4-15 ms at 10 million runs; 50 missed slots of a job wrote one by one froze the window)."""
        now = time.time()
        rows = list(rows)
        ids = self.allocate_ids(len(rows))
        what: dict[int, dict[str, Any]] = {}  # per job, not per row: its folder is looked up on disk
        for job, *_ in rows:
            if id(job) not in what:
                what[id(job)] = _what_was_run(job)
        values = [
            dict(id=run_id, cause=cause.value, status=status.value, scheduled_at=to_epoch(scheduled),
                 queued_at=now, ended_at=now, error=error, **what[id(job)])
            for run_id, (job, cause, status, scheduled, error) in zip(ids, rows)
        ]
        if not values:
            return []
        with self._engine.begin() as conn:
            conn.execute(insert(run_table), values)  # one executemany
            written = conn.execute(select(run_table).where(T.id.between(ids[0], ids[-1])).order_by(T.id)).all()
        return [_record(row) for row in written]

    def mark_started(
        self, run_id: int, started_at: datetime, log_path: Path | None,
        started: RunStarted | None = None, runner: str | None = None,
    ) -> None:
        """A queued run's process exists (`started` says where, when a runner reported it)."""
        values = dict(status=RunStatus.RUNNING.value, log_path=str(log_path) if log_path else None,
                      **_where_it_runs(started, runner))
        values["started_at"] = started_at.timestamp()
        values["error"] = None  # a note it had while waiting ("no worker on pool gpu")
        waiting = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)  # a run stopped meanwhile stays stopped
        with self._engine.begin() as conn:
            conn.execute(update(run_table).where(T.id == run_id, T.status.in_(waiting)).values(**values))

    def mark_queued(self, run_id: int, *, runner: str, handle: str | None, pool: str | None, note: str | None) -> None:
        """A run handed to a queue elsewhere (a pool of workers) waits there; `note` says why it
        waits, if it is not only its turn ("no worker on pool gpu")."""
        with self._engine.begin() as conn:
            conn.execute(update(run_table).where(T.id == run_id, T.status == RunStatus.QUEUED.value)
                         .values(runner=runner, handle=handle, pool=pool, error=note))

    def mark_waiting(self, run_id: int, waiting_for: str) -> None:
        """A run waits for a condition (jobs.conditions): what it waits for, in words."""
        with self._engine.begin() as conn:
            conn.execute(update(run_table).where(T.id == run_id)
                         .values(status=RunStatus.WAITING.value, waiting_for=waiting_for))

    def mark_released(self, run_id: int) -> None:
        """A run whose conditions now hold waits for a free slot (its `waiting_for` is kept:
        history says what it waited for)."""
        with self._engine.begin() as conn:
            conn.execute(update(run_table).where(T.id == run_id, T.status == RunStatus.WAITING.value)
                         .values(status=RunStatus.QUEUED.value))

    def waiting(self) -> list[RunRecord]:
        """Runs waiting for a condition, oldest first (they outlive a restart)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(run_table).where(T.status == RunStatus.WAITING.value).order_by(T.id)).all()
        return [_record(row) for row in rows]

    def set_alerts(self, run_id: int, alerts: Iterable[AlertDelivery]) -> None:
        """Store the run's alert deliveries as they stand (jobs.alerts)."""
        with self._engine.begin() as conn:
            conn.execute(update(run_table).where(T.id == run_id).values(alerts=alerts_to_json(alerts)))

    def with_pending_alerts(self, since: datetime) -> list[RunRecord]:
        """Runs queued since `since` whose alerts were not all delivered when Jobdesk stopped."""
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(run_table).where(T.queued_at >= since.timestamp(), T.alerts.like('%"pending"%')).order_by(T.id)
            ).all()
        return [_record(row) for row in rows]

    def finish(self, run_id: int, outcome: RunOutcome) -> None:
        """Store how a run ended, as the runner reported it. Raises when no row was changed:
        a run whose end is not recorded must not pass for recorded."""
        values: dict[str, Any] = dict(
            status=outcome.status.value, ended_at=outcome.ended_at.timestamp(), exit_code=outcome.exit_code,
            output_bytes=outcome.output_bytes, truncated=outcome.truncated, error=outcome.error,
            left_processes=outcome.left_processes, stderr_tail=outcome.stderr_tail,
            outputs=outputs_to_text(outcome.outputs), environment=environment_to_text(outcome.environment),
        )
        if outcome.started_at is not None:
            values["started_at"] = outcome.started_at.timestamp()
        with self._engine.begin() as conn:
            changed = conn.execute(update(run_table).where(T.id == run_id).values(**values)).rowcount
        if not changed:
            raise LookupError(f"run #{run_id} has no row to finish")

    def mark_slow(self, run_id: int, kind: str, *, only_running: bool = False) -> bool:
        """Mark a run "long" or "short" than usual (jobs.slow_runs); False when no row changed
        (with `only_running`: the run ended meanwhile, or was marked already)."""
        where = [T.id == run_id, T.slow.is_(None)]
        if only_running:
            where.append(T.status == RunStatus.RUNNING.value)
        with self._engine.begin() as conn:
            return bool(conn.execute(update(run_table).where(*where).values(slow=kind)).rowcount)

    def interrupt_leftovers(self, keep: Iterable[int] = ()) -> int:
        """Rows left queued or running by a crash (app, machine) become interrupted, except the
        runs in `keep` (handed to their runner to recover). Returns the count."""
        now = time.time()
        kept = sorted(set(keep))
        with self._engine.begin() as conn:
            running = conn.execute(
                update(run_table)
                .where(T.status == RunStatus.RUNNING.value, T.id.not_in(kept))
                .values(status=RunStatus.INTERRUPTED.value, ended_at=now,
                        error="Jobdesk stopped during the run (crash, kill or power loss)")
            ).rowcount
            queued = conn.execute(
                update(run_table)
                .where(T.status == RunStatus.QUEUED.value, T.id.not_in(kept))
                .values(status=RunStatus.INTERRUPTED.value, ended_at=now,
                        error="Jobdesk stopped before the run could start")
            ).rowcount
        total = int(running or 0) + int(queued or 0)
        if total:
            log.warning("marked %d run(s) left unfinished by the last session as interrupted", total)
        return total

    def prune(self, *, max_age_days: float | None, max_runs_per_job: int | None, stop: Stop = None) -> int:
        """Delete old rows and their logs; the newest row of every job is always kept. In short
        batches, incrementally, stoppable (jobs.retention); returns the rows deleted."""
        return prune_runs(self._engine, max_age_days=max_age_days, max_runs_per_job=max_runs_per_job, stop=stop).removed

    # --- reading ---------------------------------------------------------------------------

    def get(self, run_id: int) -> RunRecord | None:
        with self._engine.connect() as conn:
            row = conn.execute(select(run_table).where(T.id == run_id)).one_or_none()
        return None if row is None else _record(row)

    def last_success_before(self, job_id: str, run_id: int) -> RunRecord | None:
        """The job's newest succeeded run older than `run_id`: one seek in (job_id, id)."""
        stmt = (select(run_table).where(T.job_id == job_id, T.id < run_id, T.status == RunStatus.SUCCEEDED.value)
                .order_by(T.id.desc()).limit(1))
        with self._engine.connect() as conn:
            row = conn.execute(stmt).one_or_none()
        return None if row is None else _record(row)

    def query(self, q: HistoryQuery = HistoryQuery()) -> list[RunRecord]:
        stmt = select(run_table).where(q.where()).order_by(T.id.desc()).limit(q.limit)
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(stmt)]

    def count(self, q: HistoryQuery = HistoryQuery()) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(run_table).where(q.where())).scalar() or 0)

    def last_runs(self, job_ids: Iterable[str], *, brief: bool = False) -> dict[str, RunRecord]:
        """The newest row of each job: one index seek per job, not a scan of all history.
        `brief`: only what a list of jobs shows of it (BRIEF_COLUMNS); the rest of each record
        keeps its defaults (no command, environment, log path, outputs or alerts). The window's
        Jobs table holds 10,000 of them: brief, they are ~6 MiB smaller, and read faster."""
        if brief:
            return {row[1]: _brief_record(row) for row in every(self._newest(job_ids, _BRIEF_SQL))}
        columns = ", ".join(f"r.{name}" for name in run_table.c.keys())
        return {row.job_id: _record(row) for row in every(self._newest(job_ids, columns))}  # (jobs.gui_priority)

    def last_outcomes(self, job_ids: Iterable[str]) -> dict[str, LastRun]:
        """Status and time of each job's newest row, without decoding whole rows (a job list
        of 10,000 jobs spent 0.2 s turning rows into RunRecords it showed two fields of)."""
        return outcomes(self._newest(job_ids, OUTCOME_COLUMNS))

    def _newest(self, job_ids: Iterable[str], columns: str) -> list[Any]:
        """`columns` of each job's newest row, `r` being the row (jobs.last_runs)."""
        rows: list[Any] = []
        with self._engine.connect() as conn:
            for sql, chunk in newest_statements(job_ids, columns):
                give_way()  # (jobs.gui_priority)
                rows += conn.exec_driver_sql(sql, chunk).all()
        return rows

    def ended_since(self, job_id: str, since: float, statuses: Iterable[RunStatus], limit: int = 20) -> list[RunRecord]:
        """Runs of `job_id` with one of `statuses` that ended after `since` (epoch), newest first
        (jobs.chains: did an upstream job finish that way since its downstream job last ran?)."""
        wanted = [status.value for status in statuses]
        query = (select(run_table).where(T.job_id == job_id, T.ended_at > since, T.status.in_(wanted))
                 .order_by(T.id.desc()).limit(limit))
        with self._engine.connect() as conn:
            return [_record(row) for row in conn.execute(query)]

    def last_queued_at(self, job_id: str) -> float | None:
        """When the newest run of `job_id` was queued (epoch), or None if it never ran."""
        with self._engine.connect() as conn:
            return conn.execute(select(T.queued_at).where(T.job_id == job_id).order_by(T.id.desc()).limit(1)).scalar()

    def active(self) -> list[RunRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(run_table).where(or_(T.status == RunStatus.RUNNING.value, T.status == RunStatus.QUEUED.value))
            ).all()
        return [_record(row) for row in rows]


def _what_was_run(job: JobSpec) -> dict[str, Any]:
    """The job's identity and command as they were for this run (NOTES item 32)."""
    return dict(
        job_id=job.id, job_name=job.name, command=json.dumps(list(job.argv)), shell=job.shell,
        cwd=resolved_cwd(job), env=json.dumps(dict(job.env)), attempts=job.retries + 1,
    )


def _where_it_runs(started: RunStarted | None, runner: str | None) -> dict[str, Any]:
    """The run's process identity and runner handle (jobs.runners), for finding it again."""
    if started is None:
        return {"runner": runner} if runner else {}
    handle = started.handle
    return dict(
        started_at=started.started_at.timestamp(), runner=handle.runner or runner, ran_on=started.host,
        pid=handle.pid, process_started_at=handle.process_started_at, handle=handle.ref,
    )


_CAUSES = {cause.value: cause for cause in RunCause}
_STATUSES = {status.value: status for status in RunStatus}


def _record(row: Any) -> RunRecord:
    # A dict first: 38 attribute reads of a SQLAlchemy Row cost 12 µs a record (0.12 s of the
    # 0.29 s that the newest runs of 10,000 jobs took to read into records)
    v = dict(zip(row._fields, row))
    return RunRecord(
        id=v["id"],
        job_id=v["job_id"],
        job_name=v["job_name"],
        cause=_CAUSES.get(v["cause"]) or RunCause(v["cause"]),  # a dict: Enum() calls were 2 µs each
        status=_STATUSES.get(v["status"]) or RunStatus(v["status"]),
        scheduled_at=from_epoch(v["scheduled_at"]),
        queued_at=from_epoch(v["queued_at"]),
        started_at=from_epoch(v["started_at"]),
        ended_at=from_epoch(v["ended_at"]),
        exit_code=v["exit_code"],
        log_path=Path(v["log_path"]) if v["log_path"] else None,
        output_bytes=v["output_bytes"] or 0,
        truncated=bool(v["truncated"]),
        error=v["error"],
        command=tuple(json.loads(v["command"] or "[]")),
        shell=bool(v["shell"]),
        cwd=v["cwd"],
        env=tuple(sorted(json.loads(v["env"]).items())) if v["env"] and v["env"] != "{}" else (),
        runner=v["runner"],
        ran_on=v["ran_on"],
        pid=v["pid"],
        process_started_at=v["process_started_at"],
        handle=v["handle"],
        left_processes=v["left_processes"] or 0,
        stderr_tail=v["stderr_tail"],
        waiting_for=v["waiting_for"],
        alerts=alerts_from_json(v["alerts"]),
        pool=v["pool"],
        slow=v["slow"],
        attempt=v["attempt"] or 1,
        attempts=v["attempts"] or 1,
        first_run_id=v["first_run_id"],
        retry_at=from_epoch(v["retry_at"]),
        retried_by=v["retried_by"],
        outputs=outputs_from_text(v["outputs"]),
        environment=environment_from_text(v["environment"]),
        upstream_run_id=v["upstream_run_id"],
        digest_id=v["digest_id"],
        digest_choice=v["digest_choice"],
    )


BRIEF_COLUMNS = ("id", "job_id", "job_name", "cause", "status", "scheduled_at", "queued_at", "started_at", "ended_at",
                 "exit_code", "error", "stderr_tail", "slow", "waiting_for", "attempt", "attempts", "retry_at",
                 "retried_by", "pool", "ran_on", "runner")  # fmt: skip
_BRIEF_SQL = ", ".join(f"r.{name}" for name in BRIEF_COLUMNS)


def _brief_record(row: Any) -> RunRecord:
    (run_id, job_id, job_name, cause, status, scheduled, queued, started, ended, exit_code, error, stderr_tail, slow,
     waiting_for, attempt, attempts, retry_at, retried_by, pool, ran_on, runner) = row  # fmt: skip
    return RunRecord(id=run_id, job_id=job_id, job_name=job_name, cause=_CAUSES.get(cause) or RunCause(cause),
                     status=_STATUSES.get(status) or RunStatus(status), scheduled_at=from_epoch(scheduled),
                     queued_at=from_epoch(queued), started_at=from_epoch(started), ended_at=from_epoch(ended),
                     exit_code=exit_code, error=error, stderr_tail=stderr_tail, slow=slow, waiting_for=waiting_for,
                     attempt=attempt or 1, attempts=attempts or 1, retry_at=from_epoch(retry_at), retried_by=retried_by,
                     pool=pool, ran_on=ran_on, runner=runner)  # fmt: skip


def alerts_to_json(alerts: Iterable[AlertDelivery]) -> str | None:
    items = [
        {"channel": a.channel, "target": a.target, "state": a.state, "at": to_epoch(a.at), "attempts": a.attempts,
         "error": a.error}
        for a in alerts
    ]
    return json.dumps(items) if items else None


def alerts_from_json(text: str | None) -> tuple[AlertDelivery, ...]:
    """The stored deliveries; a damaged value reads as none rather than hiding the run."""
    if not text:
        return ()
    try:
        return tuple(
            AlertDelivery(str(item["channel"]), str(item["target"]), str(item["state"]), from_epoch(item.get("at")),
                          int(item.get("attempts") or 0), item.get("error"))
            for item in json.loads(text)
        )
    except (ValueError, TypeError, KeyError):
        log.warning("unreadable alert record %r", text[:80])
        return ()
