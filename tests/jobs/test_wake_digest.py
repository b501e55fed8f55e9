"""The wake-up digest: runs missed while Jobdesk was closed or the computer slept, offered once per job.

Real SQLite files, real `jobdesk` processes, real time passing: a job every 2 seconds misses its
slots while the service is closed for a few seconds. Sleep is driven two ways: logind's signal on
a private D-Bus bus is tested with the window (tests/desktop/test_digest_card.py); here the clock
watchdog sees a real pause of the event loop as a suspend, its monotonic clock held back by the
pause's length (the one injected piece: a test cannot suspend the machine).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from jobs import digest_store as store
from jobs.db import open_database
from jobs.history import HistoryQuery
from jobs.model import CronSpec, IntervalSpec, JobSpec, RunCause, RunStatus
from jobs.service import JobService
from tests.conftest import py
from tests.jobs.serve_process import history, jobdesk, start_serve, stop

# Every 2 seconds from a whole second: slots at anchor + 2k. `close_for` gives each such job a
# start and an end so that all its slots fall while Jobdesk is closed: none runs before the close
# or after the reopen, however slow the machine (a test sees exactly the slots it planned).
ANCHOR = datetime.now(timezone.utc).replace(microsecond=0)
EVERY_2S = IntervalSpec(2, "seconds", "UTC", start=ANCHOR)
LEAD = 3.0  # seconds from adding the jobs to their first slot: the first session has closed by then
SLOTS = 3  # slots per job while closed


def job(name: str, **kw) -> JobSpec:
    return JobSpec(name=name, command=py("pass"), trigger=EVERY_2S, **kw)


def close_for(data_dir, qapp, qtbot, *specs: JobSpec, slots: int = SLOTS) -> dict[str, str]:
    """Add `specs` to a started service and close it; every 2-second job gets exactly `slots`
    slots, all after the close, and this returns 1 s after the last one (past a 0.5 s grace,
    with no slot left to come). Returns the job ids by name; the data directory is left closed."""
    first = JobService(data_dir)
    first.start()
    start = datetime.fromtimestamp(int(time.time() + LEAD) + 1, timezone.utc)
    end = start + timedelta(seconds=2 * (slots - 1))
    window = IntervalSpec(2, "seconds", "UTC", start=start, end=end)
    timed = [replace(spec, trigger=window) if spec.trigger == EVERY_2S else spec for spec in specs]
    ids = {spec.name: first.add_job(spec).id for spec in timed}
    qtbot.wait(300)
    first.shutdown()
    assert time.time() < start.timestamp(), f"the first session took over {LEAD:.0f} s to add {len(specs)} jobs and close"
    if any(spec.trigger is window for spec in timed):
        time.sleep(max(0.0, end.timestamp() + 1.0 - time.time()))
    return ids


def missed_rows(service: JobService, job_id: str, digest: store.Digest) -> list:
    """The job's missed rows with a slot in the digest's stretch (a job that keeps running after a
    sleep may miss a later slot on a loaded machine: that one is no part of it)."""
    return [r for r in service.query_history(HistoryQuery(job_id=job_id, limit=500))
            if r.status is RunStatus.MISSED and digest.since <= r.scheduled_at <= digest.until]


def test_runs_missed_while_closed_become_one_digest_with_the_right_counts(data_dir, qapp, qtbot):
    ids = close_for(data_dir, qapp, qtbot, job("strict", misfire_grace=0.5, coalesce=False), job("collapsing"))
    second = JobService(data_dir)
    second.start()
    try:
        # The catch-up run's row is written as its process starts, just after the start-up
        qtbot.waitUntil(lambda: any(r.status is not RunStatus.MISSED for r in
                                    second.query_history(HistoryQuery(job_id=ids["collapsing"]))), timeout=10000)
        digest = store.read_open(second.engine)
        assert digest is not None and digest.kind == store.CLOSED
        strict, collapsing = digest.entry(ids["strict"]), digest.entry(ids["collapsing"])
        # Every slot of the strict job is missed (grace 0.5 s); the collapsing job's policy ran the
        # latest slot as a catch-up at once and left the earlier ones missed.
        assert strict is not None and strict.count == len(missed_rows(second, ids["strict"], digest)) == SLOTS
        assert strict.can_run_latest and strict.ran_later is None
        assert collapsing is not None and collapsing.count == len(missed_rows(second, ids["collapsing"], digest)) == SLOTS - 1
        # (under 30 s late it counts as a scheduled run, not a catch-up)
        ran = second.get_run(collapsing.ran_later) if collapsing.ran_later is not None else None
        assert ran is not None and ran.status is not RunStatus.MISSED and not collapsing.can_run_latest
        assert collapsing.last() < ran.scheduled_at <= digest.until
        assert digest.count == strict.count + collapsing.count
        assert digest.away >= 5.0
        assert digest.headline().startswith(f"While Jobdesk was closed ({store.away_words(digest.away)}): "
                                            f"{digest.count} runs of 2 jobs were missed")  # fmt: skip
    finally:
        second.shutdown()


def test_choices_through_the_command_line_are_recorded_and_never_run_a_slot_twice(data_dir, qapp, qtbot):
    ids = close_for(data_dir, qapp, qtbot, job("strict", misfire_grace=0.5, coalesce=False), job("collapsing"),
                    job("latest only", misfire_grace=0.5))  # fmt: skip
    second = JobService(data_dir)
    second.start()  # builds the digest, then closes: the command line acts on the store itself
    qtbot.waitUntil(lambda: not second.active_runs(), timeout=10000)
    second.shutdown()

    listed = jobdesk(data_dir, "missed", "--json")
    assert listed.returncode == 0, listed.stderr
    digest = json.loads(listed.stdout)["digest"]
    jobs = {j["job_name"]: j for j in digest["jobs"]}
    assert set(jobs) == {"strict", "collapsing", "latest only"}
    assert (jobs["strict"]["missed"], jobs["collapsing"]["missed"], jobs["latest only"]["missed"]) == (SLOTS, SLOTS - 1, SLOTS)
    assert jobs["collapsing"]["choices"] == ["run-all", "skip"]  # its latest slot already ran
    assert jobs["strict"]["choices"] == ["run-latest", "run-all", "skip"]
    assert digest["missed"] == sum(j["missed"] for j in jobs.values())
    text_listing = jobdesk(data_dir, "missed")
    assert digest["headline"] in text_listing.stdout and "strict" in text_listing.stdout

    refused = jobdesk(data_dir, "missed", "run-latest", "collapsing")
    assert refused.returncode == 2 and "a later slot already ran as run #" in refused.stderr
    ran = jobdesk(data_dir, "missed", "run-all", "strict", "--json")
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)
    assert len(answer["run_ids"]) == jobs["strict"]["missed"] and answer["left_missed"] == 0
    latest = jobdesk(data_dir, "missed", "run-latest", "latest only")
    assert latest.returncode == 0 and "1 missed run ran here" in latest.stdout, latest.stdout + latest.stderr
    skipped = jobdesk(data_dir, "missed", "skip", "collapsing")
    assert skipped.returncode == 0 and "stay missed" in skipped.stdout
    again = jobdesk(data_dir, "missed", "run-all", "strict")
    assert again.returncode == 2 and "no missed runs" in again.stderr
    assert jobdesk(data_dir, "missed").stdout.strip() == "No missed runs wait for a choice."

    runs = history(data_dir, "--limit", "500")
    strict_runs = [r for r in runs if r["job_id"] == ids["strict"]]
    started = [r for r in strict_runs if r["status"] != "missed"]
    assert sorted(r["id"] for r in started) == sorted(answer["run_ids"])
    assert all(r["status"] == "succeeded" and r["cause"] == "catch-up" for r in started)
    assert all("run from the wake-up digest as run #" in r["error"] for r in strict_runs if r["status"] == "missed")
    in_digest = [r for r in strict_runs if r["status"] == "missed" or r["id"] in answer["run_ids"]]
    assert {(r["digest"]["id"], r["digest"]["choice"]) for r in in_digest} == {(digest["id"], "run-all")}
    # No slot runs twice: per job, each slot has at most one run that is not a missed row
    slots = Counter((r["job_id"], r["scheduled_at"]) for r in runs if r["status"] not in ("missed", "skipped"))
    assert max(slots.values()) == 1
    assert all("skipped in the wake-up digest" in r["error"] for r in runs
               if r["job_id"] == ids["collapsing"] and r["status"] == "missed")  # fmt: skip
    one = [r for r in runs if r["job_id"] == ids["latest only"]]
    assert sum(r["status"] == "succeeded" for r in one) == 1
    assert all("only the latest missed run was run" in r["error"] for r in one
               if r["status"] == "missed" and "as run #" not in r["error"])  # fmt: skip


def test_serve_builds_the_digest_and_runs_the_choice(data_dir, qapp, qtbot):
    ids = close_for(data_dir, qapp, qtbot, job("nightly", misfire_grace=0.5))
    proc = start_serve(data_dir)
    try:
        listed = json.loads(jobdesk(data_dir, "missed", "--json").stdout)["digest"]
        assert listed is not None and listed["jobs"][0]["job_id"] == ids["nightly"]
        chose = jobdesk(data_dir, "missed", "run-latest", "nightly")
        assert chose.returncode == 0 and "started in the running Jobdesk" in chose.stdout, chose.stdout + chose.stderr
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            done = [r for r in history(data_dir, "--job", "nightly", "--limit", "200") if r["cause"] == "catch-up"]
            if done and done[0]["status"] == "succeeded":
                break
            time.sleep(0.2)
        assert done and done[0]["scheduled_at"] == listed["jobs"][0]["last"]
    finally:
        stop(proc)
    engine = open_database(data_dir.database)
    with engine.connect() as conn:
        marked = conn.execute(text("SELECT digest_id, digest_choice FROM runs WHERE id = :id"), {"id": done[0]["id"]}).one()
    engine.dispose()
    assert tuple(marked) == (listed["id"], "run-latest")


def test_a_suspend_seen_by_the_clock_watchdog_opens_an_asleep_digest(data_dir, qapp, qtbot):
    service = JobService(data_dir, watchdog_interval=0.5)
    service.start()
    try:
        saved = service.add_job(job("frequent", misfire_grace=0.5, coalesce=False))
        qtbot.waitUntil(lambda: service.history.count(HistoryQuery(job_id=saved.id)) >= 1, timeout=5000)
        asleep = 7.0  # past the watchdog's 5 s tolerance
        monotonic = service.watchdog.monotonic
        # The event loop stops for 7 s (as it does while the computer sleeps) and the monotonic
        # clock, which Linux stops during suspend, is held back by as much.
        service.watchdog.monotonic = lambda: monotonic() - asleep
        time.sleep(asleep)
        qtbot.waitUntil(lambda: store.read_open(service.engine) is not None, timeout=5000)
        digest = store.read_open(service.engine)
        assert digest.kind == store.ASLEEP and digest.headline().startswith("While the computer was asleep (")
        entry = digest.entry(saved.id)
        assert entry.count == len(missed_rows(service, saved.id, digest)) >= 2
        assert all(digest.since <= slot.scheduled_at <= digest.until for slot in entry.slots)
    finally:
        service.shutdown()


def test_nothing_missed_means_no_digest(data_dir, qapp, qtbot):
    close_for(data_dir, qapp, qtbot, JobSpec(name="yearly", command=py("pass"), trigger=CronSpec("0 0 1 1 *", "UTC")))
    second = JobService(data_dir)
    second.start()
    try:
        assert store.read_open(second.engine) is None
    finally:
        second.shutdown()


def test_away_words():
    assert store.away_words(3 * 3600 + 12 * 60 + 5) == "3 h 12 min"
    assert store.away_words(2 * 86400 + 4 * 3600) == "2 days 4 h"
    assert store.away_words(45) == "45 s"


@pytest.mark.parametrize("reason, count", [("missed 1,234 runs from 2026-11-01T00:00 to 2026-12-01T00:00", 1234),
                                           ("missed 80 or more runs from 2026-11-01T00:00 to x", 80),
                                           ("missed by 3h (grace 30m)", None)])  # fmt: skip
def test_summary_rows_say_how_many_slots_they_stand_for(reason, count):
    from jobs.misfire import summarised_count

    assert summarised_count(reason) == count


def test_a_schema_4_file_gains_the_digest_columns_and_table_and_keeps_its_runs(data_dir):
    import sqlite3

    from jobs.db import SCHEMA_VERSION
    from jobs.history import HistoryRepository
    from jobs.paths import ensure_private_dir

    ensure_private_dir(data_dir.root)
    open_database(data_dir.database).dispose()
    conn = sqlite3.connect(data_dir.database)
    conn.execute("DROP INDEX ix_runs_digest_id")
    conn.execute("ALTER TABLE runs DROP COLUMN digest_id")
    conn.execute("ALTER TABLE runs DROP COLUMN digest_choice")
    conn.execute("DROP TABLE wake_digests")
    conn.execute("UPDATE jobdesk_meta SET value = '4' WHERE key = 'schema_version'")
    conn.execute("INSERT INTO runs (job_id, job_name, cause, status, scheduled_at, queued_at, output_bytes, truncated, "
                 "command, shell, env, error) VALUES ('a', 'Old', 'scheduled', 'missed', 1.0, 1.0, 0, 0, '[]', 0, '{}', "
                 "'missed by 3h (grace 30m)')")  # fmt: skip
    conn.commit()
    conn.close()

    engine = open_database(data_dir.database)
    try:
        [old] = HistoryRepository(engine).query()
        assert (old.job_name, old.status, old.error) == ("Old", RunStatus.MISSED, "missed by 3h (grace 30m)")
        with engine.connect() as conn2:
            assert conn2.execute(text("SELECT digest_id, digest_choice FROM runs")).one() == (None, None)
            assert conn2.execute(text("SELECT value FROM jobdesk_meta WHERE key='schema_version'")).scalar() == str(SCHEMA_VERSION)
            assert conn2.execute(text("SELECT COUNT(*) FROM wake_digests")).scalar() == 0
        assert store.read_open(engine) is None  # an old missed row joins no digest
    finally:
        engine.dispose()


def test_two_choices_at_once_for_one_job_make_one_and_a_removed_job_settles_the_digest(data_dir, qapp, qtbot):
    import threading

    from jobs.digest_choice import DigestChoiceError, choose

    ids = close_for(data_dir, qapp, qtbot, job("a", misfire_grace=0.5), job("b", misfire_grace=0.5))
    second = JobService(data_dir)
    second.start()
    second.shutdown()
    service = JobService(data_dir)  # the store alone, as the command line has it
    try:
        outcomes: list[object] = []
        barrier = threading.Barrier(2)

        def pick() -> None:
            barrier.wait()
            try:
                outcomes.append(choose(service, ids["a"], "run-all"))
            except DigestChoiceError as exc:
                outcomes.append(exc)

        threads = [threading.Thread(target=pick) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        made = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(made) == 1 and len(outcomes) == 2
        ran = [r for r in service.query_history(HistoryQuery(job_id=ids["a"], limit=100)) if r.status is RunStatus.SUCCEEDED]
        assert len(ran) == len(made[0].slots)  # each slot once
        assert store.read_open(service.engine).entry(ids["b"]) is not None
        service.remove_job(ids["b"])
        assert store.read_open(service.engine) is None  # nothing left to choose: settled
    finally:
        service.shutdown()


def test_quitting_while_run_all_goes_on_offers_the_slots_not_run_again(data_dir, qapp, qtbot):
    from jobs.digest_choice import choose

    slow = JobSpec(name="slow", command=py("import time; time.sleep(2)"), trigger=EVERY_2S, misfire_grace=0.5)
    ids = close_for(data_dir, qapp, qtbot, slow)
    second = JobService(data_dir)
    second.start()
    entry = store.read_open(second.engine).entry(ids["slow"])  # no slot of its own is left to run
    assert entry is not None and entry.count == SLOTS
    result = choose(second, ids["slow"], "run-all")
    assert len(result.slots) == entry.count and result.run_ids == ()  # an instance: they go on its thread
    qtbot.waitUntil(lambda: any(r.status is RunStatus.RUNNING for r in second.active_runs()), timeout=10000)
    second.shutdown()  # quit during the first of them
    engine = open_database(data_dir.database)
    claimed = ", ".join(str(slot.run_id) for slot in entry.slots)

    def reasons() -> list[str]:
        with engine.connect() as conn:
            return [row.error or "" for row in conn.execute(text(f"SELECT error FROM runs WHERE id IN ({claimed})"))]

    # The choice's thread goes on after the quit and hands the slots back one by one: wait until
    # it has said of each slot what became of it, not just of the first one it handed back.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not all("as run #" in r or "offered again" in r for r in reasons()):
        time.sleep(0.1)
    left = store.read_open(engine)
    rows = engine.connect().execute(text("SELECT id, status, cause, digest_choice, error FROM runs")).all()
    engine.dispose()
    assert left is not None, rows
    offered = left.entry(ids["slow"])
    assert offered is not None and offered.count == entry.count - 1, rows  # all but the one that had started
    assert all("offered again" in slot.reason for slot in offered.slots)
