"""A worker thread's result for a widget that was deleted meanwhile is dropped, never delivered
to (or emitted on) a dead object: the changes-since loader's `emit` from its worker crashed 3 of 4
full suite runs in a row as a test's window closed while the query ran."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtWidgets import QWidget

from desktop.history.page_loader import PageLoader
from jobs.history import HistoryQuery


def test_a_page_that_arrives_after_its_panel_was_deleted_is_dropped(qtbot):
    release, finished = threading.Event(), threading.Event()
    delivered: list[object] = []

    def slow_query(_query: HistoryQuery) -> list:
        release.wait(5)
        finished.set()
        return []

    panel = QWidget()
    loader = PageLoader(slow_query, panel)
    loader.loaded.connect(lambda ticket, rows: delivered.append(ticket))
    loader.load("first", HistoryQuery())
    shiboken6.delete(panel)  # the user closed the window while the query ran
    assert not shiboken6.isValid(loader)
    release.set()
    assert finished.wait(5)
    qtbot.wait(100)  # the queued hand-over is processed (and dropped) here
    assert delivered == []


def test_a_page_for_a_live_panel_arrives_on_the_gui_thread(qtbot):
    panel = QWidget()
    loader = PageLoader(lambda _query: ["row"], panel)
    threads: list[threading.Thread] = []
    loader.loaded.connect(lambda ticket, rows: threads.append(threading.current_thread()))
    with qtbot.waitSignal(loader.loaded, timeout=5000) as blocker:
        loader.load("first", HistoryQuery())
    assert blocker.args == ["first", ["row"]]
    assert threads == [threading.main_thread()]
    shiboken6.delete(panel)


def test_panels_deleted_while_their_workers_hand_back_never_crash(qtbot):
    """The race itself: the GUI thread deletes panels while their workers are handing back."""
    delivered: list[object] = []
    for round_ in range(300):
        panel = QWidget()
        loader = PageLoader(lambda _query: [], panel)
        loader.loaded.connect(lambda ticket, rows: delivered.append(ticket))
        loader.load(round_, HistoryQuery())
        shiboken6.delete(panel)
    qtbot.wait(300)
    assert delivered == []  # every panel was gone before its page arrived
