"""Run one history page query on a worker thread and hand the rows back on the GUI thread.

Pages filtered by job or status are index seeks (milliseconds) and load on the GUI thread. A job
name search (`LIKE '%text%'`) or a date range cannot use the id order's index: when few rows
match, SQLite reads the whole table, 0.3–0.8 s for a million rows, so those pages load here.
The worker hands its rows back through desktop.gui_bridge, never by emitting on this loader
itself: the panel (and the loader) may be deleted while the query runs.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject, Signal

from desktop.gui_bridge import ensure_bridge, post
from jobs.history import HistoryQuery
from jobs.model import RunRecord
from jobs.quick_thread import start_soon


# One page of history: `JobService.query_history` (or a repository's `query` in tests).
PageQuery = Callable[[HistoryQuery], list[RunRecord]]


class PageLoader(QObject):
    """Signals: loaded(object, object): (ticket, list[RunRecord] or the Exception raised)."""

    loaded = Signal(object, object)

    def __init__(self, query: PageQuery, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._query = query

    def load(self, ticket: object, query: HistoryQuery) -> None:
        """Query on a new daemon thread; `loaded(ticket, result)` follows on the GUI thread."""
        ensure_bridge()
        start_soon(self._run, ticket, query)  # the GUI thread does not wait for it (jobs.quick_thread)

    def _run(self, ticket: object, query: HistoryQuery) -> None:
        result: object
        try:
            result = self._query(query)
        except Exception as exc:  # the database closed under us (quit) or a real error: the GUI decides
            result = exc
        post(self, lambda: self.loaded.emit(ticket, result))  # dropped if the panel went away meanwhile
