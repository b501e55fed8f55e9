"""Screenshots of the whole window for the README, in the light and the dark palette.

`save_screenshots(out_dir)` builds a throw-away data directory with ten realistic jobs (one
with a very long name, one paused, one in another time zone, one that really runs while the
pictures are taken) and a history with successes, a failure with its output, a missed and a
skipped slot; then it grabs the real main window offscreen at a fixed size: main-light/dark.png
(Jobs tab, the running job selected), history-output-light/dark.png (History tab with the
failed run's output, its traceback from stderr set apart), upcoming-light.png, timeline-light/dark.png
(a dense lane among them), main-narrow-light.png (820 px wide),
waiting-history/upcoming-light.png (scripts.shots.waiting: a run waiting for AC power),
digest-card-light.png (scripts.shots.digest: the wake-up digest after a sleep) and,
through the editor's own helper, editor-cron-error-light/dark.png. Window state goes to a
temporary QSettings folder, never to the user's settings.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication
from sqlalchemy import insert

from desktop.app import create_window
from jobs.pyside_refcount import pin_singletons
from desktop.style import dark_palette, light_palette
from jobs import triggers
from jobs.db import run_table
from jobs.model import CronSpec, IntervalSpec, JobSpec, Notify, RunCause, RunStatus
from jobs.paths import resolve_data_dir
from jobs.runlog import ranges_path
from jobs.service import JobService

SIZE = (1280, 800)
NARROW = (820, 560)
_APP: QApplication | None = None


def sample_jobs(scripts: Path) -> list[JobSpec]:
    zone = triggers.local_timezone_name()
    py = "/usr/bin/python3"
    return [
        JobSpec(name="Nightly sales report", command=(py, "reports/sales.py", "--yesterday"),
                trigger=CronSpec("30 6 * * *", zone), tags=("reports", "finance"), cwd="/home/analyst"),
        JobSpec(name="Sync CRM exports to the analytics warehouse (all regions, full refresh, with deduplication)",
                command=(py, "etl/sync_crm.py", "--full"), trigger=CronSpec("0 */4 * * *", zone), tags=("etl",),
                cwd="/home/analyst", notify=Notify.ALWAYS),
        JobSpec(name="Refresh dashboards", command=("curl -fsS https://bi.example/refresh",), shell=True,
                trigger=IntervalSpec(45, "minutes", zone), tags=("bi",)),
        JobSpec(name="Weekly KPI deck", command=(py, "reports/kpi_deck.py"), trigger=CronSpec("0 8 * * 1", zone),
                tags=("reports",)),
        JobSpec(name="Warehouse backup", command=("/usr/local/bin/backup.sh", "--incremental"),
                trigger=CronSpec("15 2 * * *", zone), tags=("ops",), timeout=3600),
        JobSpec(name="Clean temp exports", command=("find", "/tmp/exports", "-mtime", "+7", "-delete"),
                trigger=CronSpec("0 13 * * *", zone), tags=("ops",)),
        JobSpec(name="Month-end close checks", command=(py, "finance/close_checks.py"),
                trigger=CronSpec("0 9 1 * *", zone), tags=("finance",)),
        JobSpec(name="Scrape competitor prices", command=(py, "scrape/prices.py"),
                trigger=CronSpec("*/30 9-17 * * 1-5", zone), tags=("research",), paused=True),
        JobSpec(name="Paris office digest", command=(py, "reports/digest.py", "--office", "paris"),
                trigger=CronSpec("0 8 * * 1-5", _foreign_zone(zone)), tags=("reports",)),
        JobSpec(name="Poll the order inbox", command=(py, "orders/poll_inbox.py"),
                trigger=CronSpec("*/5 7-19 * * *", zone), tags=("ops",)),
        JobSpec(name="Rebuild search index", command=(_python(), "rebuild_index.py"), cwd=str(scripts),
                trigger=CronSpec("0 */6 * * *", zone), tags=("ops",)),
    ]  # fmt: skip


# A real process, so the screenshots show a run in progress (elapsed time, Stop).
_INDEXER = "import time\nfor n in range(600):\n    print(f'indexed batch {n}', flush=True)\n    time.sleep(0.5)\n"


def _python() -> str:
    return "python3" if shutil.which("python3") else sys.executable


def _foreign_zone(local: str) -> str:
    """A zone whose clock differs from this machine's, so its times carry their zone label."""
    now = datetime.now(timezone.utc)
    return next(z for z in ("Europe/Paris", "America/New_York", "Asia/Tokyo")
                if now.astimezone(ZoneInfo(z)).utcoffset() != now.astimezone().utcoffset())  # fmt: skip


_FAILURE_STDOUT = "".join(f"2026-11-30 10:00:{i:02d} INFO fetched page {i} of 40 (250 rows)\n" for i in range(1, 19))
_FAILURE_STDERR = "".join(
    [
        "Traceback (most recent call last):\n",
        '  File "/home/analyst/etl/sync_crm.py", line 88, in <module>\n',
        "    upload(batch)\n",
        '  File "/home/analyst/etl/sync_crm.py", line 61, in upload\n',
        '    raise ConnectionError(f"warehouse refused the batch: {response.status}")\n',
        "ConnectionError: warehouse refused the batch: 503 Service Unavailable\n",
    ]
)


def add_history(service: JobService, specs: list[JobSpec], *, earlier: bool = True) -> int:
    """Realistic rows (and logs) for `specs`; returns the id of the failed run. `earlier`: with
    three weeks of daily runs before them (a shot of short real runs leaves them out, or each
    would be "much shorter than usual")."""
    sales, crm, dashboards, kpi, backup, clean, close, _scrape, digest, _poll, _indexer = specs
    now = time.time()
    plan = [  # (job, status, minutes ago, seconds taken, exit code, error, output)
        (backup, RunStatus.SUCCEEDED, 60 * 9, 312.4, 0, None, "backed up 1,204 files (3.2 GiB)\n"),
        (sales, RunStatus.SUCCEEDED, 60 * 5, 48.0, 0, None, "report written to sales-2026-11-29.xlsx\n"),
        (clean, RunStatus.MISSED, 60 * 23, None, None, "missed: Jobdesk was not running at 13:00", None),
        (kpi, RunStatus.SUCCEEDED, 60 * 50, 21.5, 0, None, "deck written\n"),
        (close, RunStatus.SUCCEEDED, 60 * 24 * 20, 95.0, 0, None, "all checks passed\n"),
        (dashboards, RunStatus.SUCCEEDED, 50, 2.1, 0, None, "refreshed 12 dashboards\n"),
        (dashboards, RunStatus.SKIPPED, 5, None, None, "skipped: a previous run was still going", None),
        (digest, RunStatus.SUCCEEDED, 60 * 27, 12.0, 0, None, "digest mailed to 14 people\n"),
        (crm, RunStatus.FAILED, 35, 95.7, 1, "exit code 1", _FAILURE_STDOUT + _FAILURE_STDERR),
    ]
    plan = (_earlier_runs([(backup, 312.4), (sales, 48.0), (kpi, 21.5), (close, 95.0), (dashboards, 2.1),
                          (digest, 12.0), (crm, 90.0)]) if earlier else []) + plan  # fmt: skip
    failure = 0
    with service.engine.begin() as conn:
        for job, status, minutes, took, code, error, output in plan:
            queued = now - minutes * 60
            started = queued + 0.4 if took is not None else None
            run_id = conn.execute(insert(run_table).values(
                job_id=job.id, job_name=job.name, cause=RunCause.SCHEDULED.value, status=status.value,
                scheduled_at=queued, queued_at=queued, started_at=started, ended_at=(started or queued) + (took or 0),
                exit_code=code, error=error, command=json.dumps(list(job.command)), shell=job.shell, cwd=job.cwd,
                env="{}", output_bytes=0, truncated=False,
            )).inserted_primary_key[0]  # fmt: skip
            if output is not None and started is not None:
                path = service.data_dir.run_log(job.id, run_id)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(output, encoding="utf-8")
                conn.execute(run_table.update().where(run_table.c.id == run_id)
                             .values(log_path=str(path), output_bytes=path.stat().st_size))  # fmt: skip
                if output.endswith(_FAILURE_STDERR):  # the traceback came on stderr, as the runner records it
                    start = len(output.encode()) - len(_FAILURE_STDERR.encode())
                    ranges_path(path).write_text(f"{start} {path.stat().st_size}\n")
                    conn.execute(run_table.update().where(run_table.c.id == run_id)
                                 .values(stderr_tail=_FAILURE_STDERR.rstrip("\n")))  # fmt: skip
            if status is RunStatus.FAILED:
                failure = run_id
    return failure


def _earlier_runs(usual: list[tuple[JobSpec, float]]) -> list[tuple]:
    """Three weeks of daily runs before the ones above, so the Usual column and the strip of
    recent runs show what they show after real use (durations vary, a few failures)."""
    rng = random.Random(7)
    rows: list[tuple] = []
    for job, took in usual:
        for day in range(22, 1, -1):
            failed = rng.random() < 0.08
            status, code = (RunStatus.FAILED, 1) if failed else (RunStatus.SUCCEEDED, 0)
            rows.append((job, status, 60 * 24 * day + rng.randint(0, 90), took * rng.uniform(0.6, 1.4), code,
                         "exit code 1" if failed else None, None))  # fmt: skip
    return rows


def wait_until(condition: Callable[[], bool], timeout_ms: int = 5000) -> bool:
    loop = QEventLoop()
    poll = QTimer(interval=20)
    poll.timeout.connect(lambda: condition() and loop.quit())
    QTimer.singleShot(timeout_ms, loop.quit)
    poll.start()
    if not condition():
        loop.exec()
    poll.stop()
    return condition()


def settle(ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def save_screenshots(out_dir: Path, *, editor: bool = True) -> list[Path]:
    global _APP
    if QApplication.instance() is None:
        _APP = QApplication([])  # kept: PySide deletes an unreferenced application
    app = QApplication.instance()
    pin_singletons()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(Path(tmp) / "settings"))
        data_dir = resolve_data_dir(Path(tmp) / "data")
        scripts = Path(tmp) / "scripts"
        scripts.mkdir()
        (scripts / "rebuild_index.py").write_text(_INDEXER)
        service = JobService(data_dir)  # the store alone, as the command line would fill it
        try:
            specs = service.import_jobs(sample_jobs(scripts))
            failure = add_history(service, specs)
        finally:
            service.shutdown()
        window = create_window(data_dir)
        try:
            wait_until(lambda: window.jobs_model.rowCount() == len(specs) and not window.loader.busy)
            indexer = specs[-1]
            running = window.service.run_now(indexer.id)
            wait_until(lambda: running is not None and window.history.model.row_of(running) is not None)
            window.resize(*SIZE)
            window.show()
            original = app.palette()
            for mode, palette in (("light", light_palette()), ("dark", dark_palette())):
                app.setPalette(palette)
                window.tabs.setCurrentIndex(0)
                window.select_job(indexer.id)
                window.jobs_table.setFocus()
                settle(1200)  # the run is seen going, its elapsed time has ticked
                saved.append(_grab(window, out_dir / f"main-{mode}.png"))
                window.show_run(failure)
                window.history.table.setFocus()
                settle(300)
                saved.append(_grab(window, out_dir / f"history-output-{mode}.png"))
            app.setPalette(light_palette())
            window.tabs.setCurrentIndex(1)
            settle()
            saved.append(_grab(window, out_dir / "upcoming-light.png"))
            for mode, palette in (("light", light_palette()), ("dark", dark_palette())):
                app.setPalette(palette)
                window.tabs.setCurrentIndex(2)
                settle()
                saved.append(_grab(window, out_dir / f"timeline-{mode}.png"))
            app.setPalette(light_palette())
            window.resize(*NARROW)
            window.select_job(specs[1].id)  # the long name
            settle(300)
            saved.append(_grab(window, out_dir / "main-narrow-light.png"))
            app.setPalette(original)
        finally:
            window.shutdown()
            window.close()
            window.deleteLater()
    from scripts.shots.waiting import save_waiting_screenshots

    saved.extend(save_waiting_screenshots(out_dir))
    from scripts.shots.chains import save_chain_screenshots

    saved.extend(save_chain_screenshots(out_dir))
    from scripts.shots.retried import save_retried_screenshots

    saved.extend(save_retried_screenshots(out_dir))
    from scripts.shots.digest import save_digest_screenshot

    saved.extend(save_digest_screenshot(out_dir))
    if editor:
        from scripts.shots.editor import save_editor_screenshots

        saved.extend(save_editor_screenshots(out_dir))
    return saved


def _grab(window: object, path: Path) -> Path:
    window.grab().save(str(path))  # type: ignore[attr-defined]
    return path
