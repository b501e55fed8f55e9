"""A job without a working folder runs in its script's folder, else in the home folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jobs.model import CronSpec, JobSpec, RunCause
from jobs.service import JobService
from jobs.workdir import default_cwd, script_path

PRINT_CWD = "import os; print(os.getcwd())"


def run_and_read(service: JobService, spec: JobSpec) -> tuple[str, str | None]:
    saved = service.add_job(spec)
    run_id = service.dispatcher.submit(saved, RunCause.MANUAL)
    record = service.wait_for_run(run_id, timeout=30)
    assert record is not None and record.log_path is not None, record
    return record.log_path.read_text().strip(), record.cwd


def test_a_script_runs_in_its_own_folder_and_the_run_records_it(data_dir, tmp_path, monkeypatch):
    scripts = tmp_path / "reports"
    scripts.mkdir()
    script = scripts / "where.py"
    script.write_text(PRINT_CWD + "\n")
    monkeypatch.chdir(tmp_path)  # Jobdesk started elsewhere: that folder must not leak into the job
    service = JobService(data_dir)
    try:
        printed, recorded = run_and_read(
            service, JobSpec(name="where", command=(sys.executable, str(script)), trigger=CronSpec("0 3 * * *", "UTC"))
        )
    finally:
        service.shutdown()
    assert printed == str(scripts) == recorded


def test_a_command_without_a_script_runs_in_the_home_folder(data_dir, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    service = JobService(data_dir)
    try:
        printed, recorded = run_and_read(
            service, JobSpec(name="inline", command=(sys.executable, "-c", PRINT_CWD), trigger=CronSpec("0 3 * * *", "UTC"))
        )
    finally:
        service.shutdown()
    assert printed == str(home) == recorded


def test_script_detection(tmp_path):
    script = tmp_path / "fit.R"
    script.write_text("1\n")
    assert script_path(("Rscript", str(script)), False) == script
    assert script_path(("Rscript", "fit.R"), False) is None  # relative, no base folder
    assert script_path(("Rscript", "fit.R"), False, base=tmp_path) == script
    assert script_path((f"Rscript '{script}' --fast",), True) == script
    assert script_path(("echo 'unbalanced",), True) is None
    runner = tmp_path / "run.sh"
    runner.write_text("#!/bin/sh\necho hi\n")
    assert default_cwd((str(runner),), False) == str(tmp_path)
    assert script_path((sys.executable, "-c", "pass"), False) is None  # a binary program is no script
    assert default_cwd(("python3", "-m", "report"), False) == os.path.expanduser("~")
    assert Path(default_cwd(("python3", "-c", "pass"), False)) == Path.home()
