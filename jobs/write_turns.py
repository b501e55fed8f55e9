"""The writers of this process take turns on a lock before SQLite sees them.

SQLite lets one writer in at a time; the others wait in its busy handler, which sleeps 1, 2, 5,
10, 15, 20, 25, 25, 25, 50, 50, 100 ms between tries. Beside a few threads writing short
transactions (runs starting and ending), a writer that keeps finding the file locked sleeps ever
longer: measured with 4-8 such threads, the worst write waited 106-630 ms, against 5-9 ms when
retrying every half millisecond. The scheduler's pass writes on the GUI thread, so those waits
were the window's: a pass of the minute's burst froze it up to 470 ms on a loaded machine.

So each connection's first write of a transaction (an INSERT, UPDATE, DELETE, REPLACE, or a
schema change) first takes this process's turn lock, and the commit or rollback gives it back:
a waiting writer is woken the moment the one before it is done. Only this process's writers take
turns (the one holding the instance lock does nearly all the writing); SQLite's own locking still
guards the file. A turn is waited for at most `wait_s`, once a transaction, then the transaction
goes on without it as before (whatever holds the turn, a thread blocked on something else, costs
that much more, once); its later writes do not wait again, so it cannot wait on a turn held by a
writer that waits in SQLite for it.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from sqlalchemy import Engine, event

_turn = threading.Lock()
_holders: set[int] = set()  # id() of the DBAPI connections holding the turn
_passed: set[int] = set()  # ...and of those whose wait timed out: they go on without it until their transaction ends
_holders_lock = threading.Lock()
WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER)\b", re.IGNORECASE)


def take_turns(engine: Engine, wait_s: float) -> None:
    """Make the writers of `engine` take turns (call once, before the engine is used)."""
    dialect = engine.dialect
    commit, rollback, close = dialect.do_commit, dialect.do_rollback, dialect.do_close

    def before_execute(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        key = id(conn.connection.dbapi_connection)
        if key in _holders or key in _passed or not WRITE.match(statement):
            return
        got = _turn.acquire(timeout=wait_s)
        with _holders_lock:
            (_holders if got else _passed).add(key)

    def give_back(dbapi: Any) -> None:
        key = id(getattr(dbapi, "dbapi_connection", dbapi))  # the pool's proxy, or the connection itself
        with _holders_lock:
            held = key in _holders
            _holders.discard(key)
            _passed.discard(key)
        if held:
            _turn.release()

    def do_commit(dbapi: Any) -> None:
        try:
            commit(dbapi)
        finally:
            give_back(dbapi)

    def do_rollback(dbapi: Any) -> None:
        try:
            rollback(dbapi)
        finally:
            give_back(dbapi)

    def do_close(dbapi: Any) -> None:  # an invalidated connection is closed without a rollback
        try:
            close(dbapi)
        finally:
            give_back(dbapi)

    event.listen(engine, "before_cursor_execute", before_execute)
    # This engine's own dialect: the turn is given back after the DBAPI commit, for which
    # SQLAlchemy sends no event (its "commit" event comes before it).
    for name, wrapper in (("do_commit", do_commit), ("do_rollback", do_rollback), ("do_close", do_close)):
        setattr(dialect, name, wrapper)


def turn_held() -> bool:
    """True while a connection of this process holds the turn (for tests)."""
    return _turn.locked()
