"""Databases written before the wall-clock cron trigger: their rows still load, and start-up moves
cron rows to `WallClockCronTrigger` keeping the stored next run time (NOTES 9), so a run
missed while Jobdesk was closed still happens and a planned one is not moved.

tests/jobs/data/legacy_trigger_rows.json holds APScheduler rows written by the code of that time
(commit in its "about"): `jobs.triggers.GapSafeCronTrigger`, alone and two in an `OrTrigger`,
and `jobs.triggers.WallClockIntervalTrigger`.
"""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from apscheduler.triggers.combining import OrTrigger
from sqlalchemy import text

from jobs.codec import job_from_dict
from jobs.history import HistoryQuery
from jobs.interval_trigger import WallClockIntervalTrigger
from jobs.service import APS_TABLE, JobService
from jobs.triggers import GapSafeCronTrigger, WallClockCronTrigger, next_fire_times

LEGACY = json.loads((Path(__file__).parent / "data" / "legacy_trigger_rows.json").read_text())
UTC = timezone.utc


def legacy_state(job_id: str) -> dict[str, Any]:
    row = next(row for row in LEGACY["rows"] if row["id"] == job_id)
    state: dict[str, Any] = pickle.loads(bytes.fromhex(row["job_state"]))
    return state


def test_old_rows_load_with_their_old_classes() -> None:
    either = legacy_state("legacyor01")["trigger"]
    assert isinstance(either, OrTrigger) and all(type(t) is GapSafeCronTrigger for t in either.triggers)
    assert type(legacy_state("legacyberl")["trigger"]) is GapSafeCronTrigger
    assert type(legacy_state("legacydays")["trigger"]) is WallClockIntervalTrigger
    for row in LEGACY["rows"]:
        assert b"jobs.triggers" in bytes.fromhex(row["job_state"]) or row["id"] == "legacymins"


def _write_legacy_rows(service: JobService, next_runs: dict[str, datetime]) -> None:
    """Put the old rows back, with chosen next run times, as an older Jobdesk left them."""
    with service.engine.begin() as conn:
        for row in LEGACY["rows"]:
            state = legacy_state(row["id"])
            state["next_run_time"] = next_runs[row["id"]]
            blob = pickle.dumps(state, pickle.HIGHEST_PROTOCOL)
            if row["id"] in ("legacyor01", "legacyberl"):  # re-pickled by today's code: the old class
                assert b"jobs.triggers" in blob and b"GapSafeCronTrigger" in blob
            conn.execute(
                text(f"UPDATE {APS_TABLE} SET next_run_time = :t, job_state = :s WHERE id = :id"),
                {"t": next_runs[row["id"]].timestamp(), "s": blob, "id": row["id"]},
            )


def test_start_up_migrates_cron_rows_and_keeps_their_next_run(data_dir, qapp, qtbot) -> None:
    specs = [job_from_dict(data) for data in LEGACY["definitions"]]
    by_id = {spec.id: spec for spec in specs}
    now = datetime.now(UTC)
    # either-day job: its second next fire, which a recomputation from now would not give
    kept = next_fire_times(by_id["legacyor01"].trigger, 2, after=now)[1].astimezone(UTC)
    # the Berlin job: its last fire before now, missed while closed
    missed = next_fire_times(by_id["legacyberl"].trigger, 3, after=now - timedelta(days=2))
    missed_at = max(t for t in missed if t < now).astimezone(UTC)
    days_next = next_fire_times(by_id["legacydays"].trigger, 1, after=now)[0].astimezone(UTC)
    mins_next = next_fire_times(by_id["legacymins"].trigger, 1, after=now)[0].astimezone(UTC)
    first = JobService(data_dir)
    first.start()
    first.import_jobs(specs)
    first.shutdown()
    old = JobService(data_dir)
    _write_legacy_rows(old, {"legacyor01": kept, "legacyberl": missed_at, "legacydays": days_next, "legacymins": mins_next})
    old.engine.dispose()

    second = JobService(data_dir)
    second.start()
    try:
        triggers = {job.id: job.trigger for job in second.scheduler.get_jobs()}
        assert type(triggers["legacyor01"]) is WallClockCronTrigger
        assert type(triggers["legacyberl"]) is WallClockCronTrigger
        assert type(triggers["legacydays"]) is WallClockIntervalTrigger  # not a cron row: left alone
        next_runs = second.next_run_times()
        assert next_runs["legacyor01"] == kept
        assert next_runs["legacydays"] == days_next and next_runs["legacymins"] == mins_next
        # the run missed while closed is planned (one catch-up run), then the next future fire
        assert next_runs["legacyberl"] > datetime.now(UTC)
        qtbot.waitUntil(lambda: second.history.count(HistoryQuery(job_id="legacyberl")) == 1, timeout=5000)
        runs = second.query_history(HistoryQuery(job_id="legacyberl"))
        assert [run.scheduled_at for run in runs] == [missed_at]
        assert second.wait_for_run(runs[0].id, 20) is not None
    finally:
        second.shutdown()

    third = JobService(data_dir)  # the migrated rows load as they are
    third.start()
    try:
        assert third.next_run_times()["legacyor01"] == kept
        assert all(type(job.trigger) is not GapSafeCronTrigger for job in third.scheduler.get_jobs())
    finally:
        third.shutdown()
