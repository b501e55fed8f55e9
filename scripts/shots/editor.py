"""Screenshots of the job editor for the README: a cron error in light and dark, and a valid job.

`save_editor_screenshots(out_dir)` needs a QApplication (it makes one when there is none) and
works on the offscreen platform.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QWidget

from desktop.editor.job_editor import JobEditorDialog
from desktop.style import dark_palette
from jobs.model import CronSpec, JobSpec, Notify, Overlap

SIZE = (1060, 700)
_APP: QApplication | None = None


def sample_spec() -> JobSpec:
    """A realistic job with a long name, so elision and wrapping show up in the pictures."""
    return JobSpec(
        id="sample",
        name="Daily sales report for the regional finance team (Europe, Middle East and Africa)",
        description="Builds yesterday's sales report and mails it to the finance list.",
        tags=("reports", "finance"),
        command=("/usr/bin/python3", "/home/analyst/reports/daily_sales_report.py", "--region", "EMEA", "--send"),
        cwd="/home/analyst/reports",
        env=(("REPORT_DB", "postgresql://reports@db/sales"), ("TZ", "Europe/Paris")),
        trigger=CronSpec("30 7 * * 1-5", "Europe/Paris"),
        timeout=15 * 60,
        overlap=Overlap.SKIP,
        misfire_grace=2 * 3600,
        notify=Notify.FAILURE,
    )


def _grab(widget: QWidget, path: Path) -> Path:
    widget.resize(*SIZE)
    widget.show()
    QApplication.processEvents()
    widget.grab().save(str(path))
    return path


def editor_with_cron_error(palette: QPalette | None = None) -> JobEditorDialog:
    dialog = JobEditorDialog(sample_spec())
    if palette is not None:
        dialog.setPalette(palette)
    dialog.ui.cron_editor.expression_edit.setText("")
    dialog.ui.cron_editor.expression_edit.insert("61 7 * * 1-5")  # as if typed: the fields follow
    dialog.revalidate()
    return dialog


def editor_valid() -> JobEditorDialog:
    # An existing folder (no caution line) and a 02:30 cron (its DST notes show)
    dialog = JobEditorDialog(replace(sample_spec(), cwd=str(Path.home())))
    dialog.ui.cron_editor.expression_edit.setText("")
    dialog.ui.cron_editor.expression_edit.insert("30 2 * * *")
    dialog.revalidate()
    return dialog


def save_editor_screenshots(out_dir: Path) -> list[Path]:
    """Save editor-cron-error-light.png, editor-cron-error-dark.png and editor-valid-light.png."""
    global _APP
    if QApplication.instance() is None:
        _APP = QApplication([])  # kept: PySide deletes an unreferenced application
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, make in (
        ("editor-cron-error-light.png", lambda: editor_with_cron_error()),
        ("editor-cron-error-dark.png", lambda: editor_with_cron_error(dark_palette())),
        ("editor-valid-light.png", editor_valid),
    ):
        dialog = make()
        try:
            saved.append(_grab(dialog, out_dir / name))
        finally:
            dialog.close()
            dialog.deleteLater()
    QApplication.processEvents()
    return saved

