"""Request ids: a change the command line sends twice is made once and answered as the first time.

The command line sends a request again when the instance it talked to went away without
answering. When `serve` died after saving an `add` and before replying, that made a duplicate
job (1 in 600 kill -9 bursts; issue 9, item 6). So a request that adds or removes definitions
carries an id made by the command line, and its answer is written to `jobdesk_meta` in the
same transaction as the change: the repository calls `note_change` inside its transaction.
Whoever gets the retry (the same instance, a new `serve` after a crash, or the command line
acting on the store itself) finds the answer and returns it instead of changing anything.

The answer is derived from the ids the transaction changed (`_ANSWERS`, the same shape the
handlers in jobs.control return); `confirm` replaces it with the handler's own answer if the
two ever differ. Entries are kept for a day: a retry comes within seconds.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence

from sqlalchemy import Connection, Engine, delete, insert, select, update

from jobs.db import meta_table

KEY_PREFIX = "request."
KEEP_SECONDS = 24 * 3600
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")

_ANSWERS: dict[str, Callable[[list[str], dict[str, Any]], dict[str, Any]]] = {
    "add": lambda ids, request: {"id": ids[0]},
    "import": lambda ids, request: {"imported": ids},
    "remove": lambda ids, request: {"removed": request["id"]},
}
JOURNALED_OPS = frozenset(_ANSWERS)


@dataclass
class Recording:
    request_id: str
    op: str
    request: dict[str, Any]
    answer: dict[str, Any] | None = None


_active: ContextVar[Recording | None] = ContextVar("jobdesk_request", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def check_request_id(value: object) -> str:
    if not isinstance(value, str) or not _REQUEST_ID.fullmatch(value):
        raise ValueError(f"request_id: {value!r} is not 8-64 letters, digits, '-' or '_'")
    return value


def earlier_answer(engine: Engine, request_id: str, op: str) -> dict[str, Any] | None:
    """The answer given to `request_id` before, or None if it was never carried out."""
    with engine.connect() as conn:
        value = conn.execute(select(meta_table.c.value).where(meta_table.c.key == KEY_PREFIX + request_id)).scalar()
    if value is None:
        return None
    entry = json.loads(value)
    if entry.get("op") != op:
        raise ValueError(f"request_id: {request_id!r} was already used for {entry.get('op')!r}")
    answer: dict[str, Any] = entry["answer"]
    return answer


@contextmanager
def recording(request_id: str, op: str, request: dict[str, Any]) -> Iterator[Recording]:
    """While the handler runs, the first change the repository commits records the answer."""
    current = Recording(request_id, op, request)
    token = _active.set(current)
    try:
        yield current
    finally:
        _active.reset(token)


def note_change(conn: Connection, changed_ids: Sequence[str]) -> None:
    """Called by the repository inside each transaction that changes definitions."""
    current = _active.get()
    if current is None or current.answer is not None:
        return
    current.answer = _ANSWERS[current.op](list(changed_ids), current.request)
    now = time.time()
    entry = {"op": current.op, "at": now, "answer": current.answer}
    conn.execute(insert(meta_table).values(key=KEY_PREFIX + current.request_id, value=json.dumps(entry)))
    _forget_old(conn, now)


def confirm(engine: Engine, current: Recording, result: dict[str, Any]) -> None:
    """Keep the handler's own answer where it differs from the derived one."""
    if current.answer is None or current.answer == result:
        return
    entry = {"op": current.op, "at": time.time(), "answer": result}
    with engine.begin() as conn:
        conn.execute(
            update(meta_table).where(meta_table.c.key == KEY_PREFIX + current.request_id).values(value=json.dumps(entry))
        )


def _forget_old(conn: Connection, now: float) -> None:
    rows = conn.execute(
        select(meta_table.c.key, meta_table.c.value).where(meta_table.c.key.startswith(KEY_PREFIX, autoescape=True))
    ).all()
    old = []
    for key, value in rows:
        try:
            stale = float(json.loads(value)["at"]) < now - KEEP_SECONDS
        except (ValueError, KeyError, TypeError):
            stale = True
        if stale:
            old.append(key)
    if old:
        conn.execute(delete(meta_table).where(meta_table.c.key.in_(old)))
