"""Let go of big lists off the GUI thread (issue 10).

Freeing an object costs time on the thread that drops its last reference. When the Jobs table
swaps its 10,000 rows for a new load's, the old rows were freed on the GUI thread: 7 ms of a
~16 ms apply, measured. `release_later(items)` hands such a list to one background thread,
which empties it a few hundred items at a time and gives way to the GUI thread between parts
(jobs.gui_priority). The caller must not use the list afterwards. No Qt here.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from jobs.gui_priority import EVERY, give_way
from jobs.quick_thread import start_soon

log = logging.getLogger(__name__)

_pending: queue.SimpleQueue[list[Any]] = queue.SimpleQueue()
_started = False
_start_lock = threading.Lock()


def release_later(items: list[Any]) -> None:
    """From any thread: `items` (a list nobody uses any more) is emptied on the release thread,
    so what only it held is freed there."""
    global _started
    if not _started:
        with _start_lock:
            if not _started:
                start_soon(_serve)
                _started = True
    _pending.put(items)


def released() -> None:
    """Wait until every list handed over so far is emptied (for tests)."""
    done = threading.Event()
    _pending.put([_Signal(done)])
    done.wait(10.0)


def _serve() -> None:
    while True:
        items = _pending.get()
        try:
            while items:
                del items[-EVERY:]
                give_way()
        except Exception:  # a __del__ that raises is printed by Python and not raised; anything else is a bug
            log.exception("releasing %d items failed", len(items))
        del items


class _Signal:
    """Sets an event when freed: the release thread reached it."""

    def __init__(self, done: threading.Event) -> None:
        self._done = done

    def __del__(self) -> None:
        self._done.set()
