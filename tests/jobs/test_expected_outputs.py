"""Expected outputs through the command line, with real scripts in real processes (issue 13):
a run that exits 0 but does not write its file (or writes it empty, or leaves last week's) is
failed and says which file; a run that writes it lists it in `history --json`."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import tomllib
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jobs.model import CronSpec, JobSpec
from jobs.service import JobService
from tests.jobs.serve_process import history, jobdesk, start_serve, stop, wait_for

ZONE = "Pacific/Kiritimati"  # UTC+14: its date differs from UTC's for 14 hours a day


def script(folder: Path, body: str, name: str = "report.py") -> Path:
    path = folder / name
    path.write_text(f"import os, pathlib, sys\n{body}\n")
    return path


def add(data_dir, name: str, report: Path, *expect: str, extra: tuple[str, ...] = ()) -> None:
    options = [option for pattern in expect for option in ("--expect", pattern)]
    added = jobdesk(data_dir, "add", "--name", name, "--every", "1d", "--tz", ZONE, *options, *extra,
                    "--", sys.executable, str(report))  # fmt: skip
    assert added.returncode == 0, added.stderr


def today() -> str:
    return datetime.now(ZoneInfo(ZONE)).strftime("%Y-%m-%d")


def test_a_run_that_writes_its_file_succeeds_and_lists_it_with_its_environment(data_dir, tmp_path):
    report = script(tmp_path, "pathlib.Path(f'sales-{os.environ[\"DAY\"]}.pdf').write_bytes(b'%PDF' * 10)")
    add(data_dir, "sales", report, "sales-{date}.pdf", extra=("--env", f"DAY={today()}"))
    result = jobdesk(data_dir, "run", "sales", "--wait")
    assert result.returncode == 0, result.stdout + result.stderr
    [run] = history(data_dir)
    assert run["status"] == "succeeded"
    [output] = run["outputs"]
    assert output["path"] == str(tmp_path / f"sales-{today()}.pdf") and output["bytes"] == 40
    assert datetime.fromisoformat(output["modified"]) >= datetime.fromisoformat(run["started_at"]) - timedelta(seconds=1)
    environment = run["environment"]
    assert environment["executable"] == shutil.which(sys.executable) == sys.executable
    [named] = environment["scripts"]
    assert named["path"] == str(report) and named["bytes"] == report.stat().st_size
    assert len(named["sha256"]) == 64 and named["hashed_bytes"] == named["bytes"]
    assert environment["cwd"] == str(tmp_path) and environment["env"] == {"DAY": today()}
    assert environment["version"] and environment["host"]


def test_a_run_that_forgets_its_file_fails_naming_it(data_dir, tmp_path):
    add(data_dir, "forgets", script(tmp_path, "print('done')"), "sales-{scheduled:%Y-%m-%d}.pdf")
    result = jobdesk(data_dir, "run", "forgets", "--wait")
    assert result.returncode == 1
    assert result.stdout.endswith(f", exit code 0: expected output not written: sales-{today()}.pdf\n"), result.stdout
    [run] = history(data_dir)
    assert run["status"] == "failed" and run["exit_code"] == 0
    assert run["error"] == f"expected output not written: sales-{today()}.pdf"
    assert run["outputs"] == []


def test_an_empty_file_and_last_weeks_file_fail_saying_so(data_dir, tmp_path):
    add(data_dir, "empty", script(tmp_path, "open('empty.csv', 'w').close()", "empty.py"), "empty.csv")
    stale = tmp_path / "stale.csv"
    stale.write_text("last week's numbers\n")
    week_ago = time.time() - 7 * 86400
    os.utime(stale, (week_ago, week_ago))
    add(data_dir, "stale", script(tmp_path, "print('forgot to write')", "stale.py"), str(stale))
    assert jobdesk(data_dir, "run", "empty", "--wait").returncode == 1
    assert jobdesk(data_dir, "run", "stale", "--wait").returncode == 1
    errors = {run["job_name"]: run["error"] for run in history(data_dir)}
    assert errors == {"empty": "expected output empty.csv is empty",
                      "stale": f"expected output {stale} was not modified by this run"}


def test_a_glob_needs_one_fresh_match_and_lists_every_match(data_dir, tmp_path):
    body = "os.makedirs('out', exist_ok=True)\nfor region in ('north', 'south'):\n    open(f'out/{region}.csv', 'w').write('x')"
    add(data_dir, "regions", script(tmp_path, body), "out/*.csv")
    assert jobdesk(data_dir, "run", "regions", "--wait").returncode == 0
    add(data_dir, "nothing", script(tmp_path, "pass", "nothing.py"), "missing/*.csv")
    assert jobdesk(data_dir, "run", "nothing", "--wait").returncode == 1
    runs = {run["job_name"]: run for run in history(data_dir)}
    assert [o["path"] for o in runs["regions"]["outputs"]] == [str(tmp_path / "out/north.csv"),
                                                             str(tmp_path / "out/south.csv")]
    assert runs["nothing"]["error"] == "expected output not written: missing/*.csv"


def test_a_bad_placeholder_is_refused_naming_it(data_dir, tmp_path):
    result = jobdesk(data_dir, "add", "--name", "bad", "--every", "1d", "--expect", "sales-{dat}.pdf", "--", "true")
    assert result.returncode == 2
    assert result.stderr.startswith("jobdesk add: --expect: 'sales-{dat}.pdf': unknown placeholder {dat}"), result.stderr
    assert "{scheduled:%Y-%m-%d}" in result.stderr
    assert jobdesk(data_dir, "list", "--json").stdout.strip() in ("[]", "")


def test_expect_survives_export_and_import(data_dir, tmp_path):
    add(data_dir, "sales", script(tmp_path, "pass"), "sales-{date}.pdf", "out/*.csv")
    exported = tmp_path / "jobs.toml"
    assert jobdesk(data_dir, "export", str(exported)).returncode == 0
    assert tomllib.loads(exported.read_text())["job"][0]["expect"] == ["sales-{date}.pdf", "out/*.csv"]
    exported.write_text(exported.read_text().replace("sales-{date}", "sales-{when}"))
    result = jobdesk(data_dir, "import", str(exported))
    assert result.returncode == 2 and "unknown placeholder {when}" in result.stderr, result.stderr


def test_a_caught_up_run_fills_placeholders_from_its_slot_not_from_today(data_dir, tmp_path, qapp):
    first = JobService(data_dir)
    first.start()
    hour = (datetime.now(ZoneInfo(ZONE)).hour + 12) % 24
    report = script(tmp_path, "print('no file')")
    job = first.add_job(JobSpec(name="daily", command=(sys.executable, str(report)), coalesce=False,
                                trigger=CronSpec(f"0 {hour} * * *", ZONE), expect=("sales-{scheduled:%Y-%m-%d}.pdf",)))
    first.scheduler.pause()  # as if Jobdesk had been closed for three days
    stored = first.scheduler.get_job(job.id)
    first.scheduler.modify_job(job.id, next_run_time=stored.next_run_time - timedelta(days=3))
    first.shutdown()

    served = start_serve(data_dir)
    try:
        runs = wait_for(lambda: [r for r in history(data_dir) if r["cause"] == "catch-up" and r["status"] == "failed"]
                        if len(history(data_dir)) >= 3 else None)  # fmt: skip
    finally:
        stop(served)
    for run in runs:
        slot = datetime.fromisoformat(run["scheduled_at"]).astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d")
        assert run["error"] == f"expected output not written: sales-{slot}.pdf"
    assert {datetime.fromisoformat(r["scheduled_at"]).astimezone(ZoneInfo(ZONE)).date() for r in runs} != {
        datetime.now(ZoneInfo(ZONE)).date()}


def test_why_names_the_script_edited_between_a_success_and_a_failure(data_dir, tmp_path):
    report = script(tmp_path, "print('fine')")
    add(data_dir, "report", report)
    first = jobdesk(data_dir, "why", "1")
    assert first.returncode == 2 and "no run #1" in first.stderr
    assert jobdesk(data_dir, "run", "report", "--wait").returncode == 0
    time.sleep(0.05)
    report.write_text("raise SystemExit('broken')\n")
    assert jobdesk(data_dir, "run", "report", "--wait").returncode == 1
    edited = datetime.fromtimestamp(report.stat().st_mtime).strftime("%H:%M")

    why = jobdesk(data_dir, "why", "2")
    assert why.returncode == 0, why.stderr
    assert why.stdout.splitlines()[1:] == ["Changed since the last success (run #1):",
                                           f"  • script report.py modified at {edited} (sha256 changed)"]
    as_json = json.loads(jobdesk(data_dir, "why", "2", "--json").stdout)
    assert as_json["last_success"] == 1 and as_json["changes"] == [f"script report.py modified at {edited} (sha256 changed)"]
    assert as_json["run"]["environment"]["scripts"][0]["sha256"] != history(data_dir)[1]["environment"]["scripts"][0]["sha256"]


def test_why_after_an_unchanged_failure_and_with_no_earlier_success(data_dir, tmp_path):
    flaky = tmp_path / "flaky.py"
    flaky.write_text("import os, sys\nsys.exit(0 if os.path.exists('ok') else 1)\n")
    add(data_dir, "flaky", flaky)
    assert jobdesk(data_dir, "run", "flaky", "--wait").returncode == 1
    assert "no earlier success" in jobdesk(data_dir, "why", "1").stdout
    (tmp_path / "ok").touch()
    assert jobdesk(data_dir, "run", "flaky", "--wait").returncode == 0
    (tmp_path / "ok").unlink()
    assert jobdesk(data_dir, "run", "flaky", "--wait").returncode == 1
    assert jobdesk(data_dir, "why", "3").stdout.splitlines()[-1] == (
        "Changed since the last success (run #2): nothing recorded changed.")


def test_why_names_changed_variables_and_interpreter_without_their_values(data_dir, tmp_path):
    report = script(tmp_path, "sys.exit(0 if os.environ['REGION'] == 'north' else 1)")
    add(data_dir, "report", report, extra=("--env", "REGION=north"))
    assert jobdesk(data_dir, "run", "report", "--wait").returncode == 0
    exported = tmp_path / "jobs.toml"
    assert jobdesk(data_dir, "export", str(exported)).returncode == 0
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    (venv / "python").symlink_to(sys.executable)
    text = exported.read_text().replace('REGION = "north"', 'REGION = "south-secret"').replace(sys.executable, str(venv / "python"))
    exported.write_text(text)
    assert jobdesk(data_dir, "import", str(exported)).returncode == 0
    assert jobdesk(data_dir, "run", "report", "--wait").returncode == 1
    why = jobdesk(data_dir, "why", "2").stdout
    assert "variable REGION changed" in why and "command changed" not in why  # the program is said once
    assert f"interpreter {sys.executable} → {venv / 'python'}" in why
    assert "south-secret" not in why
