"""Is the database file sound? Checked before Jobdesk uses it, without changing a byte of it.

SQLite finds damage only when a query touches the bad page (NOTES item 39): 4 KiB of noise over
an index page let `list` succeed and `serve` write on, and a run whose row could not be inserted
left `run --wait` waiting for ever. So every open runs `PRAGMA quick_check` first, through a
read-only connection (no journal-mode switch, no checkpoint: a damaged file stays exactly as it
was), and refuses a damaged file with a message that says how to recover it.

Bounded in time: the small tables (definitions, settings, APScheduler's) are always checked in
full; the whole file is checked until `budget` seconds have passed (a deadline enforced with
`sqlite3_interrupt`), so a 10-million-row history costs an open at most that. What the budget
did not cover is checked by `full_check`, which the scheduling instance runs on a background
thread while it works (through SQLite's locking, so its own writes cannot look like damage).
The window opens with only the small tables checked (`defer_check`, unless the open itself
writes: a migration) and runs the rest (`BackgroundCheck`) after its first paint; it starts
scheduling once that check finished or had the open's whole budget (desktop.startup).

A file of 0 bytes is a new store only in a data directory that shows no earlier use; otherwise
it is a truncated database, and refused.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from jobs.thread_priority import lower_this_thread

log = logging.getLogger(__name__)

SMALL_TABLES = ("jobdesk_meta", "job_definitions", "apscheduler_jobs")
DEFAULT_BUDGET = 1.0  # seconds of quick_check an open may cost (measured: see README)
READ_FLOOR = 0.2  # seconds a read-only command's check runs at least (ReadCheck): a small file's whole check
WHOLE_READ_CHECK_BYTES = 32 * 1024 * 1024  # a file checked whole by a read (`read_check`): ~0.13 s here
_PROGRESS_STEP = 1000  # SQLite virtual-machine instructions between deadline checks
_HEADER = b"SQLite format 3\x00"


class DamagedDatabase(Exception):
    """The file is damaged or truncated; the message names it and how to recover."""


_CORRUPTION_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB (primary codes)


def damage_in_read(path: Path, exc: BaseException) -> DamagedDatabase | None:
    """A read that failed on a damaged page (SQLite's CORRUPT or NOTADB, raised by sqlite3 or
    wrapped by SQLAlchemy) said as the check says damage; None for any other failure. A read of
    a big file checks only the small tables first (`read_check`): damage in the runs can reach
    the read itself."""
    error = getattr(exc, "orig", exc)
    code = getattr(error, "sqlite_errorcode", None)
    if not isinstance(error, sqlite3.DatabaseError) or code is None or code & 0xFF not in _CORRUPTION_CODES:
        return None
    return DamagedDatabase(f"{path} is damaged ({error}) and was left as it is; {_recovery(path)}")


@dataclass(frozen=True)
class CheckResult:
    complete: bool  # False: the budget ran out before the whole file was checked
    seconds: float


def check(path: Path, budget: float = DEFAULT_BUDGET, *, enough: threading.Event | None = None) -> CheckResult:
    """Raise DamagedDatabase if `path` is damaged or truncated; else say how far the check got.

    A missing file, and an empty one in an unused data directory, are fine (a new store). A
    file that is not SQLite at all is left to the caller (it says "not a Jobdesk database").
    """
    begun = time.monotonic()
    if not path.exists():
        return CheckResult(True, 0.0)
    size = path.stat().st_size
    if size == 0:
        traces = traces_of_use(path)
        if traces:
            raise DamagedDatabase(
                f"{path} is empty (0 bytes), but this data directory was used before ({', '.join(traces)}): "
                f"the database was probably truncated and was left as it is; {_recovery(path, empty=True)}"
            )
        return CheckResult(True, 0.0)
    with path.open("rb") as file:
        if file.read(len(_HEADER)) != _HEADER:
            return CheckResult(True, 0.0)  # not SQLite: open_database says so
    problems, complete = _quick_check(path, budget, enough=enough)
    if problems:
        raise DamagedDatabase(f"{path} is damaged ({_summary(problems)}) and was left as it is; {_recovery(path)}")
    return CheckResult(complete, time.monotonic() - begun)


def full_check(path: Path, stop: threading.Event | None = None) -> str | None:
    """The whole quick_check without a time limit (until `stop` is set); the damage message,
    or None if sound or stopped."""
    problems, _ = _quick_check(path, None, shared=True, enough=stop)
    return f"{path} is damaged ({_summary(problems)}); {_recovery(path)}" if problems else None


def traces_of_use(path: Path) -> list[str]:
    """What in the data directory shows that a database was here before."""
    folder = path.parent
    traces = []
    logs = folder / "logs"
    if logs.is_dir() and any(logs.iterdir()):
        traces.append("run logs in logs/")
    if (folder / "jobdesk.log").exists():
        traces.append("jobdesk.log")
    if _backups(path):
        traces.append("backups")
    return traces


class ReadCheck:
    """`check` on a thread beside a read-only command's own work (issue 10).

    A read changes nothing, so it need not wait for the check before it starts, only before it
    answers: the whole-file part runs while the command imports and queries (SQLite leaves the
    GIL), for at least `floor` seconds and then until the answer is ready, at most `budget`.
    At 10 million runs the 1 s check had been most of `list`, `show` and `history`; a small
    file is still checked whole before anything is printed.
    """

    def __init__(self, path: Path, budget: float = DEFAULT_BUDGET, floor: float = READ_FLOOR) -> None:
        self._path, self._budget, self._floor = path, budget, floor
        self._begun = time.monotonic()
        self._enough = threading.Event()  # set: the answer is ready, the check may stop
        self._outcome: CheckResult | BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="database-read-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._outcome = check(self._path, self._budget, enough=self._enough)
        except BaseException as exc:  # handed to the caller's thread by result()
            self._outcome = exc

    def result(self) -> CheckResult:
        """Stop the check (after its floor) and return its result; raise what `check` raised."""
        self._thread.join(max(0.0, self._floor - (time.monotonic() - self._begun)))
        self._enough.set()
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        assert self._outcome is not None
        return self._outcome


def read_check(path: Path) -> ReadCheck:
    """The check of a read-only command (`list`, `show`, `history`, ...) with no instance running.

    A file up to WHOLE_READ_CHECK_BYTES is checked whole before the answer (ReadCheck's floor).
    A bigger one cannot be within the floor: what its floor bought was the same first slice of
    quick_check's walk at every call, and on this 2-core machine under load it took a core from
    the command (at 10M runs: `show` 0.33-0.38 s against 0.21-0.24 s without a check, as much as
    with 1 job). Its small tables are checked, as the window's open checks them (`defer_check`);
    the whole file is checked by the scheduling instance (`full_check`).
    """
    try:
        big = path.stat().st_size > WHOLE_READ_CHECK_BYTES
    except OSError:  # missing: check() says it is a new store
        big = False
    return ReadCheck(path, budget=0.0, floor=0.0) if big else ReadCheck(path)


def _quick_check(path: Path, budget: float | None, shared: bool = False,
                 enough: threading.Event | None = None) -> tuple[list[str], bool]:  # fmt: skip
    """(problems, complete). Read-only; before Jobdesk opens the file (not `shared`) and with no
    WAL file present, also without creating one. `enough`, once set, ends the whole-file part
    early (as the budget does)."""
    wal = path.with_name(path.name + "-wal")
    # immutable=1 opens the main file alone, creating no -wal/-shm: right only while nobody
    # writes. With a WAL its frames are part of the database: the ordinary read-only path.
    mode = "mode=ro" if shared or wal.exists() else "immutable=1"
    begun = time.monotonic()
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?{mode}", uri=True, timeout=10, check_same_thread=False)
    try:
        problems: list[str] = []
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in SMALL_TABLES:
            if table in tables:
                problems += _rows(conn.execute(f"PRAGMA quick_check({table})"))
        if problems:
            return problems, True
        # A progress handler is not called inside the b-tree walk (one VM instruction for the
        # whole file: 293 s past a 1 s deadline here); sqlite3_interrupt is honoured within it.
        if budget is not None and budget <= 0:
            return [], False  # no time for more than the small tables
        stopper = None if budget is None and enough is None else _Stopper(conn, budget, begun, enough)
        try:
            return _rows(conn.execute("PRAGMA quick_check")), True
        except sqlite3.OperationalError as exc:
            if stopper is not None and "interrupt" in str(exc):
                return [], False
            raise
        finally:
            if stopper is not None:
                stopper.cancel()
    except sqlite3.DatabaseError as exc:  # "database disk image is malformed" before any row
        return [str(exc)], True
    finally:
        conn.close()


class _Stopper:
    """Interrupts a running quick_check at its deadline or when `enough` is set, never after
    `cancel` (the connection may be closed by then)."""

    def __init__(self, conn: sqlite3.Connection, budget: float | None, begun: float,
                 enough: threading.Event | None) -> None:  # fmt: skip
        self._conn, self._lock, self._cancelled = conn, threading.Lock(), False
        self._wake = enough or threading.Event()
        self._cancel = threading.Event()
        left = None if budget is None else max(0.0, budget - (time.monotonic() - begun))
        threading.Thread(target=self._wait, args=(left,), name="database-check-stop", daemon=True).start()

    def _wait(self, left: float | None) -> None:
        deadline = None if left is None else time.monotonic() + left
        while not self._wake.is_set() and not self._cancel.is_set():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            self._wake.wait(0.05 if remaining is None else min(remaining, 0.05))
        while True:  # again until cancelled: an interrupt before the statement starts is lost
            with self._lock:
                if self._cancelled:
                    return
                self._conn.interrupt()
            if self._cancel.wait(0.01):
                return

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
        self._cancel.set()


def _rows(cursor: sqlite3.Cursor) -> list[str]:
    return [str(row[0]) for row in cursor if row[0] != "ok"]


def _summary(problems: list[str]) -> str:
    """The first problem on one line ("*** in database main ***" is only a heading)."""
    lines = [line for text in problems for line in text.splitlines() if line.strip() and not line.startswith("***")]
    lines = lines or problems
    more = f" and {len(lines) - 1} more" if len(lines) > 1 else ""
    return f"quick_check: {' '.join(lines[0].split())[:200]}{more}"


def _backups(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.v*.bak"))


def _recovery(path: Path, empty: bool = False) -> str:
    backups = _backups(path)
    restore = f"copy the backup {backups[-1].name} over it" if backups else "restore it from your own backup"
    if empty:
        return f"{restore}, or move it away to start with an empty store"
    return (f"stop Jobdesk, then either {restore}, or rebuild it with the sqlite3 tool: "
            f"sqlite3 '{path}' .recover | sqlite3 '{path}.recovered' and move {path.name}.recovered in its place")


class BackgroundCheck:
    """The part of the check an open left undone (`CheckResult.complete` False), on a worker
    thread. Started once, by whoever comes first: the window after its first paint (it opens
    with only the small tables checked and waits up to DEFAULT_BUDGET seconds for this before
    it schedules, so the open's budget is still spent before any write), else
    `JobService.start`. `finished` is set when the check ended (at once if none was needed)."""

    def __init__(self, service: Any, needed: bool) -> None:
        self._service = service
        self._lock = threading.Lock()
        self.started_at: float | None = None  # time.monotonic() when the worker was started
        self.finished = threading.Event()
        self._stop = threading.Event()
        if not needed:
            self.finished.set()

    def start(self) -> None:
        """Call on the thread that runs the event loop (the dispatcher and events are made here)."""
        with self._lock:
            if self.started_at is not None or self.finished.is_set():
                return
            self.started_at = time.monotonic()
        self._service.dispatcher  # noqa: B018  made here, never on the worker
        threading.Thread(target=self._run, name="database-check", daemon=True).start()

    def waited_enough(self, budget: float = DEFAULT_BUDGET) -> bool:
        """Finished, or ran for `budget` seconds: as much as an open would have checked."""
        if self.finished.is_set():
            return True
        return self.started_at is not None and time.monotonic() - self.started_at >= budget

    def stop(self, timeout: float = 2.0) -> None:
        """End a check in progress (the app is closing): its read transaction would otherwise
        keep the WAL from being checkpointed, and it from being removed, until the process ends.
        The next start checks again."""
        self._stop.set()
        if self.started_at is not None:
            self.finished.wait(timeout)

    def _run(self) -> None:
        lower_this_thread()  # the whole file read while the window starts (jobs.thread_priority)
        try:
            finish_check(self._service, self._stop)
        finally:
            self.finished.set()


def needs_writes_at_open(path: Path, schema_version: int) -> bool:
    """Whether opening `path` changes it (a migration, a switch to WAL): then the open's check
    must come first, whatever was deferred. Read through an immutable connection (no -wal/-shm)."""
    try:
        if not path.exists() or path.stat().st_size == 0:
            return False
        with path.open("rb") as file:
            header = file.read(20)
        if header[: len(_HEADER)] != _HEADER or header[18:20] != b"\x02\x02":  # not in WAL mode yet
            return True
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?immutable=1", uri=True, check_same_thread=False)
        try:
            row = conn.execute("SELECT value FROM jobdesk_meta WHERE key = 'schema_version'").fetchone()
        finally:
            conn.close()
        return row is None or int(row[0]) != schema_version
    except (sqlite3.Error, OSError, ValueError):
        return True  # anything odd: check first, as before


def finish_check(service: Any, stop: threading.Event | None = None) -> None:
    """The rest of a big file's check, on a worker thread while `service` (a JobService)
    schedules: damage found stops every new run and is announced (moved here from JobService
    to keep it under 500 lines)."""
    begun = time.monotonic()
    try:
        problem = full_check(service.data_dir.database, stop)
    except Exception as exc:
        problem = f"{service.data_dir.database} cannot be checked: {exc}"
    if problem is None and stop is not None and stop.is_set():
        log.info("database check stopped after %.1fs: Jobdesk is closing (the next start checks again)",
                 time.monotonic() - begun)  # fmt: skip
        return
    if problem is None:
        log.info("database check finished in %.1fs: no damage", time.monotonic() - begun)
        return
    log.error("%s; no new run will start", problem)
    service.dispatcher.refuse(problem)
    service.damage = problem  # for a window made after the signal went out
    service.events.database_damaged.emit(problem)
