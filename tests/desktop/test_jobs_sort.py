"""The Jobs table stays sorted when a row changes (its sort keys are made once per row and
column, and must be made again when a run or a pause changes the row)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from jobs.model import RunStatus
from tests.desktop.test_main_window import add_job, select, table_names


def _click_header(window, qtbot, title: str) -> None:
    header = window.jobs_table.horizontalHeader()
    model = window.jobs_table.model()
    column = next(c for c in range(model.columnCount()) if model.headerData(c, Qt.Orientation.Horizontal) == title)
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def test_a_run_moves_its_job_in_a_table_sorted_by_last_run(window, qtbot):
    window.show()
    # runs for a while: while it runs only its run events change the row (no new snapshot)
    slow = "import time; time.sleep(30)"
    jobs = {spec.name: spec for spec in (add_job(window, qtbot, name="Alpha", code=slow),
                                         add_job(window, qtbot, name="Beta", code=slow))}  # fmt: skip
    _click_header(window, qtbot, "Last run")
    names = table_names(window)
    assert sorted(names) == ["Alpha", "Beta"]  # neither has run: the name decides
    # A job that ran sorts after one that never did: running the top row (ascending) or the
    # bottom one (descending) makes the two rows trade places.
    ascending = window.jobs_proxy.sortOrder() == Qt.SortOrder.AscendingOrder
    moving = jobs[names[0] if ascending else names[-1]]
    select(window, qtbot, moving.id)
    qtbot.mouseClick(window.run_now_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.jobs_model.last_run(moving.id) is not None
                    and window.jobs_model.last_run(moving.id).status is RunStatus.RUNNING, timeout=10_000)  # fmt: skip
    qtbot.waitUntil(lambda: table_names(window) == list(reversed(names)), timeout=3000)
    # the teardown's shutdown kills the sleeping process (checked by the fixture)


def test_pausing_moves_the_job_in_a_table_sorted_by_state(window, qtbot):
    window.show()
    jobs = {spec.name: spec for spec in (add_job(window, qtbot, name="Alpha"), add_job(window, qtbot, name="Beta"))}
    _click_header(window, qtbot, "State")
    names = table_names(window)
    assert sorted(names) == ["Alpha", "Beta"]  # both active: the name decides
    # Paused sorts after Active: pausing the top row (ascending) or the bottom one
    # (descending) makes the two rows trade places.
    ascending = window.jobs_proxy.sortOrder() == Qt.SortOrder.AscendingOrder
    moving = jobs[names[0] if ascending else names[-1]]
    select(window, qtbot, moving.id)
    window.job_actions.pause.trigger()
    qtbot.waitUntil(lambda: table_names(window) == list(reversed(names)), timeout=5000)
