"""History's live events applied in batches (a burst of runs at 10,000 jobs): same rows, fewer updates."""

from __future__ import annotations

import sys

import pytest

from desktop.history import HistoryFilter, HistoryModel, HistoryPanel
from desktop.history.history_model import LIVE_CHUNK, STATUS
from jobs.model import CronSpec, JobSpec, RunCause, RunStatus
from jobs.service import JobService
from tests.desktop.test_history import ALPHA, fill, ids, record, repo  # noqa: F401  (the fixture)


@pytest.fixture
def service(data_dir):
    svc = JobService(data_dir)
    yield svc
    svc.shutdown()


def test_a_burst_of_events_becomes_a_few_inserts_with_every_row_right(qtbot, repo):  # noqa: F811
    fill(repo, 10)
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter())
    inserts: list[int] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserts.append(last - first + 1))
    for run_id in range(11, 41):  # 30 short runs: queued, started and finished close together
        for status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.SUCCEEDED):
            model.queue_run_changed(record(run_id, status, exit_code=0 if status.is_final else None))
    model.queue_run_changed(record(12, RunStatus.RUNNING))  # late and stale: the run was seen ending
    assert model.rowCount() == 10  # nothing yet: applied together a moment later
    qtbot.waitUntil(lambda: model.rowCount() == 40, timeout=3000)
    assert ids(model) == list(range(40, 10, -1)) + ids(model)[30:]
    assert all(model.record_at(row).status is RunStatus.SUCCEEDED for row in range(30))
    assert model.index(model.row_of(12), STATUS).data() == "Succeeded"
    assert sum(inserts) == 30 and len(inserts) <= 30 // LIVE_CHUNK + 1  # one per chunk at most, not one per run


def test_a_direct_update_comes_after_the_queued_ones(qtbot, repo):  # noqa: F811
    """desktop.insight marks a slow run at once: the events queued before it must not undo it."""
    fill(repo, 3)
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter())
    model.queue_run_changed(record(4, RunStatus.RUNNING))
    model.on_run_changed(record(4, RunStatus.RUNNING, slow="long"))
    qtbot.wait(150)  # the batch timer has fired by now
    assert model.record_at(model.row_of(4)).slow == "long"


def test_the_panel_shows_a_run_just_started_and_follows_a_burst(qtbot, service):
    specs = [JobSpec(name=f"Burst {n}", command=(sys.executable, "-c", "pass"), trigger=CronSpec("0 3 * * *", "UTC"))
             for n in range(6)]  # fmt: skip
    saved = service.import_jobs(specs)
    panel = HistoryPanel(service)
    qtbot.addWidget(panel)
    panel.show()
    finished: set[int] = set()
    service.events.run_finished.connect(lambda r: finished.add(r.id))
    run_ids = [service.run_now(spec.id) for spec in saved]
    qtbot.waitUntil(lambda: set(run_ids) <= finished, timeout=30_000)

    def all_done() -> bool:
        rows = [panel.model.row_of(run_id) for run_id in run_ids]
        return None not in rows and all(panel.model.record_at(row).status is RunStatus.SUCCEEDED for row in rows)

    qtbot.waitUntil(all_done, timeout=5000)
    assert [panel.model.index(panel.model.row_of(run_id), STATUS).data() for run_id in run_ids] == ["Succeeded"] * 6


def test_a_job_s_missed_rows_come_as_one_event_and_the_panel_shows_each(qtbot, service):
    """jobs.missed_rows announces a job's rows at once (a catch-up writes thousands); the panel,
    already showing its first page, lists every one of them without reloading."""
    from datetime import datetime, timedelta, timezone

    spec, = service.import_jobs([JobSpec(name="Every minute", command=(sys.executable, "-c", "pass"),
                                         trigger=CronSpec("* * * * *", "UTC"))])  # fmt: skip
    panel = HistoryPanel(service)
    qtbot.addWidget(panel)
    panel.show()
    pages: list[int] = []
    panel.model.page_loaded.connect(pages.append)
    batches: list = []
    service.events.runs_recorded.connect(batches.append)
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    records = service.dispatcher.record_missed(spec, [(now - timedelta(minutes=m), "missed while closed")
                                                      for m in range(12, 0, -1)])  # fmt: skip
    qtbot.waitUntil(lambda: all(panel.model.row_of(r.id) is not None for r in records), timeout=5000)
    assert len(batches) == 1 and list(batches[0]) == records and pages == []
    assert [panel.model.index(panel.model.row_of(r.id), STATUS).data() for r in records] == ["Missed"] * 12


def test_show_run_finds_a_run_whose_event_waits_in_the_batch(qtbot, service):
    panel = HistoryPanel(service)
    qtbot.addWidget(panel)
    panel.model.queue_run_changed(record(77, RunStatus.RUNNING))  # as the service's run_started delivers it
    assert panel.model.row_of(77) is None
    assert panel.show_run(77)  # e.g. "View output" on a run that just started
    assert panel.table.currentIndex().row() == panel.model.row_of(77) == 0


def test_a_refill_rewrites_every_cell_that_changed(qtbot, repo):  # noqa: F811
    """Only cells whose roles differ are written again: each one that did must show the new state."""
    from datetime import datetime, timedelta, timezone

    from PySide6.QtCore import Qt

    from desktop.formatting import status_colour
    from desktop.history.history_model import ERROR, EXIT_CODE, JOB, RUN_ID_ROLE, STARTED

    fill(repo, 2)
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter())
    began = datetime.now(timezone.utc) - timedelta(seconds=5)
    model.on_run_changed(record(9, RunStatus.RUNNING, started_at=began))
    row = model.row_of(9)
    assert model.index(row, STATUS).data() == "Running" and model.index(row, EXIT_CODE).data() == "—"
    model.on_run_changed(record(9, RunStatus.FAILED, started_at=began, ended_at=began + timedelta(seconds=3),
                                exit_code=2, error="boom: bad row 7"))  # fmt: skip
    assert model.index(row, STATUS).data() == "Failed"
    assert model.index(row, STATUS).data(Qt.ItemDataRole.ForegroundRole) == status_colour(RunStatus.FAILED)
    assert model.index(row, EXIT_CODE).data() == "2"
    assert model.index(row, ERROR).data() == "boom: bad row 7"
    assert model.index(row, STARTED).data() not in ("", "—") and model.index(row, JOB).data(RUN_ID_ROLE) == 9


def test_live_rows_take_a_new_palette_and_keep_it_through_later_events(qtbot, repo):  # noqa: F811
    from PySide6.QtCore import Qt

    from desktop.formatting import status_colour
    from desktop.style import dark_palette

    fill(repo, 2)
    model = HistoryModel(repo.query)
    model.set_filter(HistoryFilter())
    model.on_run_changed(record(9, RunStatus.RUNNING))
    model.on_run_changed(record(9, RunStatus.FAILED, exit_code=1))
    dark = dark_palette()
    model.set_palette(dark)
    model.on_run_changed(record(9, RunStatus.FAILED, exit_code=1, error="late detail"))  # same status, new error
    row = model.row_of(9)
    assert model.index(row, STATUS).data(Qt.ItemDataRole.ForegroundRole) == status_colour(RunStatus.FAILED, dark)
    assert model.index(row, STATUS).data(Qt.ItemDataRole.ForegroundRole) != status_colour(RunStatus.FAILED)


def test_live_rows_past_the_kept_count_drop_the_oldest_and_scrolling_brings_them_back(qtbot, repo, monkeypatch):  # noqa: F811
    """A window left open with every-minute jobs gains thousands of rows an hour (~6 KiB each):
    past KEEP_ROWS (or what was scrolled in, if more) the oldest go, and paging finds them again."""
    from desktop.history import history_model

    monkeypatch.setattr(history_model, "KEEP_ROWS", 30)
    fill(repo, 100)
    model = HistoryModel(repo.query, page_size=20)
    model.set_filter(HistoryFilter())
    assert ids(model) == list(range(100, 80, -1))
    while len(ids(model)) < 40:  # scrolled down to 40 rows: those stay
        model.fetchMore()
    assert ids(model) == list(range(100, 60, -1))
    repo.create_many((ALPHA, RunCause.SCHEDULED, RunStatus.SUCCEEDED, None, None) for _ in range(25))  # runs 101-125
    for run_id in range(101, 126):
        model.queue_run_changed(repo.get(run_id))
    qtbot.waitUntil(lambda: model.rowCount() == 40 and ids(model)[0] == 125, timeout=3000)
    assert ids(model) == list(range(125, 85, -1))  # the newest 40: 61-85 dropped
    assert model.canFetchMore()
    while model.canFetchMore():
        model.fetchMore()
    assert ids(model) == list(range(125, 0, -1))  # every run once, in order: nothing lost, none twice
