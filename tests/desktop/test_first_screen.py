"""The Jobs table's first screen at start-up (jobs.first_screen, desktop.joblist.snapshot): with
many jobs, the soonest are read and shown before all jobs are, and they are exactly the top of
the table that follows; a row clicked meanwhile stays selected when the rest arrive."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.app import create_window
from desktop.joblist import snapshot as snapshot_module
from desktop.joblist.model import NAME, NEXT_RUN, JobsModel
from desktop.joblist.row_order import SortState
from desktop.joblist.rows import TableRows, fresh_rows, table_rows
from desktop.joblist.snapshot import SnapshotLoader
from jobs.model import CronSpec, JobSpec
from jobs.service import JobService
from tests.conftest import py
from tests.desktop.clicks import click_index, shown_table
from tests.mixed_jobs import add_mixed_jobs

SOONEST_FIRST = SortState(NEXT_RUN, Qt.SortOrder.AscendingOrder)


@pytest.fixture
def few_make_a_screen(monkeypatch):
    """The first screen with tens of jobs, not thousands (the same code; smaller numbers)."""
    monkeypatch.setattr(snapshot_module, "FIRST_SCREEN_FROM", 20)
    monkeypatch.setattr(snapshot_module, "FIRST_SCREEN_ROWS", 10)


def ids(table: TableRows) -> list[str]:
    return [item.spec.id for item in table.ordered]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_first_screen_is_the_top_of_the_table_that_follows(qtbot, data_dir, few_make_a_screen, seed):
    service = JobService(data_dir)
    service.start()
    try:
        add_mixed_jobs(service, seed)
        loader = SnapshotLoader(service)
        loader.sort_order = lambda: SOONEST_FIRST
        screens, loads = [], []
        loader.first_screen.connect(screens.append)
        loader.loaded.connect(loads.append)
        loader.load_now()
        qtbot.waitUntil(lambda: len(loads) == 2, timeout=10000)  # the quick snapshot, then the complete one
        loader.close()
    finally:
        service.shutdown()
    assert len(screens) == 1 and screens[0].table is not None
    first = ids(screens[0].table)
    assert len(first) >= 10
    for full in loads:  # quick (no last runs yet) and complete: the same top rows
        assert full.table is not None and ids(full.table)[: len(first)] == first
    assert len(ids(loads[0].table)) > len(first)


def test_no_first_screen_when_sorted_otherwise_or_with_few_jobs(qtbot, data_dir, few_make_a_screen):
    service = JobService(data_dir)
    service.start()
    try:
        add_mixed_jobs(service, 5)
        for order, screen_from, expected in ((SortState(NAME, Qt.SortOrder.AscendingOrder), 20, 0),
                                             (SortState(NEXT_RUN, Qt.SortOrder.DescendingOrder), 20, 0),
                                             (SOONEST_FIRST, 10_000, 0), (SOONEST_FIRST, 20, 1)):  # fmt: skip
            snapshot_module.FIRST_SCREEN_FROM = screen_from
            loader = SnapshotLoader(service)
            loader.sort_order = lambda order=order: order
            screens, loads = [], []
            loader.first_screen.connect(screens.append)
            loader.loaded.connect(loads.append)
            loader.load_now()
            qtbot.waitUntil(lambda: len(loads) == 2, timeout=10000)
            loader.close()
            assert len(screens) == expected, order
    finally:
        service.shutdown()


def _specs(count: int) -> list[JobSpec]:
    return [JobSpec(id=f"j{i:02d}", name=f"Report {i:02d}", command=("true",), trigger=CronSpec(f"{i} * * * *", "UTC"))
            for i in range(count)]  # fmt: skip


def _four_rows_shown_and_the_third_clicked(qtbot):
    """A table sorted soonest first showing the first screen of 12 jobs (4 rows), its third row
    clicked: (model, view, specs, next_runs, now, the clicked job's id)."""
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    specs = _specs(12)
    model = JobsModel()
    model.sort(NEXT_RUN, Qt.SortOrder.AscendingOrder)
    view = shown_table(qtbot, model)
    next_runs = {spec.id: now + timedelta(minutes=i + 1) for i, spec in enumerate(specs)}
    model.apply_first_screen(table_rows(list(fresh_rows(specs[:4], next_runs, {}, {}, {}, {}, {}, NEXT_RUN).values()), model.order, 1))
    assert model.rowCount() == 4
    click_index(qtbot, view, model.index(2, NAME))
    return model, view, specs, next_runs, now, model.job_id_at(2)


def test_a_job_clicked_on_the_first_screen_stays_selected_when_the_rest_arrive_and_move_it(qtbot):
    from datetime import timedelta

    model, view, specs, next_runs, now, chosen = _four_rows_shown_and_the_third_clicked(qtbot)
    # by the time all jobs are read, the chosen job's run moved to the end and another came first
    later = {**next_runs, chosen: now + timedelta(hours=5), specs[9].id: now + timedelta(seconds=5)}
    full = fresh_rows(specs, later, {}, {}, {}, {}, {}, NEXT_RUN)
    table = table_rows(list(full.values()), model.order, 2)
    model.apply_snapshot(snapshot_module.Snapshot(tuple(specs), later, complete=False, rows=full, table=table))
    assert [model.job_id_at(row) for row in range(model.rowCount())] == ids(table)
    assert model.job_id_at(view.selectionModel().selectedRows()[0].row()) == chosen == ids(table)[-1]


def test_the_rest_go_below_a_first_screen_that_is_the_top_of_the_table_in_one_insert(qtbot):
    from jobs.model import RunCause, RunRecord, RunStatus

    model, view, specs, next_runs, now, chosen = _four_rows_shown_and_the_third_clicked(qtbot)
    live = RunRecord(id=77, job_id=model.job_id_at(1), job_name="x", cause=RunCause.MANUAL, status=RunStatus.RUNNING,
                     started_at=now)  # fmt: skip
    model.on_run_event(live)  # a run began before the rest were read
    full = fresh_rows(specs, next_runs, {}, {}, {}, {}, {}, NEXT_RUN)
    table = table_rows(list(full.values()), model.order, 2)
    told: list[tuple[str, int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: told.append(("inserted", first, last)))
    model.dataChanged.connect(lambda top, bottom, *_: told.append(("data", top.row(), bottom.row())))
    for signal in ("layoutChanged", "modelReset", "rowsRemoved"):
        getattr(model, signal).connect(lambda *_, name=signal: told.append((name, -1, -1)))
    model.apply_snapshot(snapshot_module.Snapshot(tuple(specs), next_runs, complete=False, rows=full, table=table))
    assert told[:2] == [("inserted", 4, 11), ("data", 0, 3)] and all(kind == "data" for kind, *_ in told[2:])
    assert [model.job_id_at(row) for row in range(model.rowCount())] == ids(table)
    assert model.job_id_at(view.selectionModel().selectedRows()[0].row()) == chosen
    assert model.last_run(live.job_id) == live  # the live run stays over the worker's (older) read


def test_the_window_shows_the_soonest_jobs_first_and_a_click_then_survives_the_full_load(qtbot, data_dir, few_make_a_screen):
    service = JobService(data_dir)
    service.start()
    try:
        for i in range(30):
            service.add_job(JobSpec(name=f"Report {i:02d}", command=py("pass"), trigger=CronSpec(f"{(i * 7) % 60} * * * *", "UTC")))
    finally:
        service.shutdown()
    win = create_window(data_dir)
    qtbot.addWidget(win, before_close_func=lambda w: w.shutdown())
    seen: list[tuple[int, bool, str]] = []

    def click_the_third_row(_snapshot) -> None:  # the user clicks before the rest is read (the loader waits)
        index = win.jobs_proxy.index(2, NAME)
        click_index(qtbot, win.jobs_table, index)
        seen.append((win.jobs_proxy.rowCount(), win.jobs_model.loaded, str(index.data())))

    win.loader.first_screen.connect(click_the_third_row)
    win.show()
    qtbot.waitUntil(lambda: win.jobs_model.loaded and not win.loader.busy, timeout=10000)
    assert len(seen) == 1
    rows, loaded, name = seen[0]
    assert 10 <= rows < 30 and not loaded
    assert win.jobs_proxy.rowCount() == 30
    assert win.current_spec() is not None and win.current_spec().name == name
    assert win.job_actions.run_now.isEnabled()
    times = [win.jobs_model.next_run(win.jobs_model.job_id_at(row)) for row in range(30)]
    assert times == sorted(times)
