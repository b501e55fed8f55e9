"""History's live events applied in batches (a burst of runs at 10,000 jobs): same rows, fewer updates."""

from __future__ import annotations

import sys

import pytest

from desktop.history import HistoryFilter, HistoryModel, HistoryPanel
from desktop.history.history_model import LIVE_CHUNK, STATUS
from jobs.model import CronSpec, JobSpec, RunStatus
from jobs.service import JobService
from tests.desktop.test_history import fill, ids, record, repo  # noqa: F401  (the fixture)


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
