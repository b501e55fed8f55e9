"""The History filter's job combo over one list model (desktop.history.job_choices): what a
person sees and picks is what item-by-item filling gave, and 10,000 jobs fill at once."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from desktop.history.history_filter import HistoryFilterBar


def _texts(bar: HistoryFilterBar) -> list[str]:
    return [bar.job_combo.itemText(i) for i in range(bar.job_combo.count())]


def test_picking_a_job_with_the_keyboard_filters_by_its_id(qtbot):
    bar = HistoryFilterBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.set_jobs([("b1", "Beta report"), ("a1", "Alpha backup"), ("c1", "Cleanup")])
    assert _texts(bar) == ["All jobs", "Alpha backup", "Beta report", "Cleanup"]
    assert bar.job_combo.itemData(2, Qt.ItemDataRole.ToolTipRole) == "Beta report (b1)"
    emitted = []
    bar.filter_changed.connect(emitted.append)
    bar.job_combo.setFocus()
    qtbot.keyClick(bar.job_combo, Qt.Key.Key_Down)  # All jobs -> Alpha backup
    qtbot.keyClick(bar.job_combo, Qt.Key.Key_Down)  # -> Beta report
    assert emitted[-1].job_id == "b1"


def test_a_removed_job_stays_chosen_and_named_as_removed(qtbot):
    bar = HistoryFilterBar()
    qtbot.addWidget(bar)
    bar.set_jobs([("b1", "Beta report"), ("a1", "Alpha backup")])
    bar.set_job("b1")
    bar.set_jobs([("a1", "Alpha backup")])  # Beta was removed while the history showed it
    assert _texts(bar) == ["All jobs", "Alpha backup", "b1 (removed)"]
    assert bar.job_combo.currentText() == "b1 (removed)" and bar.current.job_id == "b1"
    bar.set_job("zz")  # a job the combo never listed (History of a job from elsewhere)
    assert bar.job_combo.currentText() == "zz" and bar.current.job_id == "zz"
    bar.set_job(None)
    assert bar.job_combo.currentText() == "All jobs" and bar.current.job_id is None


def test_ten_thousand_jobs_fill_the_combo_at_once(qtbot):
    bar = HistoryFilterBar()
    qtbot.addWidget(bar)
    bar.show()  # as in the window (the History tab's filter bar exists from the start)
    took = []
    for fill in range(3):  # the quickest of three fills: a loaded machine adds noise
        jobs = [(f"id{i:05d}", f"Report {i:05d}{'x' * fill}") for i in range(10_000)]
        began = time.perf_counter()
        bar.set_jobs(jobs)
        took.append(time.perf_counter() - began)
        assert bar.job_combo.count() == 10_001 and bar.job_combo.itemText(10_000) == f"Report 09999{'x' * fill}"
    # item by item this was 45-80 ms here (~0.4 s in the starting window, where every Qt call
    # waited for the GIL); as one list it is the sort of the pairs (~4 ms)
    assert min(took) < 0.02, took


def test_the_loaders_name_order_is_the_filters_own(qtbot):
    """The snapshot's worker sorts the jobs by name (desktop.joblist.snapshot.in_name_order) and
    the filter then skips its own sort: both orders must be one and the same."""
    from desktop.joblist.snapshot import in_name_order
    from jobs.model import CronSpec, JobSpec

    names = [("j3", "beta"), ("j1", "Alpha"), ("j2", "alpha"), ("j0", "Gamma report"), ("j4", "Éclair"), ("j5", "ALPHA")]
    specs = tuple(JobSpec(id=job_id, name=name, command=("true",), trigger=CronSpec("0 9 * * *", "UTC"))
                  for job_id, name in names)  # fmt: skip
    sorted_by_worker, sorted_by_filter = HistoryFilterBar(), HistoryFilterBar()
    for bar in (sorted_by_worker, sorted_by_filter):
        qtbot.addWidget(bar)
    sorted_by_worker.set_jobs([(spec.id, spec.name) for spec in in_name_order(specs)], in_order=True)
    sorted_by_filter.set_jobs(names)
    assert _texts(sorted_by_worker) == _texts(sorted_by_filter)
    assert [sorted_by_worker.job_combo.itemData(i) for i in range(1, 4)] == ["j1", "j2", "j5"]  # ties by id
