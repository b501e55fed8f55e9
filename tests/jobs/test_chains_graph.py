"""The after-trigger as data: references by name or id, cycles with their path, words, dicts."""

from __future__ import annotations

import pytest

from jobs import triggers
from jobs.after_trigger import counts_for
from jobs.chains import dependents, find_cycle, plan_import_chains, resolve
from jobs.codec import job_from_dict, job_to_dict
from jobs.model import AfterSpec, CronSpec, JobSpec, RunCause, RunRecord, RunStatus

DAILY = CronSpec("0 6 * * *", "UTC")


def job(job_id: str, name: str, *after: str, status: str = "success") -> JobSpec:
    trigger = AfterSpec(after, status, "UTC") if after else DAILY
    return JobSpec(id=job_id, name=name, command=("true",), trigger=trigger)


def test_find_cycle_gives_the_path_back_to_the_start():
    graph = {"c": ("a", "b"), "b": ("d",), "d": ("c",)}
    assert find_cycle(graph, "c") == ["c", "b", "d", "c"]
    assert find_cycle(graph, "a") is None
    assert find_cycle({"x": ("x",)}, "x") == ["x", "x"]


def test_resolve_turns_names_into_ids_and_names_every_problem():
    stored = [job("a1", "A"), job("b1", "B"), job("b2", "B"), job("c1", "C", "a1")]
    resolved, problems = resolve(job("", "New", "A", "c1"), stored)
    assert resolved.trigger.jobs == ("a1", "c1") and problems == []
    _, problems = resolve(job("", "New", "B", "Z"), stored)
    assert problems == [("trigger.jobs", "'B' is the name of 2 jobs: b1, b2; use an id"),
                        ("trigger.jobs", "no job with id or name 'Z' to run after")]  # fmt: skip
    _, problems = resolve(job("a1", "A", "C"), stored)
    assert problems == [("trigger.jobs", "would make a cycle: A → C → A")]


def test_dependents_and_words_name_the_jobs():
    stored = [job("a1", "Backup"), job("c1", "Report", "a1", "s1", status="any"), job("s1", "Sync")]
    assert [spec.id for spec in dependents(stored, "a1")] == ["c1"]
    names = {spec.id: spec.name for spec in stored}
    assert triggers.describe(stored[1].trigger, names=names) == "After Backup and Sync (any outcome)"
    assert triggers.describe(stored[1].trigger, names={"a1": "Backup"}) == "After Backup and a removed job (s1) (any outcome)"
    assert triggers.next_fire_times(stored[1].trigger) == [] and triggers.dst_notes(stored[1].trigger) == []


def test_an_import_gives_new_jobs_ids_so_the_file_can_chain_them():
    planned, problems = plan_import_chains([job("", "Extract"), job("", "Load", "Extract")], [job("x1", "Old")])
    assert problems == []
    assert planned[0].id and planned[1].trigger.jobs == (planned[0].id,)
    _, problems = plan_import_chains([job("p", "P", "Q"), job("q", "Q", "P")], [])
    assert problems == ["job 1 ('P'), trigger.jobs: would make a cycle: P → Q → P",
                        "job 2 ('Q'), trigger.jobs: would make a cycle: Q → P → Q"]  # fmt: skip


@pytest.mark.parametrize("data, message", [
    ({"type": "after", "jobs": []}, "trigger.jobs: name at least one job to run after"),
    ({"type": "after", "jobs": ["a", "a"]}, "trigger.jobs: names a job twice"),
    ({"type": "after", "jobs": ["a"], "status": "maybe"}, "trigger.status: 'maybe' is not one of: success, failure, any"),
    ({"type": "after", "jobs": [1]}, "trigger.jobs: expected a list of job ids"),
    ({"type": "after"}, "trigger.jobs: is missing"),
])  # fmt: skip
def test_bad_after_triggers_name_the_field(data, message):
    with pytest.raises(ValueError) as raised:
        job_from_dict({"name": "x", "command": ["true"], "trigger": data})
    assert str(raised.value).startswith(message)


def test_the_definition_round_trips_through_its_dict():
    spec = job("c1", "C", "a1", "b1", status="failure")
    assert job_to_dict(spec)["trigger"] == {"type": "after", "jobs": ["a1", "b1"], "status": "failure", "timezone": "UTC"}
    assert job_from_dict(job_to_dict(spec)) == spec


@pytest.mark.parametrize("status, counted", [
    (RunStatus.SUCCEEDED, {"success", "any"}), (RunStatus.FAILED, {"failure", "any"}),
    (RunStatus.TIMED_OUT, {"failure", "any"}), (RunStatus.SKIPPED, set()), (RunStatus.MISSED, set()),
])  # fmt: skip
def test_which_ends_count(status, counted):
    record = RunRecord(1, "a", "A", RunCause.MANUAL, status)
    assert {wanted for wanted in ("success", "failure", "any") if counts_for(wanted, record)} == counted


def test_expected_runs_follow_the_fire_that_completes_the_set_along_a_chain():
    from datetime import datetime, timedelta, timezone

    from jobs.chain_plan import expected_runs, with_expected, with_expected_lanes
    from jobs.upcoming import Lane

    t0 = datetime(2026, 12, 1, 6, tzinfo=timezone.utc)
    hourly = [t0 + timedelta(hours=n) for n in range(4)]
    specs = [job("a", "A"), job("b", "B"), job("c", "C", "a", "b"), job("d", "D", "c", status="any"),
             job("f", "F", "a", status="failure")]  # fmt: skip
    runs = expected_runs(specs, {"a": hourly, "b": [t0 + timedelta(minutes=90)]})
    at = t0 + timedelta(minutes=90)
    assert runs == {"c": [(at, (("a", hourly[1]), ("b", at)))], "d": [(at, (("c", at),))]}  # A's latest fire before B
    rows = with_expected([(when, specs[0]) for when in hourly[:2]] + [(t0 + timedelta(minutes=90), specs[1])], specs)
    assert [(when - t0, spec.name) for when, spec in rows] == [
        (timedelta(0), "A"), (timedelta(hours=1), "A"), (timedelta(minutes=90), "B"),
        (timedelta(minutes=90), "C"), (timedelta(minutes=90), "D")]  # fmt: skip
    lanes = with_expected_lanes([Lane(specs[0], tuple(hourly)), Lane(specs[1], (t0 + timedelta(minutes=90),))], specs)
    assert [(lane.job.name, lane.links) for lane in lanes] == [
        ("A", ()), ("B", ()), ("C", ((("a", hourly[1]), ("b", at)),)), ("D", ((("c", at),),))]  # fmt: skip
    # A has finished already since C last ran: C waits only for B's next fire
    seeded = expected_runs(specs, {"a": hourly[3:], "b": [t0 + timedelta(minutes=90)]}, done={"c": {"a"}})
    assert seeded["c"] == [(at, (("b", at),))]
    assert expected_runs(specs, {"a": hourly[3:], "b": [at]})["c"] == [(hourly[3], (("b", at), ("a", hourly[3])))]
    assert expected_runs(specs, {"b": [at]}, done={"c": {"a"}})["c"] == [(at, (("b", at),))]  # A has no fire to come
