"""A retried change is made once (issue 9, item 6): request ids remembered with the change.

In-process for the journal itself; real `serve` processes, killed between saving and answering
(JOBDESK_TEST_EXIT_BEFORE_REPLY), for the retries a user would see.
"""

from __future__ import annotations

import json
import sys
import time

import pytest
from sqlalchemy import insert, select

from jobs.control import ControlError, execute
from jobs.db import meta_table
from jobs.ipc import EXIT_BEFORE_REPLY_ENV
from jobs.ipc_client import AnswerLost, request
from jobs.request_ids import KEEP_SECONDS, KEY_PREFIX, new_request_id
from jobs.service import JobService
from tests.jobs.serve_process import history, jobdesk, start_serve, stop

JOB = {"name": "report", "command": ["true"], "trigger": {"type": "cron", "expression": "0 9 * * *", "timezone": "UTC"}}
TOML = """format = 1
[[job]]
name = "a"
command = ["true"]
[job.trigger]
type = "cron"
expression = "0 9 * * *"
timezone = "UTC"
"""


@pytest.fixture
def service(data_dir, qapp):
    svc = JobService(data_dir)
    yield svc
    svc.shutdown()


def reopened(service: JobService) -> JobService:
    """The same store in a new service, as a new `serve` after a crash would open it."""
    service.shutdown()
    return JobService(service.data_dir)


def test_an_add_sent_twice_with_one_id_adds_one_job_and_answers_alike(service):
    req = {"op": "add", "job": JOB, "request_id": new_request_id()}
    first = execute(service, req)
    again = reopened(service)
    try:
        assert execute(again, dict(req)) == first
        assert [spec.id for spec in again.jobs.all()] == [first["id"]]
        renamed = {**JOB, "name": JOB["name"] + " 2"}  # names are unique
        assert execute(again, {**req, "job": renamed, "request_id": new_request_id()}) != first  # a new request is new
        assert len(again.jobs.all()) == 2
    finally:
        again.shutdown()


def test_an_import_sent_twice_imports_once(service):
    req = {"op": "import", "toml": TOML, "source": "jobs.toml", "request_id": new_request_id()}
    first = execute(service, req)
    assert execute(service, dict(req)) == first
    assert [spec.id for spec in service.jobs.all()] == first["imported"]


def test_a_remove_sent_twice_answers_as_the_first_time(service):
    job_id = execute(service, {"op": "add", "job": JOB})["id"]
    req = {"op": "remove", "id": job_id, "request_id": new_request_id()}
    assert execute(service, req) == {"removed": job_id}
    assert execute(service, dict(req)) == {"removed": job_id}  # not "no job with id"


def test_an_id_used_for_another_operation_is_refused(service):
    request_id = new_request_id()
    job_id = execute(service, {"op": "add", "job": JOB, "request_id": request_id})["id"]
    with pytest.raises(ControlError) as caught:
        execute(service, {"op": "remove", "id": job_id, "request_id": request_id})
    assert caught.value.exit_code == 2 and "was already used for 'add'" in str(caught.value)
    assert [spec.id for spec in service.jobs.all()] == [job_id]


def test_a_failed_change_leaves_no_answer_behind(service):
    req = {"op": "remove", "id": "nope", "request_id": new_request_id()}
    for _ in range(2):
        with pytest.raises(ControlError, match="no job with id or name 'nope'"):
            execute(service, req)


def test_answers_older_than_a_day_are_forgotten(service):
    with service.engine.begin() as conn:
        conn.execute(insert(meta_table).values(key=KEY_PREFIX + "old", value=json.dumps(
            {"op": "add", "at": time.time() - KEEP_SECONDS - 60, "answer": {"id": "x"}})))  # fmt: skip
    execute(service, {"op": "add", "job": JOB, "request_id": new_request_id()})
    with service.engine.connect() as conn:
        keys = list(conn.execute(select(meta_table.c.key).where(meta_table.c.key.like(KEY_PREFIX + "%"))).scalars())
    assert len(keys) == 1 and keys[0] != KEY_PREFIX + "old"


# --- serve killed between saving and answering -------------------------------------------------


@pytest.mark.slow
def test_serve_killed_after_saving_an_add_leaves_one_job_and_the_cli_prints_its_id(data_dir):
    serve = start_serve(data_dir, env={EXIT_BEFORE_REPLY_ENV: "add"})
    try:
        added = jobdesk(data_dir, "add", "--name", "once", "--every", "1h", "--", "true")
        assert serve.wait(10) == 70  # it died after saving, before answering
    finally:
        stop(serve)
    assert added.returncode == 0, added.stderr
    listed = json.loads(jobdesk(data_dir, "list", "--json").stdout)
    assert [job["id"] for job in listed] == [added.stdout.strip()]


@pytest.mark.slow
def test_a_new_serve_after_the_crash_knows_the_request(data_dir):
    req = {"op": "import", "toml": TOML, "source": "jobs.toml", "request_id": new_request_id()}
    first = start_serve(data_dir, env={EXIT_BEFORE_REPLY_ENV: "import"})
    try:
        with pytest.raises(AnswerLost):
            request(data_dir, req)
        first.wait(10)
    finally:
        stop(first)
    second = start_serve(data_dir)
    try:
        answer = request(data_dir, req)
        assert answer["ok"], answer
        listed = request(data_dir, {"op": "list"})["result"]["jobs"]
        assert [job["id"] for job in listed] == answer["result"]["imported"] and len(listed) == 1
    finally:
        stop(second)


@pytest.mark.slow
def test_a_run_whose_answer_was_lost_is_reported_not_repeated(data_dir):
    job_id = jobdesk(data_dir, "add", "--name", "once", "--every", "1h", "--", sys.executable, "-c", "pass").stdout.strip()
    serve = start_serve(data_dir, env={EXIT_BEFORE_REPLY_ENV: "run"})
    try:
        ran = jobdesk(data_dir, "run", job_id)
        serve.wait(10)
    finally:
        stop(serve)
    assert ran.returncode == 1
    [line] = ran.stderr.strip().splitlines()
    assert "closed the connection before answering" in line and "`run` may have been carried out" in line
    # serve may have died before writing its run's row; a run by the command line would be there
    # as succeeded (the job is `pass`).
    runs = history(data_dir)
    assert len(runs) <= 1 and all(run["status"] != "succeeded" for run in runs), runs

