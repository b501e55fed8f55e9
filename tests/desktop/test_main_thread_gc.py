"""Cyclic garbage collection happens on the Qt thread only (NOTES item 34, jobs/main_thread_gc.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import weakref
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal

from jobs.main_thread_gc import install_main_thread_collector

STRESS = Path(__file__).with_name("gc_stress.py")


class _Emitter(QObject):
    fired = Signal(object)


class _Cycle:
    def __init__(self, emitter: _Emitter) -> None:
        self.me = self
        emitter.fired.connect(self.slot)

    def slot(self, _value: object) -> None:
        pass


def test_collections_happen_on_the_main_thread_while_a_worker_allocates(qapp, qtbot):
    """Deterministic: the worker alone pushes the allocation count far past the threshold (it
    keeps what it allocates, so frees cannot bring the count back), while the main thread waits
    and so cannot collect yet; then the main thread's collector must collect, on the main
    thread, while the worker goes on allocating. It used to pass only when the count happened to
    be near the threshold (the worker's allocations were freed at once)."""
    collector = install_main_thread_collector()
    assert not gc.isenabled()
    threshold = gc.get_threshold()[0]
    starts: list[tuple[str, bool]] = []  # (thread, whether the worker was still allocating)
    allocating = threading.Event()
    stop = threading.Event()
    kept: list[list[int]] = []
    crossed: list[int] = []

    def record(phase: str, _info: dict) -> None:
        if phase == "start":
            starts.append((threading.current_thread().name, allocating.is_set() and not stop.is_set()))

    def allocate() -> None:
        for i in range(10 * threshold):  # tracked containers, kept alive: the count only grows
            kept.append([i])
        crossed.append(gc.get_count()[0])
        allocating.set()
        while not stop.is_set():  # and on, while the main thread collects
            junk = [(i, [i]) for i in range(500)]
            del junk

    emitter = _Emitter()
    gc.collect()  # the counts start from 0 now: what comes next is the worker's doing
    garbage = weakref.ref(_Cycle(emitter))  # unreachable at once, freed only by a collection
    worker = threading.Thread(target=allocate, name="allocating-worker", daemon=True)
    gc.callbacks.append(record)
    try:
        worker.start()
        assert allocating.wait(30)  # the main thread waits here: its collector cannot run
        assert crossed[0] > threshold, crossed  # past the threshold by construction...
        assert starts == []  # ...and nothing collected it, on any thread (automatic collection is off)
        before = sum(collector.collections)
        qtbot.waitUntil(lambda: garbage() is None, timeout=5000)  # the collector's timer, on this thread
    finally:
        stop.set()
        worker.join()
        gc.callbacks.remove(record)
        kept.clear()
    assert starts, "nothing was collected"
    assert {thread for thread, _ in starts} == {threading.main_thread().name}
    assert starts[0][1], "the first collection came after the worker had stopped allocating"
    assert sum(collector.collections) > before


def test_install_is_idempotent(qapp):
    assert install_main_thread_collector() is install_main_thread_collector()


@pytest.mark.slow
def test_widgets_built_while_a_worker_allocates_never_hang_or_crash():
    """Before the collector, this hung or segfaulted in 6 of 10 runs of 6 s (see gc_stress.py)."""
    for _ in range(2):
        done = subprocess.run([sys.executable, str(STRESS), "--seconds", "5"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
        assert done.stdout.startswith("ok ")


def test_checks_come_sooner_while_threads_allocate_fast_and_slow_down_when_idle(qapp, qtbot):
    """A worker keeping ~10,000 new objects between two checks: the next check comes after
    BUSY_INTERVAL_MS, so each collection walks a slice of what it made; idle, CHECK_INTERVAL_MS."""
    from jobs import main_thread_gc as mtg

    collector = mtg.MainThreadCollector(qapp)
    kept: list[list[int]] = []
    try:
        gc.collect()
        assert collector.interval_ms == mtg.CHECK_INTERVAL_MS
        kept.extend([i] for i in range(mtg.BUSY_COUNT * 3))  # tracked and kept: the count only grows
        collector.check()
        assert collector.interval_ms == mtg.BUSY_INTERVAL_MS
        assert collector.collections[0] + collector.collections[1] == 1
        collector.check()  # nothing allocated since: back to the slow pace
        assert collector.interval_ms == mtg.CHECK_INTERVAL_MS
    finally:
        kept.clear()
        collector.deleteLater()


def test_a_full_collection_waits_for_its_interval_and_the_young_ones_go_on(qapp, monkeypatch):
    from jobs import main_thread_gc as mtg

    collector = mtg.MainThreadCollector(qapp)
    try:
        gc.collect()
        for _ in range(gc.get_threshold()[2] + 1):
            gc.collect(1)  # each one counts towards the oldest generation's threshold
        kept = [[i] for i in range(gc.get_threshold()[0] * 2)]
        assert gc.get_count()[2] > gc.get_threshold()[2]
        collector.check()  # a full collection is due by the counts, but the last one was just now
        assert collector.collections == [0, 1, 0]
        monkeypatch.setattr(mtg, "FULL_EVERY_S", 0.0)
        kept += [[i] for i in range(gc.get_threshold()[0] * 2)]
        for _ in range(gc.get_threshold()[2] + 1):
            gc.collect(1)
        kept += [[i] for i in range(gc.get_threshold()[0] * 2)]
        collector.check()
        assert collector.collections == [0, 1, 1]
        del kept
    finally:
        collector.deleteLater()


def test_held_nothing_is_collected_and_frozen_cycles_are_freed_at_a_thaw(qapp, monkeypatch):
    """While a load runs (`hold`), a collection due for gen 1 does not happen; after it, it does.
    Cycles frozen with a load's objects are freed when the collector thaws."""
    from jobs import main_thread_gc as mtg

    class Node:
        def __init__(self) -> None:
            self.me = self

    collector = mtg.MainThreadCollector(qapp)
    try:
        gc.collect()
        for _ in range(gc.get_threshold()[1] + 1):
            gc.collect(0)  # each one counts towards gen 1's threshold
        kept = [[i] for i in range(gc.get_threshold()[0] * 2)]
        collector.hold(True)
        collector.check()
        assert collector.collections == [0, 0, 0]
        collector.hold(False)
        collector.check()
        assert collector.collections == [0, 1, 0]
        # loads back to back (a catch-up, a burst of runs): after HELD_LONGEST_S the young objects
        # are frozen, not walked, and the counts start again from nothing
        kept += [[i] for i in range(gc.get_threshold()[0] * 2)]
        for _ in range(gc.get_threshold()[1] + 1):
            gc.collect(0)
        frozen_before = gc.get_freeze_count()
        collector.hold(True)
        monkeypatch.setattr(mtg, "HELD_LONGEST_S", 0.0)
        collector.check()
        assert collector.collections == [0, 1, 0] and collector.freezes == 1
        assert gc.get_freeze_count() >= frozen_before + len(kept) and gc.get_count()[0] < gc.get_threshold()[0]
        monkeypatch.setattr(mtg, "HELD_LONGEST_S", 10.0)
        collector.hold(False)
        del kept
        node = Node()
        dead = weakref.ref(node)
        gc.freeze()  # as the window does after a load (desktop.app.freeze_alive)
        del node
        collector.check()
        assert dead() is not None  # frozen: no collection sees it
        monkeypatch.setattr(mtg, "THAW_EVERY_S", 0.0)
        collector.check()
        assert dead() is None and collector.collections[2] == 1
    finally:
        gc.unfreeze()
        collector.deleteLater()
