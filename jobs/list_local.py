"""`jobdesk list` with no instance running: the listing read from the database file itself.

A read needs neither the lock (jobs.client) nor SQLAlchemy, whose import was most of a small
`jobdesk list` (issue 10): the same listing (jobs.listing) is fed here through plain sqlite3, with
the statements jobs.history and jobs.next_runs use (jobs.last_runs, jobs.stored_next_runs). Only
after-jobs, whose expected runs come from the chain code, open an SQLAlchemy engine.

Every read from the file, here or in jobs.client, runs the database check beside it
(`checked_read`): damage it finds is reported instead of the answer.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from jobs.command_errors import CommandFailed
from jobs.last_runs import OUTCOME_COLUMNS, LastRun, newest_statements, outcomes
from jobs.listing import list_answer
from jobs.model import DateSpec, IntervalSpec, JobSpec, TriggerSpec
from jobs.paths import DataDir
from jobs.schema_version import SCHEMA_VERSION
from jobs.stored_next_runs import APS_TABLE, STORED_SQL, next_times
from jobs.stored_rows import PlainRow, StoredDefinition, decode_row

if TYPE_CHECKING:
    from jobs.after_next import ExpectedAfter
    from jobs.dbcheck import ReadCheck
    from jobs.upcoming import FireTimes

_repository_log = logging.getLogger("jobs.repository")  # unreadable rows are said as the repository says them
BUSY_TIMEOUT_S = 10.0  # as jobs.db's engine


def unheld_and_current(data_dir: DataDir) -> bool:
    """No lock file (so no instance, live or crashed) and a database of this schema version."""
    if data_dir.lock_file.exists() or not data_dir.database.is_file():
        return False
    try:
        conn = sqlite3.connect(f"{data_dir.database.as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM jobdesk_meta WHERE key = 'schema_version'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:  # not ours, damaged, or unreadable: the usual path says why
        return False
    return row is not None and row[0] == str(SCHEMA_VERSION)


_early: dict[Path, ReadCheck] = {}  # checks started by `early_read_check`, not yet claimed


@contextmanager
def early_read_check(data_dir: DataDir, reads: bool) -> Iterator[None]:
    """Around a whole command: when it `reads` and will be answered from the file, its check
    starts now, so that the check's floor (dbcheck.READ_FLOOR) runs beside the command's imports
    (`show` imports SQLAlchemy, ~0.2 s) instead of after its work; `checked_read` takes it over.
    One that no read claimed (an instance answered, bad arguments) is dropped at the end."""
    if reads and unheld_and_current(data_dir):
        from jobs.dbcheck import read_check

        _early[data_dir.database] = read_check(data_dir.database)
    try:
        yield
    finally:
        _early.pop(data_dir.database, None)


@contextmanager
def checked_read(data_dir: DataDir) -> Iterator[None]:
    """Run the body (a read) while the database check runs beside it (jobs.dbcheck.ReadCheck);
    damage it finds wins over the answer, and over any failure damage explains."""
    from jobs.dbcheck import damage_in_read, read_check

    started = _early.pop(data_dir.database, None) or read_check(data_dir.database)
    try:
        yield
    except Exception as exc:
        _check_result(started, data_dir)  # what the check found comes first
        damage = damage_in_read(data_dir.database, exc)  # a damaged page the read itself met
        if damage is not None:
            raise CommandFailed(str(damage)) from None
        raise
    _check_result(started, data_dir)


def _check_result(started: Any, data_dir: DataDir) -> None:
    from jobs.dbcheck import DamagedDatabase

    try:
        started.result()
    except DamagedDatabase as exc:
        raise CommandFailed(str(exc)) from None
    except sqlite3.Error as exc:
        raise CommandFailed(f"{data_dir.database}: cannot be checked: {exc}") from None


def list_here(data_dir: DataDir) -> dict[str, Any] | None:
    """`list`'s answer read from the file, or None when an instance (or a lock left by one) holds
    the data directory or the file needs the usual path (jobs.client says why)."""
    if not unheld_and_current(data_dir):
        return None
    with checked_read(data_dir):
        conn = sqlite3.connect(data_dir.database, timeout=BUSY_TIMEOUT_S)
        source = FileSource(conn, data_dir)
        try:
            return list_answer(source)
        finally:
            source.close()
            conn.close()


class FileSource:
    """jobs.listing.ListingSource over a plain sqlite3 connection."""

    def __init__(self, conn: sqlite3.Connection, data_dir: DataDir) -> None:
        self._conn = conn
        self._data_dir = data_dir
        self._fire_times: FireTimes | None = None
        self._engine: Any = None  # an SQLAlchemy engine, for after-jobs only

    def rows(self) -> Sequence[StoredDefinition]:
        query = "SELECT id, name, paused, spec FROM job_definitions ORDER BY name, id"  # as JobRepository.rows
        return [StoredDefinition(job_id, name, bool(paused), spec) for job_id, name, paused, spec in self._conn.execute(query)]

    def decode(self, row: StoredDefinition) -> JobSpec | None:
        decoded = decode_row(row)
        if isinstance(decoded, str):
            _repository_log.error(decoded)
            return None
        return decoded

    def next_runs(self, listed: Sequence[PlainRow]) -> dict[str, datetime]:
        has_table = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (APS_TABLE,)).fetchone()
        stored = dict(self._conn.execute(STORED_SQL).fetchall()) if has_table else {}
        return next_times(listed, stored, self._first_fire)  # no scheduler runs: unknown jobs get their next fire

    def _first_fire(self, trigger: TriggerSpec, now: datetime) -> datetime | None:
        if _ended(trigger, now):  # the store drops a finished job: no trigger (nor APScheduler) to ask
            return None
        if self._fire_times is None:
            from jobs.upcoming import FireTimes

            self._fire_times = FireTimes()
        upcoming = self._fire_times.after(trigger, now, 1)
        return upcoming[0] if upcoming else None

    def last_outcomes(self, job_ids: Iterable[str]) -> dict[str, LastRun]:
        rows: list[Any] = []
        for sql, chunk in newest_statements(job_ids, OUTCOME_COLUMNS):
            rows += self._conn.execute(sql, chunk).fetchall()
        return outcomes(rows)

    def expected(self, after: list[JobSpec], next_runs: dict[str, datetime]) -> dict[str, ExpectedAfter]:
        from jobs.after_next import next_expected
        from jobs.chains import finished_so_far
        from jobs.db import create_sqlite_engine
        from jobs.history import HistoryRepository

        self._engine = create_sqlite_engine(self._data_dir.database)
        history = HistoryRepository(self._engine)
        return next_expected(after, next_runs, finished_so_far(self._engine, history, after))

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


def _ended(trigger: TriggerSpec, now: datetime) -> bool:
    """A one-off time or an interval's end not after `now`: no fire is left after it."""
    if isinstance(trigger, DateSpec):
        return trigger.run_at <= now
    return isinstance(trigger, IntervalSpec) and trigger.end is not None and trigger.end <= now
