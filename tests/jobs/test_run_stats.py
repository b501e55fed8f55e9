"""Usual durations (median, p95), the strip's recent runs, and longer/shorter than usual:
over real SQLite rows written through the history repository and real runs of a JobService."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from jobs.codec import JobValidationError, job_from_dict, job_to_dict
from jobs.db import SCHEMA_VERSION, open_database
from jobs.history import HistoryQuery, HistoryRepository
from jobs.model import CronSpec, JobSpec, RunCause, RunOutcome, RunStatus
from jobs.paths import ensure_private_dir
from jobs.records_json import run_json
from jobs.run_stats import duration_stats, eta, long_after, much_shorter, recent_runs
from tests.conftest import py
from tests.jobs.test_cli_subprocess import jobdesk

YEARLY = CronSpec("0 0 1 1 *", "UTC")


def spec(job_id: str = "a", **kw) -> JobSpec:
    return JobSpec(id=job_id, name=f"Job {job_id}", command=("true",), trigger=YEARLY, **kw)


def seed(history: HistoryRepository, job: JobSpec, durations: list[float],
         status: RunStatus = RunStatus.SUCCEEDED) -> list[int]:  # fmt: skip
    """Finished runs of `job`, one an hour back from now, each `durations[i]` long."""
    ids = []
    start = datetime.now(timezone.utc) - timedelta(hours=len(durations) + 1)
    for index, seconds in enumerate(durations):
        began = start + timedelta(hours=index)
        run_id = history.create(job, RunCause.SCHEDULED, RunStatus.QUEUED, scheduled_at=began)
        history.mark_started(run_id, began, None)
        history.finish(run_id, RunOutcome(status, 0 if status is RunStatus.SUCCEEDED else 1, began,
                                          began + timedelta(seconds=seconds)))  # fmt: skip
        ids.append(run_id)
    return ids


@pytest.fixture
def store(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    yield engine, HistoryRepository(engine)
    engine.dispose()


def test_median_and_p95_come_from_the_newest_50_successes_only(store):
    engine, history = store
    a, b = spec("a"), spec("b")
    seed(history, a, [1000.0] * 30)  # older than the newest 50: must not count
    seed(history, a, [float(s) for s in range(1, 51)])
    seed(history, a, [5000.0] * 5, RunStatus.FAILED)  # failures never count
    history.create(a, RunCause.SCHEDULED, RunStatus.MISSED, error="missed")
    seed(history, b, [10.0, 20.0])
    stats = duration_stats(engine, ["a", "b", "c"])
    assert stats["a"].runs == 50 and stats["a"].median == pytest.approx(25.5) and stats["a"].p95 == pytest.approx(48)
    assert stats["b"].runs == 2 and stats["b"].median == pytest.approx(15) and stats["b"].p95 == pytest.approx(20)
    assert "c" not in stats  # no successful run: no usual duration


def test_stats_before_a_run_leave_that_run_and_later_ones_out(store):
    engine, history = store
    ids = seed(history, spec(), [10.0, 10.0, 10.0, 100.0])
    assert duration_stats(engine, ["a"], before_id=ids[-1])["a"].p95 == pytest.approx(10)


def test_strip_has_the_newest_20_runs_that_ran_oldest_first(store):
    engine, history = store
    a = spec()
    seed(history, a, [float(s) for s in range(1, 21)])
    failed = seed(history, a, [7.0], RunStatus.FAILED)
    history.create(a, RunCause.SCHEDULED, RunStatus.SKIPPED, error="skipped")
    bars = recent_runs(engine, ["a"])["a"]
    assert len(bars) == 20
    assert [bar.duration for bar in bars[:-1]] == [float(s) for s in range(2, 21)]
    assert bars[-1].id == failed[0] and bars[-1].status is RunStatus.FAILED
    assert recent_runs(engine, ["nobody"]) == {}


def test_thresholds_longer_and_much_shorter():
    stats = {"median": 60.0, "p95": 100.0}
    from jobs.run_stats import DurationStats

    usual = DurationStats(stats["median"], stats["p95"], 20)
    assert long_after(spec(), usual) == 200.0  # max(100 x 2, 100 + 60)
    assert long_after(spec(slow_factor=1.2, slow_margin=30), usual) == 130.0
    assert long_after(spec(), DurationStats(60, 100, 2)) is None  # too few runs to say
    assert much_shorter(14.0, usual) and not much_shorter(15.0, usual)
    assert not much_shorter(1.0, DurationStats(60, 100, 9))  # needs 10 runs
    assert eta(usual, 15.0) == (45.0, 0.25) and eta(usual, 90.0) == (0.0, 1.0) and eta(None, 1.0) is None


def test_slow_settings_travel_in_toml_dicts_and_are_checked():
    job = spec(slow_factor=3.0, slow_margin=120.0)
    data = job_to_dict(job)
    assert data["slow_factor"] == 3.0 and data["slow_margin"] == 120.0
    assert job_from_dict(data) == job
    assert "slow_factor" not in job_to_dict(spec())  # defaults are not written
    with pytest.raises(JobValidationError) as caught:
        job_from_dict({**data, "slow_factor": 0.5, "slow_margin": "-1m"})
    assert caught.value.field == "slow_factor" and "between 1 and" in str(caught.value)
    with pytest.raises(JobValidationError, match="slow_margin"):
        job_from_dict({**data, "slow_margin": "soon"})


def test_show_json_and_text_give_the_usual_duration(data_dir):
    added = jobdesk(data_dir, "add", "--name", "Report", "--cron", "0 0 1 1 *", "--slow-factor", "3",
                    "--slow-margin", "2m", "--", "true")
    assert added.returncode == 0, added.stderr
    job_id = added.stdout.strip()
    empty = json.loads(jobdesk(data_dir, "show", "--json", "Report").stdout)
    assert empty["duration"] == {"median": None, "p95": None, "runs": 0}
    assert empty["definition"]["slow_factor"] == 3.0 and empty["definition"]["slow_margin"] == 120.0
    engine = open_database(data_dir.database)
    try:
        seed(HistoryRepository(engine), spec(job_id), [80.0] * 40 + [125.0] * 10)
    finally:
        engine.dispose()
    shown = json.loads(jobdesk(data_dir, "show", "--json", "Report").stdout)
    assert shown["duration"] == {"median": 80.0, "p95": 125.0, "runs": 50}
    words = jobdesk(data_dir, "show", "Report")
    assert "Usual duration: 1m 20s (p95 2m 5s, 50 runs)" in words.stdout, words.stdout


def test_bad_slow_options_are_refused_naming_the_option(data_dir):
    result = jobdesk(data_dir, "add", "--name", "X", "--cron", "0 0 1 1 *", "--slow-factor", "0", "--", "true")
    assert result.returncode == 2 and "--slow-factor" in result.stderr and "between 1 and" in result.stderr


# --- real runs ------------------------------------------------------------------------------------


def test_a_run_past_its_usual_time_is_marked_long_and_announced_once(service, qtbot):
    saved = service.add_job(JobSpec(name="Sleepy", command=py("import time; time.sleep(2.5)"), trigger=YEARLY,
                                    slow_factor=2.0, slow_margin=0.0))  # fmt: skip
    seed(service.history, saved, [0.3, 0.3, 0.3, 0.4])  # p95 0.4 s: longer than usual past 0.8 s
    announced = []
    service.events.run_slow.connect(announced.append)
    run_id = service.run_now(saved.id)
    qtbot.waitUntil(lambda: len(announced) == 1, timeout=5000)
    assert announced[0].id == run_id and announced[0].slow == "long"
    assert announced[0].status is RunStatus.RUNNING  # told while it still runs
    record = service.wait_for_run(run_id, timeout=20)
    assert record.status is RunStatus.SUCCEEDED and record.slow == "long"
    qtbot.wait(300)
    assert len(announced) == 1  # once, not again at the end
    as_json = run_json(service.history.query(HistoryQuery(job_id=saved.id, limit=1))[0])
    assert as_json["slow"] is True and as_json["slow_kind"] == "long"


def test_a_run_within_its_usual_time_is_not_marked(service, qtbot):
    saved = service.add_job(JobSpec(name="Usual", command=py("pass"), trigger=YEARLY))
    seed(service.history, saved, [0.2] * 5)  # p95 0.2 s: long only after 60.2 s
    announced = []
    service.events.run_slow.connect(announced.append)
    record = service.wait_for_run(service.run_now(saved.id), timeout=20)
    qtbot.wait(300)
    assert record.slow is None and announced == []
    assert run_json(record)["slow"] is False


def test_a_success_in_a_fraction_of_the_usual_time_is_marked_short(service, qtbot):
    saved = service.add_job(JobSpec(name="Quick", command=py("pass"), trigger=YEARLY))
    seed(service.history, saved, [600.0] * 12)  # usually ten minutes
    announced = []
    service.events.run_slow.connect(announced.append)
    run_id = service.run_now(saved.id)
    qtbot.waitUntil(lambda: len(announced) == 1, timeout=10000)
    assert announced[0].id == run_id and announced[0].slow == "short"
    assert service.history.get(run_id).slow == "short"


def test_schema_4_file_gains_the_slow_column_and_index_and_keeps_its_runs(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    ids = seed(HistoryRepository(engine), spec(), [5.0, 6.0])
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_runs_job_status_id"))
        conn.execute(text("ALTER TABLE runs DROP COLUMN slow"))
        conn.execute(text("UPDATE jobdesk_meta SET value = '4' WHERE key = 'schema_version'"))
    engine.dispose()
    engine = open_database(data_dir.database)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT value FROM jobdesk_meta WHERE key='schema_version'")).scalar() == str(SCHEMA_VERSION)
            indexes = {row[1] for row in conn.execute(text("PRAGMA index_list(runs)"))}
        assert "ix_runs_job_status_id" in indexes
        history = HistoryRepository(engine)
        assert [history.get(run_id).slow for run_id in ids] == [None, None]
        assert duration_stats(engine, ["a"])["a"].runs == 2
    finally:
        engine.dispose()


def test_slow_settings_are_exported_and_imported_as_toml(data_dir, tmp_path):
    added = jobdesk(data_dir, "add", "--name", "Report", "--every", "1h", "--slow-factor", "1.5",
                    "--slow-margin", "30s", "--", "true")
    assert added.returncode == 0, added.stderr
    exported = tmp_path / "jobs.toml"
    assert jobdesk(data_dir, "export", str(exported)).returncode == 0
    text_ = exported.read_text()
    assert "slow_factor = 1.5" in text_ and "slow_margin = 30.0" in text_
    other = data_dir.root.parent / "other"
    from jobs.paths import resolve_data_dir

    target = resolve_data_dir(other)
    assert jobdesk(target, "import", str(exported)).returncode == 0
    shown = json.loads(jobdesk(target, "show", "--json", "Report").stdout)
    assert shown["definition"]["slow_factor"] == 1.5 and shown["definition"]["slow_margin"] == 30.0
    bad = tmp_path / "bad.toml"
    bad.write_text(text_.replace("slow_factor = 1.5", "slow_factor = \"fast\""))
    refused = jobdesk(target, "import", str(bad))
    assert refused.returncode == 2 and "slow_factor" in refused.stderr


def test_serve_marks_a_run_longer_than_usual_once(data_dir):
    from tests.jobs.serve_process import history, start_serve, stop, wait_for

    added = jobdesk(data_dir, "add", "--name", "Sleepy", "--cron", "0 0 1 1 *", "--slow-factor", "1",
                    "--slow-margin", "0.5s", "--", *py("import time; time.sleep(3)"))  # fmt: skip
    assert added.returncode == 0, added.stderr
    engine = open_database(data_dir.database)
    try:
        seed(HistoryRepository(engine), spec(added.stdout.strip()), [0.2, 0.3, 0.3])  # long past 0.8 s
    finally:
        engine.dispose()
    serve = start_serve(data_dir)
    try:
        assert jobdesk(data_dir, "run", "Sleepy").returncode == 0
        running = wait_for(lambda: [r for r in history(data_dir, "--limit", "1") if r["slow"]], timeout=10)
        assert running[0]["status"] == "running" and running[0]["slow_kind"] == "long"
        wait_for(lambda: history(data_dir, "--limit", "1")[0]["status"] == "succeeded", timeout=20)
    finally:
        stop(serve)
    assert (data_dir.root / "jobdesk.log").read_text().count("of Sleepy is longer than usual") == 1  # told once


def test_edit_changes_the_longer_than_usual_rule_of_a_stored_job(data_dir):
    assert jobdesk(data_dir, "add", "--name", "Report", "--every", "1h", "--", "true").returncode == 0
    edited = jobdesk(data_dir, "edit", "Report", "--slow-factor", "4", "--slow-margin", "10m")
    assert edited.returncode == 0, edited.stderr
    shown = json.loads(jobdesk(data_dir, "show", "--json", "Report").stdout)["definition"]
    assert (shown["slow_factor"], shown["slow_margin"]) == (4.0, 600.0)
    refused = jobdesk(data_dir, "edit", "Report", "--slow-factor", "0.1")
    assert refused.returncode == 2 and "slow_factor" in refused.stderr and "between 1 and" in refused.stderr
    nothing = jobdesk(data_dir, "edit", "Report")
    assert nothing.returncode == 2 and "nothing to change" in nothing.stderr
