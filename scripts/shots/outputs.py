"""Screenshots of a run's outputs and of "Changed since the last success" in the History panel.

`save_outputs_screenshots(out_dir)` runs a real script in a throw-away data directory: a run
that writes its report (outputs with Open / Show in folder), then, after the script and a
variable were edited and a virtual environment's interpreter was put in its place, a run that
fails. It grabs the History panel offscreen for each, light and dark.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from desktop.history.history_panel import HistoryPanel
from desktop.style import dark_palette
from jobs.model import CronSpec, JobSpec
from jobs.paths import resolve_data_dir
from jobs.service import JobService

_APP: QApplication | None = None

REPORT = """import datetime, os, pathlib
day = datetime.date.today().isoformat()
print(f"building the sales report for {day} ({os.environ['REGION']})")
pathlib.Path(f"sales-{day}.pdf").write_bytes(b"%PDF-1.7 " * 2400)
print("wrote", f"sales-{day}.pdf")
"""
BROKEN = """import os
print("building the sales report")
rows = open(os.environ["SOURCE"]).read()  # added on Tuesday
"""


def _grab(widget: QWidget, path: Path, size: tuple[int, int]) -> Path:
    widget.resize(*size)
    widget.show()
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.01)
    widget.grab().save(str(path))
    widget.hide()
    return path


def _settle(panel: HistoryPanel) -> None:
    """Let the worker thread's answer (what changed) arrive through the event loop."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and panel.facts.changes is None and panel.facts.changes_label.isVisible():
        QApplication.processEvents()
        time.sleep(0.02)


def save_outputs_screenshots(out_dir: Path) -> list[Path]:
    """Save outputs-light/dark.png and changed-since-light/dark.png under `out_dir`."""
    global _APP
    if QApplication.instance() is None:
        _APP = QApplication([])
    out_dir.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "sales"
        folder.mkdir()
        report = folder / "report.py"
        report.write_text(REPORT)
        venv = Path(tmp) / "venv" / "bin"
        venv.mkdir(parents=True)
        (venv / "python").symlink_to(sys.executable)
        service = JobService(resolve_data_dir(Path(tmp) / "data"))
        try:
            spec = service.add_job(JobSpec(name="Sales report", command=(sys.executable, str(report)),
                                           trigger=CronSpec("0 7 * * 1-5", "UTC"), env=(("REGION", "north"),),
                                           expect=("sales-{date}.pdf",)))  # fmt: skip
            good = service.run_now(spec.id)
            assert good is not None and service.wait_for_run(good, 30) is not None
            time.sleep(0.05)
            report.write_text(BROKEN)
            os.utime(report)
            service.update_job(replace(spec, command=(str(venv / "python"), str(report)),
                                       env=(("REGION", "north-east"), ("SOURCE", "/data/sales.csv"))))
            bad = service.run_now(spec.id)
            assert bad is not None and service.wait_for_run(bad, 30) is not None
            light = QApplication.style().standardPalette()
            for mode, palette in (("light", light), ("dark", dark_palette())):
                panel = HistoryPanel(service)
                panel.setPalette(palette)
                panel.show_run(good)
                saved.append(_grab(panel, out_dir / f"outputs-{mode}.png", (1100, 560)))
                panel.show_run(bad)
                _settle(panel)
                saved.append(_grab(panel, out_dir / f"changed-since-{mode}.png", (1100, 620)))
                panel.deleteLater()
        finally:
            service.shutdown()
    return saved


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    for path in save_outputs_screenshots(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/screenshots")):
        print(path)
    sys.stdout.flush()
    os._exit(0)
