"""Screenshots of run-after chains for the README: chain-timeline-light.png (the Timeline with
"Sales report" linked to the runs it follows) and editor-after-light.png (the editor's After tab).

A throw-away data directory: two upstream jobs through the day and a report after both of them;
nothing runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from desktop.app import create_window
from desktop.editor.job_editor import JobEditorDialog
from desktop.style import light_palette
from jobs import triggers
from jobs.model import AfterSpec, CronSpec, JobSpec
from jobs.paths import resolve_data_dir
from jobs.service import JobService
from scripts.shots.window import SIZE, _grab, settle, wait_until


def chain_jobs() -> list[JobSpec]:
    zone = triggers.local_timezone_name()
    py = "/usr/bin/python3"
    return [
        JobSpec(name="Extract orders", command=(py, "etl/orders.py"), trigger=CronSpec("0 */4 * * *", zone)),
        JobSpec(name="Load prices", command=(py, "etl/prices.py"), trigger=CronSpec("30 */8 * * *", zone)),
        JobSpec(name="Sales report", command=(py, "reports/sales.py"),
                trigger=AfterSpec(("Extract orders", "Load prices"), "success", zone)),
        JobSpec(name="Tell the team it failed", command=(py, "reports/notify.py"),
                trigger=AfterSpec(("Sales report",), "failure", zone)),
    ]  # fmt: skip


def save_chain_screenshots(out_dir: Path) -> list[Path]:
    app = QApplication.instance()
    assert app is not None, "save_screenshots makes the QApplication"
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(tmp) / "settings"))
        data_dir = resolve_data_dir(Path(tmp) / "data")
        service = JobService(data_dir)
        try:
            specs = service.import_jobs(chain_jobs())  # names of the file become ids (jobs.chains)
        finally:
            service.shutdown()
        window = create_window(data_dir)
        try:
            wait_until(lambda: window.jobs_model.rowCount() == len(specs) and not window.loader.busy)
            window.resize(*SIZE)
            window.show()
            app.setPalette(light_palette())  # type: ignore[attr-defined]
            window.tabs.setCurrentIndex(2)
            settle(400)
            saved.append(_grab(window, out_dir / "chain-timeline-light.png"))
            report = next(spec for spec in specs if spec.name == "Sales report")
            dialog = JobEditorDialog(report, window, jobs=window.jobs_model.specs())
            dialog.ui.trigger_tabs.setCurrentWidget(dialog.ui.after_editor)
            dialog.show()
            settle(300)
            saved.append(_grab(dialog, out_dir / "editor-after-light.png"))
            dialog.close()
        finally:
            window.shutdown()
            window.close()
            window.deleteLater()
    return saved
