"""The Jobs table's rows made on the snapshot's worker (desktop.joblist.rows.fresh_rows) show
exactly what rows made by the model show, and a live run newer than what the worker read wins."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from PySide6.QtCore import QPoint, Qt

from desktop.joblist.model import HEADERS, LAST_RUN, NAME, NEXT_RUN, RECENT, RUN_ROLES, SPANS_TOLD, JobsModel, JobsProxy
from desktop.joblist.packed_bars import pack_bars
from desktop.joblist.row_order import SortState
from desktop.joblist.rows import fresh_rows, row_runs, table_rows
from desktop.joblist.snapshot import Snapshot
from tests.desktop.clicks import shown_table
from jobs.model import CronSpec, JobSpec, RunCause, RunRecord, RunStatus
from jobs.run_stats import DurationStats, RunBar

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def _run(run_id: int, spec: JobSpec, status: RunStatus, minutes_ago: int) -> RunRecord:
    ended = NOW - timedelta(minutes=minutes_ago)
    return RunRecord(id=run_id, job_id=spec.id, job_name=spec.name, cause=RunCause.SCHEDULED, status=status,
                     scheduled_at=ended - timedelta(seconds=30), started_at=ended - timedelta(seconds=20), ended_at=ended,
                     exit_code=0 if status is RunStatus.SUCCEEDED else 1)  # fmt: skip


def _snapshot(specs, last_runs, *, with_rows: bool, key_column: int = -1, order: SortState | None = None) -> Snapshot:
    """`order`: the rows also come sorted that way, as the loader's worker sends them."""
    next_runs = {spec.id: NOW + timedelta(minutes=7 * i) for i, spec in enumerate(specs) if i % 3}
    schedules = {spec.id: f"At {i:02d}:00" for i, spec in enumerate(specs)}
    durations = {specs[0].id: DurationStats(median=12.0, p95=20.0, runs=5)}
    strips = {specs[1].id: pack_bars([RunBar(7, RunStatus.SUCCEEDED, NOW.timestamp() - 600, 14.0), RunBar(8, RunStatus.FAILED, NOW.timestamp() - 60, 3.5)])}
    rows = fresh_rows(specs, next_runs, last_runs, schedules, durations, strips, {}, key_column) if with_rows else None
    global _serial
    _serial += 1
    table = table_rows(list(rows.values()), order, _serial) if rows and order else None
    return Snapshot(tuple(specs), next_runs, last_runs, schedules=schedules, durations=durations, strips=strips, rows=rows,
                    table=table)  # fmt: skip


_serial = 0


def _cells(model: JobsModel) -> list[list[object]]:
    roles = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)
    return [[model.data(model.index(row, column), role) for column in range(len(HEADERS)) for role in roles]
            for row in range(model.rowCount())]  # fmt: skip


def _specs(count: int) -> list[JobSpec]:
    return [JobSpec(id=f"j{i:03d}", name=f"Report {(i * 37) % count:03d}", command=("true",),
                    trigger=CronSpec(f"0 {i % 24} * * *", "UTC"), paused=i % 5 == 0) for i in range(count)]  # fmt: skip


@pytest.mark.parametrize("sorted_by_worker", [False, True])
def test_rows_made_on_the_worker_show_what_rows_made_by_the_model_show(qtbot, sorted_by_worker):
    specs = _specs(40)
    last_runs = {spec.id: _run(100 + i, spec, RunStatus.SUCCEEDED if i % 2 else RunStatus.FAILED, i) for i, spec in enumerate(specs) if i % 4}
    by_model, by_worker = JobsModel(), JobsModel()
    for model in (by_model, by_worker):
        model.sort(NEXT_RUN, Qt.SortOrder.DescendingOrder)
    by_model.apply_snapshot(_snapshot(specs, last_runs, with_rows=False))
    order = by_worker.order if sorted_by_worker else None
    by_worker.apply_snapshot(_snapshot(specs, last_runs, with_rows=True, key_column=NEXT_RUN, order=order))
    assert by_worker.rowCount() == 40
    assert _cells(by_worker) == _cells(by_model)
    # and again over rows already shown (the diff path), sorted by another column
    for model in (by_model, by_worker):
        model.sort(NAME, Qt.SortOrder.AscendingOrder)
    later = {**last_runs, specs[0].id: _run(900, specs[0], RunStatus.FAILED, 0)}
    by_model.apply_snapshot(_snapshot(specs, later, with_rows=False))
    order = by_worker.order if sorted_by_worker else None
    by_worker.apply_snapshot(_snapshot(specs, later, with_rows=True, key_column=NAME, order=order))
    assert _cells(by_worker) == _cells(by_model)


@pytest.mark.parametrize("sorted_by_worker", [False, True])
def test_a_live_run_newer_than_the_worker_read_stays_and_an_older_one_gives_way(qtbot, sorted_by_worker):
    specs = _specs(3)
    model = JobsModel()
    model.sort(LAST_RUN, Qt.SortOrder.AscendingOrder)
    order = model.order if sorted_by_worker else None
    first = {spec.id: _run(10 + i, spec, RunStatus.SUCCEEDED, 60) for i, spec in enumerate(specs)}
    model.apply_snapshot(_snapshot(specs, first, with_rows=True, key_column=LAST_RUN, order=order))
    live = _run(50, specs[1], RunStatus.FAILED, 1)
    model.on_run_event(live)  # the run ended after the worker read the last runs
    model.apply_snapshot(_snapshot(specs, first, with_rows=True, key_column=LAST_RUN, order=order))
    assert model.last_run(specs[1].id) == live
    assert model.job_id_at(model.rowCount() - 1) == specs[1].id  # the newest run sorts last
    model.apply_snapshot(_snapshot(specs, first, with_rows=True, key_column=LAST_RUN, order=order))
    assert model.last_run(specs[1].id) == live  # still newer than what the worker read: still kept
    newer = {**first, specs[1].id: _run(60, specs[1], RunStatus.SUCCEEDED, 0)}
    model.apply_snapshot(_snapshot(specs, newer, with_rows=True, key_column=LAST_RUN, order=order))
    assert model.last_run(specs[1].id) == newer[specs[1].id]


def test_rows_the_worker_finds_unchanged_are_the_table_s_own_and_only_changed_rows_are_told(qtbot):
    specs = _specs(30)
    last_runs = {spec.id: _run(100 + i, spec, RunStatus.SUCCEEDED, 30 - i) for i, spec in enumerate(specs)}
    model = JobsModel()
    model.sort(NAME, Qt.SortOrder.AscendingOrder)
    first = _snapshot(specs, last_runs, with_rows=True, key_column=NAME)
    model.apply_snapshot(first)
    assert first.rows is not None
    later = {**last_runs, specs[4].id: _run(500, specs[4], RunStatus.FAILED, 0)}
    parts = _snapshot(specs, later, with_rows=False)
    rows = fresh_rows(specs, parts.next_runs, later, parts.schedules, parts.durations, parts.strips, {}, NAME,
                      previous=first.rows)  # fmt: skip
    assert [job_id for job_id, row in rows.items() if row is not first.rows[job_id]] == [specs[4].id]
    told: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: told.append((top.row(), bottom.row())))
    model.apply_snapshot(Snapshot(tuple(specs), parts.next_runs, later, schedules=parts.schedules,
                                  durations=parts.durations, strips=parts.strips, rows=rows))  # fmt: skip
    row = model.row_of(specs[4].id)
    assert told == [(row, row)]
    assert model.last_run(specs[4].id).id == 500


def test_a_selected_job_stays_selected_when_worker_sorted_rows_move_it(qtbot):
    """The user clicked a row; the next snapshot (rows sorted by the worker) moves that job: the
    selection follows the job, and a click on the header sorted differently is honoured."""
    specs = _specs(12)
    model = JobsModel()
    model.sort(LAST_RUN, Qt.SortOrder.AscendingOrder)
    view = shown_table(qtbot, model)
    first = {spec.id: _run(10 + i, spec, RunStatus.SUCCEEDED, 60 - i) for i, spec in enumerate(specs)}
    model.apply_snapshot(_snapshot(specs, first, with_rows=True, key_column=LAST_RUN, order=model.order))
    chosen = model.job_id_at(2)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(model.index(2, NAME)).center())
    assert [index.row() for index in view.selectionModel().selectedRows()] == [2]
    later = {**first, chosen: _run(99, model.spec(chosen), RunStatus.FAILED, 0)}  # its newest run: it sorts last now
    model.apply_snapshot(_snapshot(specs, later, with_rows=True, key_column=LAST_RUN, order=model.order))
    assert model.job_id_at(model.rowCount() - 1) == chosen
    assert [index.row() for index in view.selectionModel().selectedRows()] == [model.rowCount() - 1]
    # a snapshot sorted for another order than the table's now (a header click meanwhile) is re-sorted here
    stale_order = model.order
    header = view.horizontalHeader()
    header.setSortIndicator(LAST_RUN, Qt.SortOrder.AscendingOrder)
    view.setSortingEnabled(True)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(header.sectionViewportPosition(NAME) + 5, 5))
    assert model.order.column == NAME and model.order != stale_order
    model.apply_snapshot(_snapshot(specs, later, with_rows=True, key_column=LAST_RUN, order=stale_order))
    names = [model.spec(model.job_id_at(row)).name.casefold() for row in range(model.rowCount())]
    assert names == sorted(names, reverse=model.order.descending)
    assert model.job_id_at(view.selectionModel().selectedRows()[0].row()) == chosen


def _shown_by_name(specs, last_runs) -> tuple[JobsModel, Snapshot]:
    """A model sorted by name showing a first load whose rows and table the worker made."""
    model = JobsModel()
    model.sort(NAME, Qt.SortOrder.AscendingOrder)
    first = _snapshot(specs, last_runs, with_rows=True, key_column=NAME, order=model.order)
    model.apply_snapshot(first)
    return model, first


def test_a_load_the_worker_found_unchanged_costs_the_table_nothing_and_keeps_live_runs(qtbot):
    specs = _specs(20)
    last_runs = {spec.id: _run(100 + i, spec, RunStatus.SUCCEEDED, 30 - i) for i, spec in enumerate(specs)}
    model, first = _shown_by_name(specs, last_runs)
    told: list[str] = []
    for signal in ("layoutChanged", "dataChanged", "modelReset", "rowsInserted", "rowsRemoved"):
        getattr(model, signal).connect(lambda *_, name=signal: told.append(name))
    assert first.rows is not None and first.table is not None
    again = table_rows(list(first.rows.values()), model.order, 50, previous=first.table)
    assert again.same_as == first.table.serial
    model.apply_snapshot(Snapshot(first.specs, first.next_runs, last_runs, rows=first.rows, table=again))
    assert told == []
    live = _run(900, specs[3], RunStatus.FAILED, 0)
    model.on_run_event(live)
    told.clear()
    third = table_rows(list(first.rows.values()), model.order, 51, previous=again)
    model.apply_snapshot(Snapshot(first.specs, first.next_runs, last_runs, rows=first.rows, table=third))
    assert told == [] and model.last_run(specs[3].id) == live
    # rows "unchanged" since a load this table never showed: compared here; one job's new run is
    # told as a change of its row only (same order: no layout change), the live run stays
    later = {**last_runs, specs[7].id: _run(950, specs[7], RunStatus.FAILED, 0)}
    parts = _snapshot(specs, later, with_rows=False)
    rows = fresh_rows(specs, parts.next_runs, later, parts.schedules, parts.durations, parts.strips, {}, NAME,
                      previous=first.rows)  # fmt: skip
    unseen = table_rows(list(rows.values()), model.order, 60)
    stranger = table_rows(list(rows.values()), model.order, 61, previous=unseen)
    changed_rows: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: changed_rows.append((top.row(), bottom.row())))
    model.apply_snapshot(Snapshot(first.specs, parts.next_runs, later, rows=rows, table=stranger))
    row, live_row = model.row_of(specs[7].id), model.row_of(specs[3].id)
    assert (row, row) in changed_rows and set(changed_rows) <= {(row, row), (live_row, live_row)}  # (its live run put back)
    assert "layoutChanged" not in told and "modelReset" not in told
    assert model.last_run(specs[7].id).id == 950 and model.last_run(specs[3].id) == live


def test_a_load_in_the_shown_order_tells_only_the_rows_the_worker_found_changed(qtbot):
    specs = _specs(30)
    last_runs = {spec.id: _run(100 + i, spec, RunStatus.SUCCEEDED, 40 - i) for i, spec in enumerate(specs)}
    model, first = _shown_by_name(specs, last_runs)
    assert first.rows is not None and first.table is not None
    live = _run(900, specs[3], RunStatus.FAILED, 0)  # (finished: a running one's elapsed time moves between the two models)
    model.on_run_event(live)
    later = {**last_runs, specs[7].id: _run(950, specs[7], RunStatus.FAILED, 0), specs[8].id: _run(951, specs[8], RunStatus.FAILED, 0)}
    rows = fresh_rows(specs, first.next_runs, later, first.schedules, first.durations, first.strips, {}, NAME,
                      previous=first.rows)  # fmt: skip
    table = table_rows(list(rows.values()), model.order, 70, previous=first.table)
    # the two new runs, and the row whose live run the worker's read lacks (it differs from the shown row)
    changed = {model.row_of(specs[7].id), model.row_of(specs[8].id), model.row_of(specs[3].id)}
    assert table.positions is first.table.positions  # same jobs, same order: the worker says so by identity
    assert {row for top, bottom in table.changed for row in range(top, bottom + 1)} == changed
    told: list[tuple[str, int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_: told.append(("data", top.row(), bottom.row())))
    for signal in ("layoutChanged", "modelReset", "rowsInserted", "rowsRemoved"):
        getattr(model, signal).connect(lambda *_, name=signal: told.append((name, -1, -1)))
    model.apply_snapshot(Snapshot(first.specs, first.next_runs, later, rows=rows, table=table))
    assert {row for kind, top, bottom in told for row in range(top, bottom + 1)} == changed
    assert all(kind == "data" for kind, *_ in told)
    assert model.last_run(specs[7].id).id == 950 and model.last_run(specs[3].id) == live  # the live run stays
    expected = JobsModel()  # the same loads, rows made and compared by the model
    expected.sort(NAME, Qt.SortOrder.AscendingOrder)
    expected.apply_snapshot(_snapshot(specs, last_runs, with_rows=False))
    expected.on_run_event(live)
    expected.apply_snapshot(_snapshot(specs, later, with_rows=False))
    assert _cells(model) == _cells(expected)
    # a table built on rows this model does not show (another load's) is compared here instead
    stranger = table_rows(list(rows.values()), model.order, 71, previous=table_rows(list(rows.values()), model.order, 72))
    assert stranger.positions is not model._by_id
    told.clear()
    model.apply_snapshot(Snapshot(first.specs, first.next_runs, later, rows=rows, table=stranger))
    assert [kind for kind, *_ in told if kind != "data"] == []


def test_a_turn_of_run_events_is_told_to_views_together_and_each_row_is_new_at_once(qtbot):
    """The minute's burst: the runs of many jobs start within one turn of the event loop. Each row
    says so at once; views hear of them once, over their span (they are more than SPANS_TOLD runs
    of neighbours), with the roles a run changes (not the filter's: the proxy need not test each
    row of the span against it); a lone event later is told as its own row."""
    specs = _specs(60)
    last_runs = {spec.id: _run(100 + i, spec, RunStatus.SUCCEEDED, 90 - i) for i, spec in enumerate(specs)}
    model, _ = _shown_by_name(specs, last_runs)
    proxy = JobsProxy()
    proxy.setSourceModel(model)
    shown_table(qtbot, proxy)
    told: list[tuple[int, int, int, int, set[int]]] = []
    model.dataChanged.connect(lambda top, bottom, roles=(): told.append(
        (top.row(), bottom.row(), top.column(), bottom.column(), {int(role) for role in roles})))
    forwarded: list[tuple[int, int]] = []
    proxy.dataChanged.connect(lambda top, bottom, *_: forwarded.append((top.row(), bottom.row())))
    burst = [_run(1000 + i, spec, RunStatus.RUNNING, 0) for i, spec in enumerate(specs) if i % 3 == 0]
    for record in burst:
        model.on_run_event(record)
    assert told == []  # not yet: once the event loop turns
    assert all(model.last_run(record.job_id) == record for record in burst)
    tip = model.data(model.index(model.row_of(burst[4].job_id), LAST_RUN), Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(f"Run #{burst[4].id}: Running")
    qtbot.waitUntil(lambda: bool(told), timeout=2000)
    qtbot.wait(20)
    rows = sorted(model.row_of(record.job_id) for record in burst)
    run_roles = {int(role) for role in RUN_ROLES}
    assert len(row_runs(rows)) > SPANS_TOLD
    assert told == [(rows[0], rows[-1], LAST_RUN, RECENT, run_roles)]
    assert forwarded == [(rows[0], rows[-1])]  # (the proxy filters nothing out)
    told.clear()
    lone = _run(2000, specs[1], RunStatus.FAILED, 0)
    model.on_run_event(lone)
    qtbot.waitUntil(lambda: bool(told), timeout=2000)
    row = model.row_of(lone.job_id)
    assert told == [(row, row, LAST_RUN, RECENT, run_roles)]
