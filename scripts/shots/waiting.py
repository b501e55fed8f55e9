"""Screenshots of a run waiting for its conditions, for the README: waiting-history-light.png
(History with the waiting run selected) and waiting-upcoming-light.png (Upcoming, the waiting
run first).

The data directory is a throw-away one with a few of the window screenshots' jobs; "Warehouse
backup" needs AC power and the conditions come from a `MemoryConditions` that says the computer
is on battery (this machine has none), so the run really waits in the real window.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from sqlalchemy import insert

from desktop.app import create_window
from desktop.style import light_palette
from jobs.conditions.source import MemoryConditions
from jobs.db import run_table
from jobs.model import RunCause, RunStatus
from jobs.paths import resolve_data_dir
from jobs.service import JobService
from scripts.shots.window import SIZE, _grab, add_history, sample_jobs, settle, wait_until


def save_waiting_screenshots(out_dir: Path) -> list[Path]:
    app = QApplication.instance()
    assert app is not None, "save_screenshots makes the QApplication"
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(tmp) / "settings"))
        data_dir = resolve_data_dir(Path(tmp) / "data")
        scripts = Path(tmp) / "scripts"
        scripts.mkdir()
        jobs = sample_jobs(scripts)
        jobs[4] = replace(jobs[4], requires=("ac-power",), condition_deadline=6 * 3600.0)  # Warehouse backup
        service = JobService(data_dir)
        try:
            specs = service.import_jobs(jobs[:-1])  # not the indexer: nothing runs in these pictures
            add_history(service, [*specs, specs[-1]])
            backup = specs[4]
            due = time.time() - 47 * 60
            with service.engine.begin() as conn:
                waiting = conn.execute(insert(run_table).values(
                    job_id=backup.id, job_name=backup.name, cause=RunCause.SCHEDULED.value,
                    status=RunStatus.WAITING.value, scheduled_at=due, queued_at=due, waiting_for="AC power",
                    command=json.dumps(list(backup.command)), shell=False, env="{}", output_bytes=0, truncated=False,
                )).inserted_primary_key[0]  # fmt: skip
        finally:
            service.shutdown()
        window = create_window(data_dir, conditions=MemoryConditions(ac_power=False))
        try:
            wait_until(lambda: window.jobs_model.rowCount() == len(specs) and not window.loader.busy)
            wait_until(lambda: len(window.active.waiting) == 1)
            window.resize(*SIZE)
            window.show()
            app.setPalette(light_palette())
            window.show_run(waiting)
            window.history.table.setFocus()
            settle(400)
            saved.append(_grab(window, out_dir / "waiting-history-light.png"))
            window.tabs.setCurrentIndex(1)
            window.upcoming_table.setFocus()
            settle(300)
            saved.append(_grab(window, out_dir / "waiting-upcoming-light.png"))
        finally:
            window.shutdown()
            window.close()
            window.deleteLater()
    return saved
