"""The Workers view and the workers' line in the status bar: each pool's workers online, runs
in progress and last heartbeat (issue 11).

`WorkersMonitor` reads the workers' heartbeats from the broker on a Python thread of its own
(short timeouts: jobs.remote), never on the GUI thread; each look reaches the widgets as a
frozen `WorkersState` through a signal of this GUI-thread object (a queued connection, NOTES
item 2). The thread holds no Qt object. With no broker configured it looks at nothing and
Redis is never imported.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from desktop.gui_bridge import ensure_bridge, post
from desktop.formatting import NO_VALUE
from desktop.naming import named
from desktop.table_helpers import setup_table

log = logging.getLogger(__name__)

POLL_SECONDS = 3.0


@dataclass(frozen=True)
class PoolRow:
    name: str
    online: int
    running: int
    capacity: int
    seconds_since_heartbeat: float | None
    workers: tuple[str, ...]  # "node (host): 1/4 running"


@dataclass(frozen=True)
class WorkersState:
    broker: str = ""  # masked; "" when none is configured
    pools: tuple[PoolRow, ...] = ()
    error: str | None = None  # "broker unreachable: ..." when the last look failed
    looked: bool = False  # False until the first answer (or when no broker is set)

    @property
    def pool_names(self) -> tuple[str, ...]:
        return tuple(pool.name for pool in self.pools)


def look(url: str) -> WorkersState:
    """One look at the broker (on a worker thread): heartbeats, grouped by pool."""
    from jobs.remote import broker, registry
    from jobs.remote.celery_app import redis_client

    try:
        snapshot = registry.read(redis_client(url, socket_timeout=broker.CONNECT_TIMEOUT))
    except ImportError:
        return WorkersState(broker.mask(url), error='Celery is not installed here: pip install "jobdesk[worker]"', looked=True)
    except Exception as exc:
        return WorkersState(broker.mask(url), error=broker.unreachable(url, exc), looked=True)
    rows = []
    for pool in snapshot.by_pool():
        age = None if pool.last_heartbeat is None else max(0.0, snapshot.taken_at - pool.last_heartbeat)
        workers = tuple(f"{w.node}: {len(w.active)}/{w.concurrency} running" for w in pool.workers)
        rows.append(PoolRow(pool.name, pool.online, pool.running, sum(w.concurrency for w in pool.workers), age, workers))
    return WorkersState(broker.mask(url), tuple(rows), None, True)


class WorkersMonitor(QObject):
    """Signals: seen(WorkersState) after every look (from the monitor's thread, queued)."""

    seen = Signal(object)

    def __init__(self, broker_url: Callable[[], str], parent: QObject | None = None, *,
                 interval: float = POLL_SECONDS) -> None:
        super().__init__(parent)
        self._broker_url = broker_url  # read on the monitor's thread: a plain attribute of the settings
        self._interval = interval
        self._stop = threading.Event()
        self._poke = threading.Event()
        self.state = WorkersState()
        self.seen.connect(self._remember)
        ensure_bridge()
        self._thread = threading.Thread(target=self._watch, name="workers-monitor", daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        """Look again now (e.g. the broker setting changed)."""
        self._poke.set()

    def close(self) -> None:
        self._stop.set()
        self._poke.set()
        self._thread.join(3.0)

    @Slot(object)
    def _remember(self, state: WorkersState) -> None:
        self.state = state

    def _watch(self) -> None:
        last_url: str | None = None
        while not self._stop.is_set():
            url = self._broker_url()
            if url:
                state = look(url)
            else:
                state = WorkersState()
            if not self._stop.is_set() and (url or last_url != url):
                post(self, partial(self.seen.emit, state))  # desktop.gui_bridge: dropped if the window is gone
            last_url = url
            self._poke.wait(self._interval)
            self._poke.clear()


def status_text(state: WorkersState) -> tuple[str | None, str]:
    """The status bar's workers label (None: hidden, no broker) and its tooltip."""
    if not state.broker:
        return None, ""
    if state.error:
        return "Broker unreachable", f"{state.error}\nRuns on pools fail until it answers."
    if not state.looked:
        return "Workers: looking…", state.broker
    online = sum(pool.online for pool in state.pools)
    running = sum(pool.running for pool in state.pools)
    tip = "\n".join(f"{p.name}: {p.online} online, {p.running} running" for p in state.pools) or "No worker has used this broker yet"
    if not state.pools:
        return "No workers", f"{state.broker}\n{tip}"
    return f"Workers: {online} online, {running} running", f"{state.broker}\n{tip}"


COLUMNS = ("Pool", "Workers online", "Runs in progress", "Last heartbeat", "Workers")


class WorkersPanel(QWidget):
    """The Workers tab: one row per pool seen on the broker."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workersPage")
        self.summary = named(QLabel(self), "workersSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.table = named(QTableView(self), "workersTable", "workersTable")
        setup_table(self.table, sortable=False)
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        for column in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        self.show_state(WorkersState())

    @Slot(object)
    def show_state(self, state: WorkersState) -> None:
        if not state.broker:
            self.summary.setText("No broker configured. To run jobs on other machines, set one in Settings "
                                 "(or `jobdesk config broker redis://:PASSWORD@host:6379/0`) and start "
                                 "`jobdesk worker --pool NAME` on each worker.")
        elif state.error:
            self.summary.setText(f"Broker {state.broker}: {state.error}")
        elif not state.looked:
            self.summary.setText(f"Broker {state.broker}: looking…")
        else:
            online = sum(pool.online for pool in state.pools)
            self.summary.setText(f"Broker {state.broker}: {online} worker{'s' if online != 1 else ''} online in "
                                 f"{len(state.pools)} pool{'s' if len(state.pools) != 1 else ''}")
        if state.error:
            return  # keep what was seen last
        self.model.setRowCount(0)
        for pool in state.pools:
            cells = [pool.name, str(pool.online), f"{pool.running}/{pool.capacity}" if pool.capacity else str(pool.running),
                     _ago(pool.seconds_since_heartbeat), "; ".join(pool.workers) or NO_VALUE]
            items = []
            for text in cells:
                item = QStandardItem(text)
                item.setEditable(False)
                items.append(item)
            items[0].setToolTip(f"jobdesk add --on {pool.name} …")
            self.model.appendRow(items)


def _ago(seconds: Any) -> str:
    if seconds is None:
        return NO_VALUE
    return "just now" if seconds < 2 else f"{seconds:.0f} s ago"


class WorkersView(QObject):
    """Wires the monitor to the window: the Workers tab (there only while a broker is set: a
    user without one sees no change), the status bar label, the pools the editor offers. Lives
    as long as the window (its child)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self._window = window
        self.panel = WorkersPanel(window)
        self.panel.hide()
        service = window.service
        self.monitor = WorkersMonitor(lambda: service.settings.broker, self)
        self.monitor.seen.connect(self.panel.show_state)
        self.monitor.seen.connect(self._show_status)

    @Slot(object)
    def _show_status(self, state: WorkersState) -> None:
        text, tip = status_text(state)
        self._window.status.show_workers(text, tip)
        tabs = self._window.tabs
        present = tabs.indexOf(self.panel) >= 0
        if state.broker and not present:
            tabs.addTab(self.panel, "&Workers")
        elif not state.broker and present:
            tabs.removeTab(tabs.indexOf(self.panel))

    def pools(self) -> list[str]:
        """Pools for the editor's "Runs on": seen on the broker, or used by a job."""
        used = {spec.runs_on for spec in self._window.service.list_jobs() if spec.runs_on}
        return sorted({*self.monitor.state.pool_names, *used})

    def close(self) -> None:
        self.monitor.close()
