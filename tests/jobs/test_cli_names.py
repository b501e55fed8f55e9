"""Jobs by id or exact name, unique names, and imports that match by name (issue 8 item 9)."""

from __future__ import annotations

import json
import sys

import pytest

from jobs.cli import main
from jobs.codec import JobValidationError
from jobs.model import CronSpec, JobSpec
from jobs.names import DuplicateName
from jobs.service import JobService
from jobs.transfer import ImportProblem

YEARLY = CronSpec("0 0 1 1 *", "UTC")


@pytest.fixture
def cli(data_dir, capsys, qapp):
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data_dir.root), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def add(cli, name: str, *extra: str) -> str:
    code, out, err = cli("add", "--name", name, "--every", "1h", *extra, "--", sys.executable, "-c", "print('hi')")
    assert code == 0, err
    return out.strip()


def listed(cli) -> list[dict]:
    return json.loads(cli("list", "--json")[1])


def test_every_command_that_takes_a_job_accepts_its_exact_name(cli):
    job_id = add(cli, "Sales report")
    other = add(cli, "Other")
    code, out, err = cli("show", "Sales report")
    assert code == 0 and f"({job_id}, active)" in out, err
    assert cli("pause", "Sales report")[1] == f"paused {job_id}\n"
    assert cli("resume", "Sales report")[1] == f"resumed {job_id}\n"
    code, out, err = cli("run", "Sales report", "--wait", "--json")
    assert code == 0 and json.loads(out)["job_id"] == job_id, err
    runs = json.loads(cli("history", "--job", "Sales report", "--json")[1])
    assert [r["job_id"] for r in runs] == [job_id]
    assert cli("remove", "Sales report")[1].startswith(f"removed {job_id}")
    assert [j["id"] for j in listed(cli)] == [other]
    # the history of a removed job is still found by its id
    assert len(json.loads(cli("history", "--job", job_id, "--json")[1])) == 1


def test_an_id_wins_over_a_name_and_a_name_must_match_exactly(cli):
    first = add(cli, "alpha")
    second = add(cli, first)  # a job whose name is the other one's id
    assert f"({first}," in cli("show", first)[1]
    assert f"({second}," not in cli("show", first)[1]
    code, _, err = cli("show", "Alpha")
    assert code == 2 and err == "jobdesk: no job with id or name 'Alpha'\n"


def test_a_duplicate_name_is_refused_unless_allowed_and_then_is_ambiguous(cli):
    first = add(cli, "Backup")
    code, out, err = cli("add", "--name", "Backup", "--every", "1h", "--", "true")
    assert (code, out) == (2, "")
    assert err == (f"jobdesk add: --name: 'Backup' is already the name of job {first}; names must be unique "
                   "to stand in for ids; add --allow-duplicate-name to keep it anyway\n")
    second = add(cli, "Backup", "--allow-duplicate-name")
    for command in (["show"], ["run"], ["pause"], ["resume"], ["remove"], ["history", "--job"]):
        code, out, err = cli(*command, "Backup")
        ids = ", ".join(sorted([first, second]))
        assert code == 2 and err == f"jobdesk: 'Backup' is the name of 2 jobs: {ids}; use an id\n", (command, err)
    assert len(listed(cli)) == 2


def test_the_service_refuses_duplicate_names_so_the_window_does_too(data_dir, qapp):
    service = JobService(data_dir)
    try:
        first = service.add_job(JobSpec("Report", ("true",), YEARLY))
        with pytest.raises(DuplicateName) as raised:
            service.add_job(JobSpec("Report", ("true",), YEARLY))
        assert isinstance(raised.value, JobValidationError) and raised.value.field == "name"
        assert raised.value.ids == [first.id]
        other = service.add_job(JobSpec("Other", ("true",), YEARLY))
        with pytest.raises(DuplicateName):
            service.update_job(JobSpec("Report", ("false",), YEARLY, id=other.id))  # renaming onto it
        service.update_job(JobSpec("Report", ("false",), YEARLY, id=first.id))  # its own name: fine
        service.add_job(JobSpec("Report", ("true",), YEARLY), allow_duplicate_name=True)
        # an edit of one of two jobs that already share a name, keeping that name, still saves
        service.update_job(JobSpec("Report", ("echo",), YEARLY, id=first.id))
        assert sorted(spec.name for spec in service.jobs.all()) == ["Other", "Report", "Report"]
    finally:
        service.shutdown()


TWO_JOBS = """
[[job]]
name = "A"
command = ["true"]
[job.trigger]
type = "cron"
expression = "0 9 * * *"
timezone = "UTC"

[[job]]
name = "B"
command = ["true"]
timeout = 60
[job.trigger]
type = "interval"
amount = 2
unit = "hours"
timezone = "UTC"
"""


def test_importing_the_same_file_twice_replaces_by_name_instead_of_duplicating(cli, tmp_path):
    kept = add(cli, "C")
    path = tmp_path / "jobs.toml"
    path.write_text(TWO_JOBS)
    code, out, err = cli("import", str(path))
    assert code == 0 and out == "imported 2 job(s): 2 added, 0 replaced\n", err
    ids = {j["name"]: j["id"] for j in listed(cli)}
    path.write_text(TWO_JOBS.replace("timeout = 60", "timeout = 120") + TWO_JOBS.split("[[job]]")[1].join(["[[job]]", ""]).replace('"A"', '"D"'))
    code, out, err = cli("import", str(path))
    assert code == 0 and out == "imported 3 job(s): 1 added, 2 replaced\n", err
    after = {j["name"]: j for j in listed(cli)}
    assert sorted(after) == ["A", "B", "C", "D"]
    assert after["A"]["id"] == ids["A"] and after["B"]["id"] == ids["B"] and after["C"]["id"] == kept
    assert after["B"]["definition"]["timeout"] == 120


def test_import_refuses_name_conflicts_all_at_once(cli, tmp_path):
    first = add(cli, "Twice")
    second = add(cli, "Twice", "--allow-duplicate-name")
    add(cli, "Taken")
    path = tmp_path / "jobs.toml"
    path.write_text(
        TWO_JOBS.replace('"A"', '"Twice"').replace('"B"', '"New"')
        + TWO_JOBS.split("[[job]]")[2].join(["[[job]]", ""]).replace('"B"', '"New"')
        + TWO_JOBS.split("[[job]]")[1].join(["[[job]]", ""]).replace('name = "A"', 'id = "fresh1"\nname = "Taken"')
    )
    code, _, err = cli("import", str(path))
    ids = ", ".join(sorted([first, second]))
    assert code == 2 and err.splitlines() == [
        f"jobdesk: {path}: 3 problems, nothing was imported:",
        f"  job 1 ('Twice'), name: 'Twice' matches jobs {ids}: add id = \"...\" to say which one to replace",
        "  job 3 ('New'), name: also the name of job 2 in this file",
        "  job 4 ('Taken'), name: 'Taken' is already the name of job "
        + [j["id"] for j in listed(cli) if j["name"] == "Taken"][0] + "; names must be unique to stand in for ids",
    ], err
    assert sorted(j["name"] for j in listed(cli)) == ["Taken", "Twice", "Twice"]
    code, out, err = cli("import", str(path), "--allow-duplicate-name")
    assert code == 2 and "matches jobs" in err and "also the name" not in err  # ambiguity stays an error


def test_the_service_import_reports_conflicts_as_an_import_problem(data_dir, qapp):
    service = JobService(data_dir)
    try:
        service.import_jobs([JobSpec("X", ("true",), YEARLY)])
        with pytest.raises(ImportProblem) as raised:
            service.import_jobs([JobSpec("Y", ("true",), YEARLY), JobSpec("Y", ("false",), YEARLY)])
        assert raised.value.problems == ["job 2 ('Y'), name: also the name of job 1 in this file"]
        [replaced] = service.import_jobs([JobSpec("X", ("false",), YEARLY)])
        assert [spec.command for spec in service.jobs.all()] == [("false",)] and replaced.id == service.jobs.all()[0].id
    finally:
        service.shutdown()
