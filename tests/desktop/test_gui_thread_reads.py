"""What the GUI thread does not do: re-read and decode every definition when a job fires.

Every fire emits `jobs_changed`; the window's views take job names from the snapshot loader
(a worker thread, debounced), never from the store on the GUI thread.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from jobs import triggers
from jobs.model import CronSpec, JobSpec
from jobs.repository import JobRepository

TZ = triggers.local_timezone_name()


def test_jobs_changed_burst_reads_no_definitions_on_the_gui_thread(window, qtbot, monkeypatch):
    specs = window.service.import_jobs([JobSpec(name=f"Job {n}", command=("true",), trigger=CronSpec("0 3 * * *", TZ))
                                        for n in range(5)])  # fmt: skip
    qtbot.waitUntil(lambda: window.jobs_model.rowCount() == 5 and not window.loader.busy, timeout=5000)
    qtbot.waitUntil(lambda: window.history.filter_bar.job_combo.count() == 6, timeout=5000)
    gui = threading.current_thread()
    reads: list[str] = []
    original = JobRepository.all

    def counted(self: JobRepository) -> list[JobSpec]:
        reads.append(threading.current_thread().name)
        return original(self)

    monkeypatch.setattr(JobRepository, "all", counted)
    loads = window.loader.loads
    for _ in range(20):  # twenty fires in a row
        window.service.events.jobs_changed.emit((specs[0].id,))
    qtbot.waitUntil(lambda: window.loader.loads > loads and not window.loader.busy, timeout=5000)
    assert gui.name not in reads, f"definitions read on the GUI thread {reads.count(gui.name)} times"
    assert 1 <= len(reads) <= 2  # one debounced load (a second if one was already running)

    window.service.set_paused(specs[1].id, True)  # names still follow changes, through the snapshot
    renamed = window.service.update_job(replace(specs[2], name="Renamed"))
    combo = window.history.filter_bar.job_combo
    qtbot.waitUntil(lambda: combo.itemText(combo.findData(renamed.id)) == "Renamed", timeout=5000)
