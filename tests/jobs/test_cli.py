"""The command line in-process (fast) against a real store: output, exit codes, import/export."""

from __future__ import annotations

import json
import sys

import pytest

from jobs.cli import main


@pytest.fixture
def cli(data_dir, capsys, qapp):
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data_dir.root), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def add_job(cli, *args: str) -> str:
    code, out, err = cli("add", *args)
    assert code == 0, err
    return out.strip()


def test_add_list_show_run_history(cli):
    job_id = add_job(cli, "--name", "Report", "--cron", "30 7 * * 1-5", "--tz", "Europe/Paris", "--",
                     sys.executable, "-c", "print('made the report')")
    code, out, _ = cli("list", "--json")
    [listed] = json.loads(out)
    assert listed["id"] == job_id and listed["schedule"].startswith("At 07:30, Monday through Friday")
    assert listed["state"] == "active" and listed["next_run"]
    code, out, _ = cli("run", job_id, "--wait", "--json")
    run = json.loads(out)
    assert code == 0 and run["status"] == "succeeded" and run["cause"] == "manual"
    code, out, _ = cli("history", "--job", job_id, "--json")
    assert [r["id"] for r in json.loads(out)] == [run["id"]]
    code, out, _ = cli("show", job_id)
    assert "At 07:30, Monday through Friday" in out and "made the report" in out


def test_run_wait_exits_with_the_jobs_exit_code(cli):
    job_id = add_job(cli, "--name", "Fails", "--every", "1h", "--", sys.executable, "-c", "raise SystemExit(3)")
    code, out, _ = cli("run", job_id, "--wait")
    assert code == 3 and "failed" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["add", "--name", "x", "--cron", "61 * * * *", "--", "true"], "--cron: minute: 61 is out of range 0-59"),
        (["add", "--name", "x", "--every", "5x", "--", "true"], "--every"),
        (["add", "--name", "x", "--every", "1h"], "no command given"),
        (["add", "--name", "x", "--every", "1h", "--timeout", "soon", "--", "true"], "--timeout"),
        (["add", "--name", "x", "--every", "1h", "--env", "NOEQUALS", "--", "true"], "expected NAME=VALUE"),
        (["history", "--status", "exploded"], "--status: 'exploded' is not one of"),
        (["run", "nope"], "no job with id or name 'nope'"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_exit_2_with_one_clear_line(cli, args, message):
    code, out, err = cli(*args)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1


def test_export_then_import_round_trips(cli, tmp_path):
    first = add_job(cli, "--name", "A", "--cron", "0 9 * * 0", "--env", "MODE=x", "--", "echo", "a b")
    second = add_job(cli, "--name", "B", "--every", "90m", "--shell", "--", "echo hi | wc -c")
    exported = tmp_path / "jobs.toml"
    assert cli("export", str(exported))[0] == 0
    before = json.loads(cli("list", "--json")[1])
    cli("remove", first)
    cli("remove", second)
    assert json.loads(cli("list", "--json")[1]) == []
    code, out, err = cli("import", str(exported))
    assert code == 0, err
    after = json.loads(cli("list", "--json")[1])
    assert [j["definition"] for j in after] == [j["definition"] for j in before]


def test_a_malformed_import_imports_nothing_and_says_where(cli, tmp_path):
    add_job(cli, "--name", "Keep", "--every", "1h", "--", "true")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[job]]\nname = "ok"\ncommand = ["true"]\n[job.trigger]\ntype = "cron"\nexpression = "0 * * * *"\ntimezone = "UTC"\n'
        '[[job]]\nname = "broken"\ncommand = ["true"]\n[job.trigger]\ntype = "cron"\nexpression = "0 25 * * *"\ntimezone = "UTC"\n'
    )
    code, _, err = cli("import", str(bad))
    assert code == 2 and "job 2 ('broken'), trigger.hour: 25 is out of range 0-23" in err
    assert [j["name"] for j in json.loads(cli("list", "--json")[1])] == ["Keep"]
    bad.write_text("[[job]\nname = ")
    code, _, err = cli("import", str(bad))
    assert code == 2 and "not valid TOML" in err


def test_pause_resume_remove(cli):
    job_id = add_job(cli, "--name", "P", "--every", "1h", "--", "true")
    assert cli("pause", job_id)[1].startswith("paused")
    assert json.loads(cli("list", "--json")[1])[0]["state"] == "paused"
    assert cli("resume", job_id)[1].startswith("resumed")
    assert json.loads(cli("list", "--json")[1])[0]["next_run"]
    assert cli("remove", job_id)[0] == 0
    assert "No jobs yet" in cli("list")[1]
