"""Screenshot of the wake-up digest card for the README: digest-card-light.png.

A throw-away data directory with the window screenshots' jobs (one with a very long name) and
the rows a 3 h 12 min sleep leaves: missed slots of six jobs, one of which ("Refresh
dashboards", collapsing by default) had its latest slot run by its policy at wake-up, so its
Run latest is off. The digest is sealed by the core's own `seal`, then the real window shows it
and the card alone is grabbed at the window's width.

    QT_QPA_PLATFORM=offscreen python -m scripts.shots.digest [OUT_DIR]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from sqlalchemy import insert

from desktop.app import create_window
from desktop.style import light_palette
from jobs import digest_store
from jobs.db import run_table
from jobs.model import JobSpec, RunCause, RunStatus
from jobs.paths import resolve_data_dir
from jobs.pyside_refcount import pin_singletons
from jobs.service import JobService
from scripts.shots.window import SIZE, _grab, sample_jobs, settle, wait_until

ASLEEP = 3 * 3600 + 12 * 60


def _row(spec: JobSpec, due: float, status: RunStatus, error: str | None, *, ended: float | None = None) -> dict[str, object]:
    return dict(job_id=spec.id, job_name=spec.name, cause=(RunCause.CATCH_UP if status is RunStatus.SUCCEEDED
                                                           else RunCause.SCHEDULED).value,
                status=status.value, scheduled_at=due, queued_at=ended or due, started_at=ended, ended_at=ended,
                exit_code=0 if status is RunStatus.SUCCEEDED else None, error=error,
                command=json.dumps(list(spec.command)), shell=spec.shell, env="{}", output_bytes=0, truncated=False)  # fmt: skip


def save_digest_screenshot(out_dir: Path) -> list[Path]:
    app = QApplication.instance() or QApplication([])
    pin_singletons()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(tmp) / "settings"))
        data_dir = resolve_data_dir(Path(tmp) / "data")
        scripts = Path(tmp) / "scripts"
        scripts.mkdir()
        service = JobService(data_dir)
        try:
            specs = service.import_jobs([replace_paused(s) for s in sample_jobs(scripts)[:-1]])
            woke = time.time() - 40
            slept = woke - ASLEEP
            sales, crm, dashboards, kpi, backup, clean = specs[:6]
            rows = []
            for spec, count, every in ((crm, 1, 0), (backup, 1, 0), (kpi, 1, 0), (sales, 1, 0), (clean, 1, 0)):
                for n in range(count):
                    due = slept + 600 + n * every + 900 * specs.index(spec)
                    rows.append(_row(spec, due, RunStatus.MISSED, f"missed by {digest_store.away_words(woke - due)} "
                                                                  "(grace 1h)"))  # fmt: skip
            for n in range(4):  # every 45 min: four collapsed, the latest ran as a catch-up at wake-up
                rows.append(_row(dashboards, slept + 300 + n * 2700, RunStatus.MISSED,
                                 "collapsed into one catch-up run at wake-up"))  # fmt: skip
            rows.append(_row(dashboards, woke - 120, RunStatus.SUCCEEDED, None, ended=woke))
            with service.engine.begin() as conn:
                for row in rows:
                    conn.execute(insert(run_table).values(**row))
            digest_store.seal(service.engine, digest_store.ASLEEP, slept, woke, 0)
        finally:
            service.shutdown()
        app.setPalette(light_palette())
        window = create_window(data_dir)
        try:
            window.resize(*SIZE)
            window.show()
            wait_until(lambda: window.digest_card.isVisible() and not window.loader.busy)
            settle(400)
            return [_grab(window.digest_card, out_dir / "digest-card-light.png")]
        finally:
            window.shutdown()
            window.close()
            window.deleteLater()


def replace_paused(spec: JobSpec) -> JobSpec:
    """Paused in the picture's store: nothing of theirs runs while it is taken."""
    from dataclasses import replace

    return replace(spec, paused=True)


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    for path in save_digest_screenshot(target):
        print(path)
    sys.stdout.flush()
    os._exit(0)
