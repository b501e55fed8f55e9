"""Screenshots of the history panel and the timeline, in a light and a dark palette.

`save_history_screenshots(out_dir)` builds a throw-away data directory with a few jobs and a
realistic history (a failure with output, a run that could not start, a missed slot, a run with
a log far larger than the viewer reads), then grabs the widgets offscreen. It makes a
QApplication when there is none.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path


from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import insert

from desktop.history.history_panel import HistoryPanel
from desktop.timeline import TimelineView, timeline_scroll_area
from jobs.db import run_table
from jobs.model import CronSpec, IntervalSpec, JobSpec, RunCause, RunStatus
from jobs.paths import resolve_data_dir
from desktop.style import dark_palette
from jobs.service import JobService

_APP: QApplication | None = None


def _jobs() -> list[JobSpec]:
    zone = "UTC"
    return [
        JobSpec(name="Nightly warehouse backup", command=("/usr/local/bin/backup.sh", "--incremental"),
                trigger=CronSpec("30 2 * * *", zone), cwd="/srv/backups"),
        JobSpec(name="Sync CRM exports to the analytics warehouse (all regions, full refresh)",
                command=("python3", "sync_crm.py", "--full"), trigger=CronSpec("0 */4 * * *", zone),
                cwd="/home/analyst/etl", env=(("CRM_TOKEN_FILE", "/home/analyst/.crm token"),)),
        JobSpec(name="Weekly KPI report", command=("python3", "kpi.py"), trigger=CronSpec("0 7 * * *", zone)),
        JobSpec(name="Refresh dashboards", command=("curl -fsS https://bi.example/refresh | tee -a refresh.log",),
                shell=True, trigger=IntervalSpec(45, "minutes", zone)),
        JobSpec(name="Clean temp files", command=("find", "/tmp/reports", "-mtime", "+7", "-delete"),
                trigger=CronSpec("15 13 * * *", zone)),
    ]


def _failure_output() -> str:
    lines = [f"2026-11-30 07:30:{i:02d} INFO fetched page {i} of 40 (250 rows)" for i in range(1, 23)]
    lines += [
        "Traceback (most recent call last):",
        '  File "/home/analyst/etl/sync_crm.py", line 88, in <module>',
        "    upload(batch)",
        '  File "/home/analyst/etl/sync_crm.py", line 61, in upload',
        "    raise ConnectionError(f\"warehouse refused the batch: {response.status}\")",
        "ConnectionError: warehouse refused the batch: 503 Service Unavailable",
    ]
    return "\n".join(lines) + "\n"


def build_history(service: JobService) -> dict[str, int]:
    """Jobs and a history with every kind of row; returns run ids by name ("failure", "huge"...)."""
    specs = [service.add_job(spec) for spec in _jobs()]
    backup, crm, kpi, dashboards, clean = specs
    now = time.time()
    rows, logs = [], {}
    plan = [  # (job, status, minutes ago, seconds taken, exit code, error, output)
        (backup, RunStatus.SUCCEEDED, 60 * 30, 312.4, 0, None, "backed up 1,204 files (3.2 GiB)\n"),
        (kpi, RunStatus.SUCCEEDED, 60 * 26, 48.0, 0, None, "report written to kpi-2026-47.pdf\n"),
        (clean, RunStatus.MISSED, 60 * 20, None, None, "missed: Jobdesk was not running at 13:15 (grace 1h)", None),
        (dashboards, RunStatus.SUCCEEDED, 60 * 5, 2.1, 0, None, ""),
        (crm, RunStatus.FAILED, 60 * 4, 95.7, 1, None, _failure_output()),
        (kpi, RunStatus.FAILED, 60 * 3, 0.01, None, "program not found: 'python3.13'", None),
        (backup, RunStatus.TIMED_OUT, 90, 3600.0, -15, "timed out after 1h; process tree terminated", "copying…\n" * 40),
        (dashboards, RunStatus.SKIPPED, 40, None, None, "skipped: run #7 was still going", None),
        (crm, RunStatus.SUCCEEDED, 20, 610.0, 0, None, "huge"),
        (dashboards, RunStatus.RUNNING, 1, None, None, None, "refreshing 12 dashboards\n"),
    ]
    with service.engine.begin() as conn:
        for job, status, minutes, took, code, error, output in plan:
            queued = now - minutes * 60
            started = queued + 1 if took is not None or status is RunStatus.RUNNING else None
            cause = RunCause.MANUAL if job is kpi and status is RunStatus.FAILED else RunCause.SCHEDULED
            run_id = conn.execute(insert(run_table).values(
                job_id=job.id, job_name=job.name, cause=cause.value, status=status.value,
                scheduled_at=None if cause is RunCause.MANUAL else queued, queued_at=queued, started_at=started,
                ended_at=None if status is RunStatus.RUNNING else (started or queued) + (took or 0),
                exit_code=code, error=error, command=_json(job.command), shell=job.shell, cwd=job.cwd,
                env=_json(dict(job.env)), output_bytes=0, truncated=False,
            )).inserted_primary_key[0]
            if output is not None and started is not None:
                logs[run_id] = output
            rows.append((status, run_id))
    ids = {}
    for run_id, output in logs.items():
        record = service.history.get(run_id)
        assert record is not None
        path = service.data_dir.run_log(record.job_id, run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        if output == "huge":
            with open(path, "w", encoding="utf-8") as handle:
                line = "row {:>9} merged into customers_2026 (upsert, 0 conflicts)\n"
                handle.writelines(line.format(n) for n in range(700_000))
            ids["huge"] = run_id
        else:
            path.write_text(output, encoding="utf-8")
        with service.engine.begin() as conn:
            conn.execute(run_table.update().where(run_table.c.id == run_id).values(
                log_path=str(path), output_bytes=path.stat().st_size))
    ids.update({
        "failure": next(run_id for status, run_id in rows if status is RunStatus.FAILED),
        "not_started": [run_id for status, run_id in rows if status is RunStatus.FAILED][1],
    })
    return ids


def _json(value: object) -> str:
    import json

    return json.dumps(list(value) if isinstance(value, tuple) else value)


def _grab(widget: QWidget, path: Path, size: tuple[int, int]) -> Path:
    widget.resize(*size)
    widget.show()
    for _ in range(3):
        QApplication.processEvents()
    widget.grab().save(str(path))
    widget.hide()
    return path


def save_history_screenshots(out_dir: Path) -> list[Path]:
    """Save history-*.png and timeline-*.png (light and dark) under `out_dir`; returns the paths."""
    global _APP
    if QApplication.instance() is None:
        _APP = QApplication([])
    out_dir.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        service = JobService(resolve_data_dir(Path(tmp) / "data"))
        try:
            ids = build_history(service)
            now = datetime.now(timezone.utc)
            lanes = service.timeline()
            light = QApplication.style().standardPalette()
            for mode, palette in (("light", light), ("dark", dark_palette())):
                panel = HistoryPanel(service)
                panel.setPalette(palette)
                panel.show_run(ids["failure"])
                saved.append(_grab(panel, out_dir / f"history-{mode}.png", (1180, 720)))
                panel.show_run(ids["huge" if mode == "dark" else "not_started"])
                name = "history-huge-log" if mode == "dark" else "history-not-started"
                saved.append(_grab(panel, out_dir / f"{name}-{mode}.png", (1180, 720)))
                panel.deleteLater()

                view = TimelineView(clock=lambda: now)
                view.set_lanes(lanes)
                area = timeline_scroll_area(view)
                area.setPalette(palette)
                saved.append(_grab(area, out_dir / f"timeline-{mode}.png", (960, 220)))
                area.deleteLater()
            panel = HistoryPanel(service)
            panel.filter_bar.set_search("no such job")
            saved.append(_grab(panel, out_dir / "history-empty-light.png", (1180, 480)))
            panel.deleteLater()
            empty = TimelineView()
            saved.append(_grab(empty, out_dir / "timeline-empty-light.png", (960, 120)))
            empty.deleteLater()
        finally:
            service.shutdown()
    return saved

