"""A screenshot of retries for the README: retried-history-light.png (History with a run that
succeeded on its third attempt selected, and another job's retry pending).

Real runs in the real window: "Nightly sales report" runs a script that fails twice (it
counts its attempts in a file) and retries after short delays; "Sync CRM exports" always
fails and its retry is an hour away, so it shows as pending.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from desktop.app import create_window
from desktop.style import light_palette
from jobs.model import RunStatus
from jobs.paths import resolve_data_dir
from jobs.service import JobService
from scripts.shots.window import SIZE, _grab, add_history, sample_jobs, settle, wait_until

FLAKY = ("import pathlib, sys; p = pathlib.Path(sys.argv[1]); n = int(p.read_text()) if p.exists() else 0; "
         "p.write_text(str(n + 1)); print('attempt', n + 1); "
         "sys.exit(0) if n >= 2 else (print('ConnectionError: warehouse did not answer', file=sys.stderr), sys.exit(1))")


def save_retried_screenshots(out_dir: Path) -> list[Path]:
    app = QApplication.instance()
    assert app is not None, "save_screenshots makes the QApplication"
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(tmp) / "settings"))
        data_dir = resolve_data_dir(Path(tmp) / "data")
        scripts = Path(tmp) / "scripts"
        scripts.mkdir()
        jobs = sample_jobs(scripts)
        jobs[0] = replace(jobs[0], command=(sys.executable, "-c", FLAKY, str(Path(tmp) / "count")), retries=3,
                          retry_delay=0.3, cwd=None)
        jobs[1] = replace(jobs[1], command=(sys.executable, "-c", "import sys; sys.exit(75)"), retries=3,
                          retry_delay=3600.0, retry_on_exit=(75,), cwd=None)
        service = JobService(data_dir)
        try:
            specs = service.import_jobs(jobs[:-1])
            add_history(service, [*specs, specs[-1]], earlier=False)
        finally:
            service.shutdown()
        window = create_window(data_dir)
        try:
            wait_until(lambda: window.jobs_model.rowCount() == len(specs) and not window.loader.busy)
            service = window.service
            final = service.dispatcher.final_attempt(service.wait_for_run(service.run_now(specs[0].id), 20), 20)
            pending = service.wait_for_run(service.run_now(specs[1].id), 20).retried_by
            wait_until(lambda: service.get_run(pending).status is RunStatus.RETRY_PENDING)
            window.resize(*SIZE)
            window.show()
            app.setPalette(light_palette())
            settle(600)
            window.show_run(final.id)
            window.history.table.setFocus()
            settle(400)
            return [_grab(window, out_dir / "retried-history-light.png")]
        finally:
            window.shutdown()
            window.close()
            window.deleteLater()
