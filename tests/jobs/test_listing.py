"""`jobdesk list` reads plain stored rows without decoding them (jobs.stored_rows, issue 10): its
answer must stay the one made from fully decoded definitions, key for key and byte for byte."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from jobs.after_next import is_after, next_expected
from jobs.chains import finished_so_far
from jobs.control import execute, job_json
from jobs.list_local import list_here
from jobs.model import AfterSpec, CronSpec, DateSpec, IntervalSpec, JobSpec, Notify, Overlap, RunCause, RunStatus
from jobs.records_json import iso
from jobs.repository import StoredDefinition
from jobs.service import JobService
from jobs.stored_rows import PlainReader
from tests.jobs.serve_process import MAIN, child_env, jobdesk, start_serve, stop

NOW = datetime.now(timezone.utc).replace(microsecond=0)
ROOT = Path(MAIN).parent


def full_answer(service: JobService) -> dict:
    """`list` as it was made before jobs.listing: every definition decoded by the codec."""
    specs = service.jobs.all()
    next_runs = service.next_run_times(specs)
    last = service.history.last_outcomes(spec.id for spec in specs)
    names = {spec.id: spec.name for spec in specs}
    expected = next_expected(specs, next_runs, finished_so_far(service.engine, service.history, specs))
    jobs = []
    for spec in specs:
        item = job_json(spec, next_runs.get(spec.id), last.get(spec.id), names)
        if is_after(spec):
            found = expected.get(spec.id)
            item["expected_after"] = iso(found.at) if found else None
            item["expected_after_jobs"] = list(found.upstream) if found else []
        jobs.append(item)
    return {"jobs": jobs}


def varied_jobs() -> list[JobSpec]:
    job = JobSpec(name="", command=("python3", "report.py"), trigger=CronSpec("30 7 * * 1-5", "Europe/Paris"))
    return [
        replace(job, name="Sales"),
        JobSpec(name="Sync", command=("rsync -a a/ b/",), shell=True, trigger=CronSpec("*/15 * * * *", "UTC"),
                description="copies", tags=("ops", "etl"), cwd="/srv", env=(("A", "1"), ("B", "two")),
                timeout=1200.0, misfire_grace=60.0, overlap=Overlap.PARALLEL, max_parallel=3, coalesce=False,
                notify=Notify.ALWAYS, email=("a@example.org",), webhooks=("https://example.org/h",),
                expect=("out/{date}.csv",), runs_on="gpu", slow_factor=3.5, slow_margin=120.0,
                run_with="/usr/bin/python3"),  # fmt: skip
        JobSpec(name="Tokyo", command=("true",), trigger=CronSpec("0 9 * * *", "Asia/Tokyo"), paused=True),
        JobSpec(name="New York", command=("true",), trigger=CronSpec("0 9 * * *", "America/New_York"), overlap=Overlap.QUEUE),
        JobSpec(name="Hourly", command=("true",), trigger=IntervalSpec(2, "hours", "UTC", start=NOW - timedelta(days=3))),
        JobSpec(name="Later", command=("true",), trigger=IntervalSpec(1, "days", "Europe/Berlin", start=NOW + timedelta(days=2),
                                                                        end=NOW + timedelta(days=30), jitter=5)),  # fmt: skip
        JobSpec(name="Ended", command=("true",), trigger=IntervalSpec(1, "days", "UTC", start=NOW - timedelta(days=9),
                                                                        end=NOW - timedelta(days=2))),  # fmt: skip
        JobSpec(name="Once", command=("true",), trigger=DateSpec(NOW + timedelta(days=5), "Australia/Sydney")),
        JobSpec(name="Once, past", command=("true",), trigger=DateSpec(NOW - timedelta(days=5), "UTC")),
        JobSpec(name="Retried", command=("true",), trigger=CronSpec("0 3 * * *", "UTC"), retries=2,
                requires=("ac-power",)),  # fmt: skip
    ]


def insert_raw(service: JobService, job_id: str, name: str, spec: str, paused: bool = False) -> None:
    """A row as an older Jobdesk or a hand edit may have left it."""
    with service.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO job_definitions (id, name, paused, spec, created_at, updated_at) "
                             "VALUES (?, ?, ?, ?, 0, 0)", (job_id, name, paused, spec))  # fmt: skip


BASE = {"command": ["true"], "coalesce": True, "notify": "failure", "overlap": "skip",
        "trigger": {"type": "cron", "expression": "5 4 * * *", "timezone": "UTC"}}  # fmt: skip
# Rows the codec reads differently from what they hold (or cannot read): decoded in full
ODD_ROWS = {
    "int-timeout": {**BASE, "name": "int timeout", "timeout": 60},
    "no-zone": {**BASE, "name": "no zone", "trigger": {"type": "cron", "expression": "5 4 * * *"}},
    "ac": {**BASE, "name": "ac", "requires": ["AC"]},
    "env-order": {**BASE, "name": "env order", "env": {"B": "1", "A": "2"}},
    "env-number": {**BASE, "name": "env number", "env": {"A": 2}},
    "no-shell": {**BASE, "name": "shell false", "shell": False},
    "empty-text": {**BASE, "name": "empty description", "description": ""},
    "stray-parallel": {**BASE, "name": "max_parallel without parallel", "max_parallel": 4},
    "default-factor": {**BASE, "name": "default factor", "slow_factor": 2.0},
    "word-timeout": {**BASE, "name": "timeout in words", "timeout": "20m"},
    "huge-timeout": {**BASE, "name": "huge timeout", "timeout": 1e300},
    "no-coalesce-key": {k: v for k, v in {**BASE, "name": "no coalesce"}.items() if k != "coalesce"},
    "string-command": {**BASE, "name": "string command", "command": "true"},
    "date-offset": {**BASE, "name": "date with offset", "trigger": {"type": "date", "run_at": "2031-01-02T03:04:05+05:00",
                                                                  "timezone": "Europe/London"}},  # fmt: skip
    "unknown-key": {**BASE, "name": "unknown key", "colour": "red"},  # broken: left out of the list
    "bad-zone": {**BASE, "name": "bad zone", "trigger": {"type": "cron", "expression": "5 4 * * *", "timezone": "Mars/Base"}},
    "paused-in-json": {**BASE, "name": "paused in json", "paused": True},
    "whole-amount": {**BASE, "name": "every 2 hours", "trigger": {"type": "interval", "amount": 2, "unit": "hours", "timezone": "UTC"}},
    "float-amount": {**BASE, "name": "every 2.0 hours", "trigger": {"type": "interval", "amount": 2.0, "unit": "hours", "timezone": "UTC"}},
}


@pytest.fixture
def varied_service(data_dir):
    service = JobService(data_dir)
    saved = service.import_jobs(varied_jobs())
    by_name = {spec.name: spec for spec in saved}
    extract, prices = by_name["Sales"], by_name["New York"]
    for name, status in (("Extract done", "success"), ("Either", "any"), ("On failure", "failure")):
        service.add_job(JobSpec(name=name, command=("true",), trigger=AfterSpec((extract.id, prices.id), status, "UTC")))
    service.history.create_many([(extract, RunCause.SCHEDULED, RunStatus.SUCCEEDED, NOW - timedelta(hours=1), None),
                                 (by_name["Sync"], RunCause.MANUAL, RunStatus.FAILED, NOW - timedelta(minutes=5), "exit code 1"),
                                 (by_name["Tokyo"], RunCause.SCHEDULED, RunStatus.MISSED, NOW - timedelta(days=1), "missed")])  # fmt: skip
    for job_id, data in ODD_ROWS.items():
        insert_raw(service, job_id, data["name"], json.dumps(data, sort_keys=job_id != "env-order"))
    insert_raw(service, "not-json", "not json", "{oops", paused=True)
    insert_raw(service, "bad id!", "bad id", json.dumps({**BASE, "name": "bad id"}))
    try:
        yield service
    finally:
        service.shutdown()


def test_the_answer_from_plain_rows_is_the_answer_from_decoded_definitions(varied_service):
    fast = execute(varied_service, {"op": "list"})
    full = full_answer(varied_service)
    assert json.dumps(fast) == json.dumps(full)  # same keys, same values, same order
    names = [job["name"] for job in fast["jobs"]]
    assert "unknown key" not in names and "bad zone" not in names and "bad id" not in names
    assert "every 2 hours" in names and "every 2.0 hours" not in names  # an interval counts in whole units
    assert {"int timeout", "no zone", "ac", "Ended", "Once, past", "Extract done", "Tokyo"} <= set(names)
    states = {job["name"]: job["state"] for job in fast["jobs"]}
    assert states["Tokyo"] == "paused" and states["Ended"] == "finished" and states["Once, past"] == "finished"


def test_plain_rows_are_read_as_stored_and_odd_ones_are_left_to_the_codec(varied_service):
    """Else the comparison above would pass with every row decoded in full."""
    reader = PlainReader()
    read = {row.name: reader.read(row) for row in varied_service.jobs.rows()}
    plain = {name for name, row in read.items() if row is not None}
    # (a trigger is always read by the codec: one without a zone or with another offset is plain)
    assert plain == {"Sales", "Sync", "Tokyo", "New York", "Hourly", "Later", "Ended", "Once", "Once, past",
                     "no zone", "date with offset", "every 2 hours"}  # fmt: skip
    for name in plain:  # and each is what the codec makes of it
        spec = varied_service.jobs.get(read[name].id)
        assert (read[name].id, read[name].name, read[name].paused, read[name].trigger) == (spec.id, spec.name, spec.paused, spec.trigger)
    assert reader.read(StoredDefinition("x", "x", False, json.dumps({**BASE, "name": "x"}))) is not None
    assert reader.read(StoredDefinition("x", "x", False, json.dumps({**BASE, "name": "x", "retries": 2}))) is None


def test_the_answer_read_from_the_file_with_plain_sqlite_is_the_same(varied_service, data_dir):
    """jobs.list_local: what `jobdesk list` reads when no instance runs. Times to come are worked
    out from now by each side: a second can turn between the two (seen once in a full run), so a
    difference must survive a second try to count."""
    for _ in range(2):
        here, full = json.dumps(list_here(data_dir)), json.dumps(full_answer(varied_service))
        if here == full:
            break
    assert here == full


def test_a_list_with_no_instance_does_not_import_sqlalchemy(data_dir, qapp):
    """(Only after-jobs, whose expected runs come from the chain code, need it.) Nor APScheduler
    (~45 ms of a small list): the store holds each scheduled job's next run (a finished one has
    none), and the words need none of it."""
    service = JobService(data_dir)
    try:
        service.import_jobs(varied_jobs())
        service.start()  # the scheduler's store gets each job's next run
    finally:
        service.shutdown()
    probe = ("import sys; sys.path.insert(0, {root!r}); import main; code = main.main(sys.argv[1:]); sys.stdout.flush(); "
             "print(code, 'sqlalchemy' in sys.modules, 'apscheduler' in sys.modules, file=sys.stderr)").format(root=str(ROOT))  # fmt: skip
    for args, imported in ((["list", "--json"], "False False"), (["list"], "False False"), (["show", "Sales"], "True True")):
        done = subprocess.run([sys.executable, "-c", probe, "--data-dir", str(data_dir.root), *args],
                              capture_output=True, text=True, timeout=60, env=child_env())  # fmt: skip
        assert done.stderr.splitlines()[-1] == f"0 {imported}", (args, done.stderr)
    assert [job["name"] for job in json.loads(jobdesk(data_dir, "list", "--json").stdout)][:2] == ["Ended", "Hourly"]


@pytest.mark.slow  # three command-line processes and a serve
def test_list_json_is_the_same_from_the_store_and_from_a_running_serve(data_dir, varied_service):
    varied_service.shutdown()
    serve = start_serve(data_dir)
    try:
        from_serve = jobdesk(data_dir, "list", "--json")
    finally:
        stop(serve)
    from_store = jobdesk(data_dir, "list", "--json")  # no instance: the store read here
    assert from_store.returncode == 0 and from_serve.returncode == 0, (from_store.stderr, from_serve.stderr)
    assert from_store.stdout == from_serve.stdout
    listed = json.loads(from_store.stdout)
    shown = json.loads(jobdesk(data_dir, "show", listed[1]["id"], "--json").stdout)
    assert {key: shown[key] for key in listed[1]} == listed[1]  # `show` decodes the definition in full
    assert "stored definition of job 'unknown-key'" in from_store.stderr  # broken rows still said, not listed
    conn = sqlite3.connect(data_dir.database)
    assert conn.execute("SELECT count(*) FROM job_definitions").fetchone()[0] == len(listed) + 5  # the unreadable ones
    conn.close()


def test_list_json_prints_each_job_as_json_dumps_writes_it(varied_service, data_dir):
    """cli_output.json_list encodes all items with one C encoder: the text must stay json.dumps's
    (escapes, numbers, key order), one job per line."""
    insert_raw(varied_service, "cafe", "Café ☕ \u2028", json.dumps({**BASE, "name": "Café ☕ \u2028", "timeout": 1.5e-7}))
    varied_service.shutdown()
    printed = jobdesk(data_dir, "list", "--json").stdout
    jobs = json.loads(printed)
    assert "Café ☕ \u2028" in [job["name"] for job in jobs]
    assert printed == "[\n" + ",\n".join(json.dumps(job) for job in jobs) + "\n]\n"
