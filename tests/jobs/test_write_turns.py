"""This process's writers take turns before SQLite sees them (jobs/write_turns.py): a waiting
writer gets in when the one before it is done, not after SQLite's busy handler's next sleep."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, text

from jobs import write_turns
from jobs.db import open_database
from jobs.paths import ensure_private_dir


@pytest.fixture
def engine(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE turns_probe (id INTEGER PRIMARY KEY, who TEXT)"))
    yield engine
    engine.dispose()


def test_a_second_writer_reaches_sqlite_only_after_the_first_committed(engine):
    reached: list[str] = []  # what reached SQLite, in order (listened to after the turn is taken)
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: reached.append(statement.split()[0]) if "turns_probe" in statement else None)
    first_in, second_tries = threading.Event(), threading.Event()

    def second() -> None:
        second_tries.set()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO turns_probe (who) VALUES ('second')"))

    with engine.begin() as conn:
        conn.execute(text("INSERT INTO turns_probe (who) VALUES ('first')"))
        first_in.set()
        writer = threading.Thread(target=second)
        writer.start()
        second_tries.wait(5)
        writer.join(0.3)  # it waits for the turn, not in SQLite's busy handler
        assert writer.is_alive() and reached == ["INSERT"]
        conn.execute(text("SELECT COUNT(*) FROM turns_probe"))
    writer.join(5)
    assert not writer.is_alive()
    with engine.connect() as conn:
        assert [row[0] for row in conn.execute(text("SELECT who FROM turns_probe ORDER BY id"))] == ["first", "second"]
    assert not write_turns.turn_held()


def test_the_turn_is_given_back_after_a_failed_write_a_rollback_and_a_read(engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO turns_probe (id, who) VALUES (1, 'one')"))
    with pytest.raises(Exception):
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO turns_probe (id, who) VALUES (1, 'again')"))  # UNIQUE: rolled back
    assert not write_turns.turn_held()
    with engine.connect() as conn:  # a write left uncommitted: closed, so rolled back
        conn.execute(text("UPDATE turns_probe SET who = 'changed'"))
        assert write_turns.turn_held()
    assert not write_turns.turn_held()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT who FROM turns_probe")).scalar() == "one"
        assert not write_turns.turn_held()  # reads take no turn


def test_a_transaction_waits_for_its_turn_once_then_goes_on_without_it(data_dir):
    """Whatever holds the turn (here: this test, as a thread blocked elsewhere would), a writer
    waits `wait_s` once a transaction, not once a statement, and gives nothing back it never had."""
    import time

    from sqlalchemy import create_engine

    from jobs.db import _set_pragmas

    ensure_private_dir(data_dir.root)
    engine = create_engine(f"sqlite:///{data_dir.database}")
    event.listen(engine, "connect", _set_pragmas)
    write_turns.take_turns(engine, 0.3)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE waits_probe (n INTEGER)"))
    assert write_turns._turn.acquire(timeout=1)  # held elsewhere for the whole transaction
    try:
        began = time.monotonic()
        with engine.begin() as conn:
            for n in range(3):
                conn.execute(text("INSERT INTO waits_probe (n) VALUES (:n)"), {"n": n})
        took = time.monotonic() - began
        assert write_turns.turn_held()  # still ours: the writer gave back nothing
    finally:
        write_turns._turn.release()
        engine.dispose()
    assert 0.3 <= took < 0.6, took  # one wait of 0.3 s, not three
