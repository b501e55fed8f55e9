"""Conditions that wait (issue 12): real SQLite, real child processes, a real Qt loop, and the
conditions from an in-memory `ConditionSource` (or, for a server probe, a real TCP port)."""

from __future__ import annotations

import socket

import pytest

from jobs.conditions.gate import ConditionGate
from jobs.conditions.requirements import parse_requirement
from jobs.conditions.source import MemoryConditions
from jobs.conditions.system import SystemConditions
from jobs.model import CronSpec, JobSpec, Overlap, RunRecord, RunStatus
from jobs.service import JobService
from tests.conftest import py

YEARLY = CronSpec("0 0 1 1 *", "UTC")


def job(name: str = "job", **kw) -> JobSpec:
    return JobSpec(name=name, command=py("print('ran')"), trigger=YEARLY, **kw)


@pytest.fixture
def power(qapp):
    return MemoryConditions(ac_power=False)


@pytest.fixture
def service(data_dir, power):
    service = JobService(data_dir, conditions=power)
    yield service
    service.shutdown()


def events(service: JobService, name: str) -> list[RunRecord]:
    seen: list[RunRecord] = []
    getattr(service.events, name).connect(seen.append)
    return seen


def test_a_run_waits_for_ac_power_and_starts_as_soon_as_it_is_plugged_in(service, power, qtbot):
    service.gate.poll = 3600  # the change notification, not the poll, must start it
    waiting = events(service, "run_waiting")
    saved = service.add_job(job(requires=("ac-power",)))
    run_id = service.run_now(saved.id)
    record = service.get_run(run_id)
    assert (record.status, record.waiting_for) == (RunStatus.WAITING, "AC power")
    qtbot.waitUntil(lambda: [r.id for r in waiting] == [run_id], timeout=5000)
    assert service.active_runs()[0].status is RunStatus.WAITING
    power.set_ac_power(True)
    done = service.wait_for_run(run_id, timeout=20)
    assert done.status is RunStatus.SUCCEEDED
    assert done.waiting_for == "AC power"  # history still says what it waited for


def test_past_its_deadline_a_waiting_run_ends_missed_saying_why(service, qtbot):
    finished = events(service, "run_finished")
    saved = service.add_job(job(requires=("ac-power", "network"), condition_deadline=1.0))
    service.conditions.set_network(False)
    run_id = service.run_now(saved.id)
    assert service.get_run(run_id).waiting_for == "AC power and a network connection"
    record = service.wait_for_run(run_id, timeout=20)
    assert record.status is RunStatus.MISSED
    assert record.error == "missed: on battery and no network for 1s"
    assert record.started_at is None and record.log_path is None
    qtbot.waitUntil(lambda: [r.id for r in finished] == [run_id], timeout=5000)


def test_what_a_run_waits_for_follows_the_conditions(service, power, qtbot):
    saved = service.add_job(job(requires=("ac-power", "network")))
    run_id = service.run_now(saved.id)
    assert service.get_run(run_id).waiting_for == "AC power"
    power.set_network(False)
    qtbot.waitUntil(lambda: service.get_run(run_id).waiting_for == "AC power and a network connection", timeout=5000)
    power.set_ac_power(True)
    qtbot.waitUntil(lambda: service.get_run(run_id).waiting_for == "a network connection", timeout=5000)
    assert service.get_run(run_id).status is RunStatus.WAITING


def test_a_waiting_run_is_in_progress_for_the_overlap_policy(service):
    saved = service.add_job(job(requires=("ac-power",)))
    first = service.run_now(saved.id)
    assert service.run_now(saved.id) is None
    [skipped] = [r for r in service.query_history() if r.status is RunStatus.SKIPPED]
    assert skipped.error == f"skipped: run #{first} was still waiting for AC power"


def test_a_run_queued_behind_a_waiting_one_starts_after_it_and_waits_too(service, power):
    saved = service.add_job(job(requires=("ac-power",), overlap=Overlap.QUEUE))
    first = service.run_now(saved.id)
    second = service.run_now(saved.id)
    assert service.cancel_run(first)
    assert service.wait_for_run(first, timeout=20).error == "killed while waiting for AC power: stopped by the user"
    assert service.get_run(second).status is RunStatus.WAITING  # it took the place, and waits in turn
    power.set_ac_power(True)
    assert service.wait_for_run(second, timeout=20).status is RunStatus.SUCCEEDED


def test_run_anyway_starts_the_waiting_run_instead_of_a_new_one(service):
    saved = service.add_job(job(requires=("ac-power",)))
    run_id = service.run_now(saved.id)
    assert service.run_now(saved.id, ignore_conditions=True) == run_id
    assert service.wait_for_run(run_id, timeout=20).status is RunStatus.SUCCEEDED
    other = service.run_now(saved.id, ignore_conditions=True)  # none waits now: a new run, not held
    assert service.wait_for_run(other, timeout=20).status is RunStatus.SUCCEEDED
    assert service.get_run(other).waiting_for is None


def test_a_waiting_run_survives_a_restart_and_keeps_its_deadline_start(data_dir, power, qapp):
    first = JobService(data_dir, conditions=power)
    try:
        saved = first.add_job(job(requires=("ac-power",)))
        run_id = first.run_now(saved.id)
        queued_at = first.get_run(run_id).queued_at
    finally:
        first.shutdown()
    second = JobService(data_dir, conditions=power)
    try:
        record = second.get_run(run_id)
        assert (record.status, record.queued_at) == (RunStatus.WAITING, queued_at)
        second.start()
        assert [r.id for r in second.active_runs()] == [run_id]
        assert second.run_now(saved.id) is None  # still in progress for the overlap policy
        power.set_ac_power(True)
        assert second.wait_for_run(run_id, timeout=20).status is RunStatus.SUCCEEDED
    finally:
        second.shutdown()


def test_a_waiting_run_follows_its_job_when_edited_or_removed(service):
    from dataclasses import replace

    saved = service.add_job(job(requires=("ac-power",)))
    run_id = service.run_now(saved.id)
    service.update_job(replace(saved, requires=()))  # nothing to wait for any more
    assert service.wait_for_run(run_id, timeout=20).status is RunStatus.SUCCEEDED
    again = service.update_job(replace(saved, requires=("ac-power",)))
    second = service.run_now(again.id)
    service.remove_job(again.id)
    ended = service.wait_for_run(second, timeout=20)
    assert (ended.status, ended.error) == (RunStatus.MISSED, "missed: its job was removed while it waited")


def test_a_run_of_a_job_without_conditions_is_never_held(service):
    saved = service.add_job(job())
    record = service.wait_for_run(service.run_now(saved.id), timeout=20)
    assert record.status is RunStatus.SUCCEEDED and record.waiting_for is None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_server_that_does_not_answer_holds_the_run_until_it_listens(data_dir, qapp, qtbot):
    """The real `SystemConditions`: a TCP probe of a loopback port."""
    service = JobService(data_dir, conditions=SystemConditions())
    service.gate.poll = 0.2
    port = free_port()
    try:
        saved = service.add_job(job(requires=(f"network:127.0.0.1:{port}",)))
        run_id = service.run_now(saved.id)
        qtbot.waitUntil(lambda: service.get_run(run_id) is not None
                        and service.get_run(run_id).status is RunStatus.WAITING, timeout=10_000)  # fmt: skip
        assert service.get_run(run_id).waiting_for == f"127.0.0.1:{port} to answer"
        with socket.create_server(("127.0.0.1", port)):
            record = service.wait_for_run(run_id, timeout=20)
        assert record.status is RunStatus.SUCCEEDED
    finally:
        service.shutdown()


def test_a_server_that_answers_never_shows_the_run_as_waiting(data_dir, qapp):
    port = free_port()
    with socket.create_server(("127.0.0.1", port)):
        service = JobService(data_dir, conditions=SystemConditions())
        try:
            saved = service.add_job(job(requires=(f"network:127.0.0.1:{port}",)))
            record = service.wait_for_run(service.run_now(saved.id), timeout=20)
            assert record.status is RunStatus.SUCCEEDED and record.waiting_for is None
        finally:
            service.shutdown()


def test_ac_power_that_cannot_be_read_does_not_hold_runs(qapp):
    gate = ConditionGate(MemoryConditions(ac_power=None))
    assert gate.check(job(requires=("ac-power",))).met


@pytest.mark.parametrize("text, canonical, words", [
    ("ac-power", "ac-power", "AC power"),
    ("AC", "ac-power", "AC power"),
    ("network", "network", "a network connection"),
    ("network:db.example.com:5432", "network:db.example.com:5432", "db.example.com:5432 to answer"),
    ("network:[::1]:80", "network:[::1]:80", "[::1]:80 to answer"),
])  # fmt: skip
def test_conditions_are_read_and_said(text, canonical, words):
    requirement = parse_requirement(text)
    assert (requirement.text, requirement.words) == (canonical, words)


@pytest.mark.parametrize("text, message", [
    ("battery", "'battery' is not a condition: use ac-power, network or network:HOST:PORT"),
    ("network:db", "'network:db': write network:HOST:PORT, e.g. network:db.example.com:5432"),
    ("network:db:99999", "'network:db:99999': port '99999' is not a number from 1 to 65535"),
    ("network:a b:80", "'network:a b:80': 'a b' is not a host name or address"),
])  # fmt: skip
def test_bad_conditions_are_named(text, message):
    with pytest.raises(ValueError) as caught:
        parse_requirement(text)
    assert str(caught.value) == message
