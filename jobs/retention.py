"""History retention in short steps: index seeks only, small batches, stoppable (issue 10).

The rules (jobs.settings): a run older than `retention_days` goes, a job keeps at most
`retention_runs` runs, and the newest row of every job always stays; logs go with their rows.

The first version ranked ALL runs (`row_number() OVER (PARTITION BY job_id)`) and grouped them
for each job's newest id inside one read transaction: at 10,000 jobs / 10M runs tens of seconds
of CPU, during which no checkpoint could reset the WAL (it grew to 160+ MB in a session) and,
still reading at close, it kept `truncate_wal` from emptying it (a 200 MB log recovered at the
next open). Here:
- Count rule: only a job that got runs since the last completed prune can newly exceed the
  limit. The largest run id that prune saw is kept in `jobdesk_meta` (WATERMARK_KEY); the jobs
  to check are those of the runs above it (a range of the primary key). Without a watermark
  (first prune, or a retention setting changed) every job is checked, listed by a skip-scan of
  `ix_runs_job_id_id`. Per job one seek finds the (N+1)-th newest id; it and older rows go.
  (A run whose id was handed out before a prune but whose row came after it, below the
  watermark, is counted the next time its job gets a run: a row over the limit meanwhile.)
- Age rule: candidates come from the `ix_runs_queued_at` range; "not its job's newest row" is
  one seek in `ix_runs_job_id_id` per candidate.
- Every read is its own short statement and every batch of deletes its own transaction, so
  checkpoints run between them. `stop` is checked between batches and jobs; the watermark is
  saved only when the whole prune finished (a stopped prune redoes its work next time).
The count rule runs first: it ranks the rows as they are, as the old single formulation did,
so the result is the same whatever order ids and queue times come in.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Union

from sqlalchemy import Connection, Engine, text

from jobs.runlog import ranges_path

log = logging.getLogger(__name__)

WATERMARK_KEY = "retention.watermark"  # in jobdesk_meta: the largest run id the last completed prune saw
JOB_CHUNK = 200  # jobs listed, and their limits looked up, per statement: ~5-15 ms at 1,000 runs a job
BATCH = 2000  # rows per transaction: a writer lock of 20-80 ms at the median on a loaded 2-core machine



class StopSignal:
    """A stop request that also interrupts the statement a prune is running (sqlite3_interrupt):
    under I/O load one batch's delete and commit took up to ~0.8 s; interrupted, the batch is
    rolled back at once and its rows stay for the next prune."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()  # `set` never interrupts a connection given back to the pool
        self._connection: Any = None  # the sqlite3 connection of the prune in progress

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        with self._lock:
            self._event.set()
            if self._connection is not None:
                self._connection.interrupt()  # no-op between statements: the flag is seen next

    @contextmanager
    def attached(self, connection: Any) -> Iterator[None]:
        with self._lock:
            self._connection = connection
        try:
            yield
        finally:
            with self._lock:
                self._connection = None


Stop = Union[threading.Event, StopSignal, Callable[[], bool], None]

# Every statement reaches the runs through an index (tests/jobs/test_retention.py checks the plans).
TOP_ID = "SELECT max(id) FROM runs"
# Up to :limit job ids in order, from the first (or after :after): a skip-scan of ix_runs_job_id_id,
# one seek per job, in one statement (a loop in Python would hold the GIL 10,000 times).
_LIST_JOBS = ("WITH RECURSIVE listed(job_id, n) AS ("
              " SELECT (SELECT min(job_id) FROM runs{where}), 1"
              " UNION ALL SELECT (SELECT min(job_id) FROM runs WHERE job_id > listed.job_id), n + 1 FROM listed"
              " WHERE listed.job_id IS NOT NULL AND n < :limit)"
              " SELECT job_id FROM listed WHERE job_id IS NOT NULL")
FIRST_JOBS = _LIST_JOBS.format(where="")
JOBS_AFTER = _LIST_JOBS.format(where=" WHERE job_id > :after")
# NOT INDEXED: else the planner walks all of ix_runs_job_id_id for the DISTINCT; this reads the id range
JOBS_WITH_NEW_RUNS = "SELECT DISTINCT job_id FROM runs NOT INDEXED WHERE id > :watermark"
# For each job of a JSON list, the id of its (:keep + 1)-th newest run: that one and older ones go.
BOUNDARIES = ("SELECT value, (SELECT id FROM runs WHERE job_id = value ORDER BY id DESC LIMIT 1 OFFSET :keep)"
              " FROM json_each(:jobs)")
OVER_LIMIT = ("SELECT id, log_path FROM runs WHERE job_id = :job AND id <= :boundary"
              " ORDER BY id DESC LIMIT :limit")
TOO_OLD = ("SELECT id, log_path, queued_at FROM runs"
           " WHERE queued_at < :cutoff AND queued_at >= :from_at AND NOT (queued_at = :from_at AND id <= :from_id)"
           " AND EXISTS (SELECT 1 FROM runs AS newer WHERE newer.job_id = runs.job_id AND newer.id > runs.id)"
           " ORDER BY queued_at, id LIMIT :limit")
READ_WATERMARK = "SELECT value FROM jobdesk_meta WHERE key = :key"
STATEMENTS = (TOP_ID, FIRST_JOBS, JOBS_AFTER, JOBS_WITH_NEW_RUNS, BOUNDARIES, OVER_LIMIT, TOO_OLD)


@dataclass(frozen=True)
class PruneReport:
    removed: int  # rows deleted (their logs with them)
    jobs_examined: int  # jobs whose count was checked
    finished: bool  # False: stopped before the end (the watermark was not moved)


def prune_runs(engine: Engine, *, max_age_days: float | None, max_runs_per_job: int | None,
               stop: Stop = None, batch: int = BATCH, now: float | None = None) -> PruneReport:  # fmt: skip
    """Apply the retention rules (None disables a rule); see the module docstring."""
    # One pooled DBAPI connection for the pass, used directly: through SQLAlchemy the 20,000 seeks
    # of a first prune at 10,000 jobs cost 2.6 s of Python (with the GIL) for 0.5 s in SQLite.
    # Reads outside a write are their own transactions (the sqlite3 module begins one only for a write).
    conn = engine.raw_connection()
    try:
        pruner = _Pruner(conn.cursor(), conn.commit, conn.rollback, _stop_test(stop), batch)
        with stop.attached(conn.driver_connection) if isinstance(stop, StopSignal) else nullcontext():
            finished = _prune(pruner, max_age_days, max_runs_per_job, now)
    finally:
        conn.close()  # back to the pool (a write left open is rolled back)
    return PruneReport(pruner.removed, pruner.jobs_examined, finished)


def _prune(pruner: _Pruner, max_age_days: float | None, max_runs_per_job: int | None, now: float | None) -> bool:
    top = pruner.one(TOP_ID)
    watermark = _as_id(pruner.one(READ_WATERMARK, key=WATERMARK_KEY))
    if max_runs_per_job is not None:
        pruner.apply_count_rule(max_runs_per_job, watermark)
    if max_age_days is not None and not pruner.stopped():
        pruner.apply_age_rule((time.time() if now is None else now) - max_age_days * 86400)
    if pruner.stopped():
        return False
    return top is None or top == watermark or pruner.save_watermark(int(top))


def forget_watermark(conn: Connection) -> None:
    """The next prune checks every job (a retention setting changed): call in the setting's write."""
    conn.execute(text("DELETE FROM jobdesk_meta WHERE key = :key"), {"key": WATERMARK_KEY})


class Retention:
    """The service's retention pass, on a background thread, which `stop` ends at close: its
    batches would keep the WAL from being emptied (jobs.db.truncate_wal)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._stop = StopSignal()
        self._idle = threading.Event()
        self._idle.set()

    def run(self, *, max_age_days: float | None, max_runs_per_job: int | None) -> int:
        """Rows removed; errors are logged (the next start tries again)."""
        self._idle.clear()  # before looking at the flag: `stop` then either waits or was seen
        try:
            if self._stop.is_set() or (max_age_days is None and max_runs_per_job is None):
                return 0
            began = time.monotonic()
            report = prune_runs(self._engine, max_age_days=max_age_days, max_runs_per_job=max_runs_per_job,
                                stop=self._stop)  # fmt: skip
        except Exception:
            log.exception("history retention failed; will try again next start")
            return 0
        finally:
            self._idle.set()
        log.info("history retention %s in %.2f s: %d old runs removed, %d jobs checked",
                 "finished" if report.finished else "stopped (the rest next start)",
                 time.monotonic() - began, report.removed, report.jobs_examined)  # fmt: skip
        return report.removed

    @property
    def running(self) -> bool:
        return not self._idle.is_set()

    def stop(self, timeout: float = 1.0) -> bool:
        """Ask a running pass to end (its statement interrupted, its batch rolled back) and wait
        up to `timeout` seconds; no later pass starts. True if none is running now."""
        self._stop.set()
        return self._idle.wait(timeout)


class _Pruner:
    def __init__(self, cursor: Any, commit: Callable[[], None], rollback: Callable[[], None],
                 stopped: Callable[[], bool], batch: int) -> None:  # fmt: skip
        self._cursor = cursor  # a sqlite3 cursor
        self._commit = commit
        self._rollback = rollback
        self.stopped = stopped
        self._batch = batch
        self._pending: list[tuple[int, str | None]] = []  # doomed (id, log path), deleted together
        self.removed = 0
        self.jobs_examined = 0

    def rows(self, statement: str, **params: Any) -> list[Any]:
        """All rows at once: a statement left unfinished would keep its read transaction open.
        No rows when a stop interrupted it (StopSignal)."""
        try:
            return self._cursor.execute(statement, params).fetchall()
        except sqlite3.OperationalError:
            if not self.stopped():
                raise
            return []

    def one(self, statement: str, **params: Any) -> Any:
        rows = self.rows(statement, **params)
        return rows[0][0] if rows else None

    def apply_count_rule(self, keep: int, watermark: int | None) -> None:
        chunks = self._all_jobs() if watermark is None else self._jobs_above(watermark)
        for chunk in chunks:
            if self.stopped():
                break
            self.jobs_examined += len(chunk)
            for job_id, boundary in self.rows(BOUNDARIES, jobs=json.dumps(chunk), keep=keep):
                if boundary is not None:
                    self._prune_job(job_id, boundary)
                    if self.stopped():
                        break
        self._flush()  # the last jobs' rows (dropped if stopped)

    def apply_age_rule(self, cutoff: float) -> None:
        after: tuple[float, int] = (float("-inf"), 0)
        while not self.stopped():
            rows = self.rows(TOO_OLD, cutoff=cutoff, from_at=after[0], from_id=after[1], limit=self._batch)
            if not rows:
                return
            after = (rows[-1][2], rows[-1][0])  # keyset: the kept newest rows are not read again
            self._pending += [(run_id, log_path) for run_id, log_path, _ in rows]
            self._flush()

    def save_watermark(self, top: int) -> bool:
        save = "INSERT OR REPLACE INTO jobdesk_meta (key, value) VALUES (?, ?)"
        return self._write(lambda: self._cursor.execute(save, (WATERMARK_KEY, str(top))))

    def _all_jobs(self) -> Iterator[list[str]]:
        """Every job id with runs, JOB_CHUNK at a time (a skip-scan; no statement stays open)."""
        chunk = [job_id for (job_id,) in self.rows(FIRST_JOBS, limit=JOB_CHUNK)]
        while chunk:
            yield chunk
            if len(chunk) < JOB_CHUNK:
                return
            chunk = [job_id for (job_id,) in self.rows(JOBS_AFTER, after=chunk[-1], limit=JOB_CHUNK)]

    def _jobs_above(self, watermark: int) -> Iterator[list[str]]:
        fresh = sorted(job_id for (job_id,) in self.rows(JOBS_WITH_NEW_RUNS, watermark=watermark))
        for start in range(0, len(fresh), JOB_CHUNK):
            yield fresh[start:start + JOB_CHUNK]

    def _prune_job(self, job_id: str, boundary: int) -> None:
        """Its rows up to `boundary` (newest first) into pending, a full batch deleted at once."""
        while True:
            room = self._batch - len(self._pending)
            rows = self.rows(OVER_LIMIT, job=job_id, boundary=boundary, limit=room)
            self._pending += [(run_id, log_path) for run_id, log_path in rows]
            if len(rows) < room:
                return  # the rest of this job is in `pending`
            self._flush()  # a batch is full; what is left of the job comes in the next one
            if self.stopped():
                return

    def _flush(self) -> None:
        """Delete the pending rows in one transaction, then their logs. Once stopped, they stay
        (the next prune finds them again)."""
        doomed, self._pending = self._pending, []
        if not doomed or self.stopped():
            return
        ids = sorted((run_id,) for run_id, _ in doomed)
        if self._write(lambda: self._cursor.executemany("DELETE FROM runs WHERE id = ?", ids)):
            self.removed += len(doomed)
            _remove_logs(log_path for _, log_path in doomed)

    def _write(self, statement: Callable[[], Any]) -> bool:
        """One write transaction; False if a stop interrupted it (then it was rolled back)."""
        try:
            statement()
            self._commit()
            return True
        except sqlite3.OperationalError:
            self._rollback()
            if not self.stopped():
                raise
            return False


def _remove_logs(paths: Iterable[str | None]) -> None:
    for log_path in paths:
        if log_path:
            Path(log_path).unlink(missing_ok=True)
            ranges_path(Path(log_path)).unlink(missing_ok=True)


def _stop_test(stop: Stop) -> Callable[[], bool]:
    if stop is None:
        return lambda: False
    if isinstance(stop, (threading.Event, StopSignal)):
        return stop.is_set
    return stop


def _as_id(value: str | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:  # not ours to trust: check every job
        return None
