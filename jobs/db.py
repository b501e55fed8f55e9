"""The SQLite database: engine set-up, our tables and forward migrations.

One file holds our tables and APScheduler's job store (they share `METADATA`). Every connection
gets WAL, a busy timeout, synchronous=NORMAL and foreign keys (NOTES item 11): in WAL a reader
never blocks the writer's commit, which is what made the default journal mode fail with
"database is locked" here.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError

from jobs import dbcheck
from jobs.paths import make_private_file
from jobs.schema_version import SCHEMA_VERSION  # noqa: F401  (here first)
from jobs.write_turns import take_turns

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 10_000
TURN_WAIT_S = 2.0  # the longest a writer waits for its turn (jobs.write_turns), then SQLite's wait as before

METADATA = MetaData()

meta_table = Table(
    "jobdesk_meta",
    METADATA,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

job_table = Table(
    "job_definitions",
    METADATA,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("paused", Boolean, nullable=False, default=False),
    Column("spec", Text, nullable=False),  # JSON of the whole JobSpec (jobs.codec)
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Times are UTC epoch seconds: compact, sortable, and free of zone ambiguity.
run_table = Table(
    "runs",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", String, nullable=False),
    Column("job_name", String, nullable=False),
    Column("cause", String, nullable=False),
    Column("status", String, nullable=False),
    Column("scheduled_at", Float),
    Column("queued_at", Float),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("exit_code", Integer),
    Column("log_path", String),
    Column("output_bytes", Integer, nullable=False, default=0),
    Column("truncated", Boolean, nullable=False, default=False),
    Column("error", Text),
    Column("command", Text, nullable=False, default="[]"),  # JSON list, as run
    Column("shell", Boolean, nullable=False, default=False),
    Column("cwd", String),
    Column("env", Text, nullable=False, default="{}"),  # JSON object of overrides, as run
    # Schema 2: where the run went and which process it was (jobs.runners), so a later start
    # can find what a crash left running (pid plus the OS's start time: a reused pid never
    # matches) or re-attach to a remote run by its handle.
    Column("runner", String),  # "local"; NULL in rows from before schema 2
    Column("ran_on", String),  # host name; NULL: this computer
    Column("pid", Integer),
    Column("process_started_at", Float),  # epoch seconds, as the OS reports the process's start
    Column("handle", String),  # the runner's own reference (e.g. a task id)
    Column("left_processes", Integer, nullable=False, default=0, server_default="0"),  # left running by an exited run
    Column("stderr_tail", Text),  # the run's last lines of stderr
    # Schema 3: conditions and alerts (issue 12). What a run waits (or waited) for before it
    # could start ("AC power"; NULL: it never waited), and its e-mail/webhook deliveries as a
    # JSON list of {"channel", "target", "state", "at", "attempts", "error"} (NULL: none).
    Column("waiting_for", Text),
    Column("alerts", Text),
    # Schema 4: the pool of workers a remote run was sent to (jobs.remote); NULL: this computer.
    Column("pool", String),
    # Schema 5 (insight): a run that took much longer or shorter than its job usually takes
    # (jobs.slow_runs): "long", "short"; NULL: usual, or too few runs to say.
    Column("slow", String),
    # Schema 5 (retries): attempt N of at most `attempts`, the chain's first run (NULL: this
    # one), when a pending retry is due, and the retry that followed a failed attempt.
    Column("attempt", Integer, nullable=False, default=1, server_default="1"),
    Column("attempts", Integer, nullable=False, default=1, server_default="1"),
    Column("first_run_id", Integer),
    Column("retry_at", Float),
    Column("retried_by", Integer),
    # Schema 5 (outputs): the expected outputs a run wrote, as a JSON list of {"path", "bytes",
    # "modified"}, and what it ran with (program, script files and their sha256, cwd, overrides,
    # version, host) as a JSON object (jobs.run_facts). NULL: none / not recorded.
    Column("outputs", Text),
    Column("environment", Text),
    # Schema 5 (chains): the upstream run whose end started this one (cause "after"); NULL otherwise.
    Column("upstream_run_id", Integer),
    # Schema 5 (digest): a missed row's wake-up digest (jobs.digest_store) and the user's choice
    # for it there ("run-latest", "run-all", "skip"); a run started by that choice carries both too.
    Column("digest_id", Integer),
    Column("digest_choice", String),
    sqlite_autoincrement=True,
)
Index("ix_runs_job_id_id", run_table.c.job_id, run_table.c.id)
Index("ix_runs_status_id", run_table.c.status, run_table.c.id)
Index("ix_runs_queued_at", run_table.c.queued_at)
# Schema 5 (insight): each job's newest successful (failed, ...) runs are one range of this
# index, however many other rows lie between them, and it holds their times: the usual
# durations of 10,000 jobs read no table row (jobs.run_stats; 1.25 s -> 0.13 s over 1M runs).
ix_runs_job_status_id = Index("ix_runs_job_status_id", run_table.c.job_id, run_table.c.status, run_table.c.id,
                              run_table.c.started_at, run_table.c.ended_at, run_table.c.slow)
digest_index = Index("ix_runs_digest_id", run_table.c.digest_id)  # schema 5 (digest)

# Schema 5 (digest): one row per wake-up digest: the runs missed while the computer slept or
# Jobdesk was closed, offered to the user together (jobs.digest_store). Epoch seconds.
wake_digest_table = Table(
    "wake_digests",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False),  # "asleep", "closed" or "asleep-closed" (merged)
    Column("since", Float, nullable=False),
    Column("until", Float, nullable=False),
    Column("away", Float, nullable=False, default=0.0),  # seconds asleep or closed, overlaps counted once
    Column("created_at", Float, nullable=False),
    Column("settled_at", Float),  # every missed run in it has a choice; NULL: open
    sqlite_autoincrement=True,
)


class DatabaseError(RuntimeError):
    """The database file cannot be used; the message says which file and why."""


PAGE_CACHE_KIB = 256  # per connection (see _set_pragmas)


WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes a reset WAL file is cut back to (PRAGMA journal_size_limit)


def _set_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # No transaction is open on a fresh DBAPI connection, so journal_mode can change here.
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # Each pooled connection keeps its own page cache (SQLite's default: 2 MiB). At 10 million
        # runs every connection that served a big read (strips, a digest, retention) filled it:
        # up to 24 connections, 25-40 MiB of the window's peak memory (issue 10). The OS caches
        # the file anyway: 256 KiB measured 196-198 MiB peak, 512 KiB 196-215 MiB.
        cur.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
        # A WAL file grown by one long read (the whole-file check, retention's scan) keeps its
        # size after it is reset; beyond this it is cut back at the reset (SQLite's own limit).
        cur.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
    finally:
        cur.close()


def truncate_wal(path: Path, timeout: float = 1.0) -> bool:
    """Checkpoint the write-ahead log into the file and empty it (a scheduling process's clean
    close). SQLite does this when the last connection closes, but a connection another thread
    still held (a long check, a page read) left it: at 10,000 jobs / 10M runs the WAL had grown
    to 237 MB over a day of starts, and every open and read went through it. True if emptied."""
    try:
        conn = sqlite3.connect(path, timeout=timeout)
        try:
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        log.info("the WAL of %s was not emptied at close: %s", path, exc)
        return False
    if busy:
        log.info("the WAL of %s was not emptied at close: another thread still reads or writes", path)
    return busy == 0


def create_sqlite_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_size=8,
        max_overflow=16,
    )
    event.listen(engine, "connect", _set_pragmas)
    take_turns(engine, TURN_WAIT_S)  # this process's writers queue without SQLite's backoff
    return engine


Migration = Callable[[Any], None]


def _add_missing_columns(table: Table) -> Migration:
    """A migration that adds the columns of `table` the file lacks (step 0 creates tables with
    every column of today, so later steps must not add them twice)."""

    def migrate(conn: Any) -> None:
        present = {row[1] for row in conn.execute(text(f"PRAGMA table_info({table.name})"))}
        for column in table.columns:
            if column.name in present:
                continue
            ddl = f"{column.type.compile(dialect=conn.dialect)}"
            default = column.default.arg if column.default is not None else None  # type: ignore[attr-defined]
            if not column.nullable:
                ddl += f" NOT NULL DEFAULT {int(default) if isinstance(default, bool) else default!r}"
            conn.execute(text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {ddl}'))

    return migrate


def _schema_5(conn: Any) -> None:
    _add_missing_columns(run_table)(conn)
    ix_runs_job_status_id.create(conn, checkfirst=True)  # insight: an index is no column
    METADATA.create_all(conn, tables=[wake_digest_table])
    digest_index.create(conn, checkfirst=True)


# Forward migrations: MIGRATIONS[n] takes a connection from version n to n + 1. Version 0 is
# an empty file; creating the tables is the first step.
MIGRATIONS: dict[int, Migration] = {
    0: lambda conn: METADATA.create_all(conn, tables=[meta_table, job_table, run_table, wake_digest_table]),
    1: _add_missing_columns(run_table),  # runner, ran_on, pid, process_started_at, handle, left_processes, stderr_tail
    2: _add_missing_columns(run_table),  # waiting_for, alerts
    3: _add_missing_columns(run_table),  # pool
    4: _schema_5,
}


def open_database(path: Path, *, check_budget: float | None = None) -> Engine:
    """Open (creating or migrating) the Jobdesk database at `path`.

    A file that is not SQLite, is damaged (jobs.dbcheck, at most `check_budget` seconds,
    default `dbcheck.DEFAULT_BUDGET`), truncated to nothing, or comes from a newer Jobdesk raises DatabaseError and is left
    exactly as it was.
    """
    return open_checked_database(path, check_budget=check_budget)[0]


def open_checked_database(path: Path, *, check_budget: float | None = None,
                          check: bool = True, defer_check: bool = False) -> tuple[Engine, dbcheck.CheckResult]:  # fmt: skip
    """`open_database`, also saying whether the check covered the whole file in its budget
    (else the caller may finish it with `dbcheck.full_check` in the background). `check=False`:
    the caller checks the file itself, beside its read (jobs.list_local.checked_read). With
    `defer_check` only the small tables are checked, unless opening writes (a migration): the
    caller checks the rest before it writes (the window, dbcheck.BackgroundCheck)."""
    budget = dbcheck.DEFAULT_BUDGET if check_budget is None else check_budget
    if defer_check and not dbcheck.needs_writes_at_open(path, SCHEMA_VERSION):
        budget = 0.0
    try:
        checked = dbcheck.check(path, budget) if check else dbcheck.CheckResult(False, 0.0)
    except dbcheck.DamagedDatabase as exc:
        raise DatabaseError(str(exc)) from None
    except sqlite3.Error as exc:
        raise DatabaseError(f"{path}: cannot be checked: {exc}") from None
    existed = path.exists() and path.stat().st_size > 0
    engine = create_sqlite_engine(path)
    try:
        with engine.connect() as conn:
            conn.execute(text("PRAGMA schema_version")).scalar()  # fails fast on a non-SQLite file
            version = _read_version(conn)
            if version > SCHEMA_VERSION:
                raise DatabaseError(
                    f"{path}: made by a newer Jobdesk (schema {version}, this one knows {SCHEMA_VERSION}); "
                    "upgrade Jobdesk or use another --data-dir"
                )
            if version < SCHEMA_VERSION:
                if existed and version > 0:
                    _backup(engine, path, version)
                _migrate(conn, version)
    except (SADatabaseError, OperationalError) as exc:
        engine.dispose()
        reason = getattr(exc, "orig", exc)
        raise DatabaseError(f"{path}: cannot be opened as a Jobdesk database: {reason}") from exc
    except DatabaseError:
        engine.dispose()
        raise
    make_private_file(path)
    return engine, checked


def _read_version(conn: Any) -> int:
    tables = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    if "jobdesk_meta" not in tables:
        foreign = tables - {"apscheduler_jobs", "sqlite_sequence"}
        if foreign:
            raise DatabaseError(f"not a Jobdesk database (it has tables {', '.join(sorted(foreign))})")
        return 0
    value = conn.execute(select(meta_table.c.value).where(meta_table.c.key == "schema_version")).scalar()
    return int(value) if value is not None else 0


def _migrate(conn: Any, version: int) -> None:
    while version < SCHEMA_VERSION:
        log.info("migrating database schema %d -> %d", version, version + 1)
        MIGRATIONS[version](conn)
        version += 1
        conn.execute(
            meta_table.delete().where(meta_table.c.key == "schema_version")
        )
        conn.execute(meta_table.insert().values(key="schema_version", value=str(version)))
        conn.commit()


def _backup(engine: Engine, path: Path, version: int) -> None:
    """Copy the database aside before changing its schema (Vorta does the same)."""
    target = path.with_name(f"{path.name}.v{version}.bak")
    raw = engine.raw_connection()
    try:
        dest = sqlite3.connect(target)
        try:
            raw.driver_connection.backup(dest)  # type: ignore[union-attr]
        finally:
            dest.close()
    finally:
        raw.close()
    make_private_file(target)
    log.info("backed up %s to %s before migrating", path, target)
