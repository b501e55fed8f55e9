"""Bad values for `add` and for imported TOML: exit 2, one line naming the option or field, and
nothing stored (issue 8 items 5, 10; issue 9 items 7-10). In-process for speed; the
representative cases run again as subprocesses in test_cli_subprocess.py."""

from __future__ import annotations

import json
import sys

import pytest

from jobs.cli import main

ADD = ["add", "--name", "x"]
OK_COMMAND = ["--", "true"]


@pytest.fixture
def cli(data_dir, capsys, qapp):
    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data_dir.root), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def listed(cli) -> list[dict]:
    code, out, err = cli("list", "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--every", "1", *OK_COMMAND], "jobdesk add: --every: 1 needs a unit, e.g. 1m, 1h"),
        (["--every", "90", *OK_COMMAND], "jobdesk add: --every: 90 needs a unit, e.g. 90m, 90h"),
        (["--every", "5s", *OK_COMMAND], "--every: 5s is shorter than 10 seconds; add --allow-sub-10s"),
        (["--every", "9" * 400, *OK_COMMAND], "--every: '9999"),
        (["--every", "9" * 400 + "s", *OK_COMMAND], "is longer than 100 years"),
        (["--every", "1h", "--timeout", "9" * 400, *OK_COMMAND], "--timeout: '9999"),
        (["--every", "1h", "--timeout", "inf", *OK_COMMAND], "--timeout: 'inf' is not a duration"),
        (["--every", "1h", "--grace", "nan", *OK_COMMAND], "--grace: 'nan' is not a duration"),
        (["--every", "1h", "--max-parallel", "0", *OK_COMMAND], "--max-parallel: 0 must be at least 1"),
        (["--every", "1h", "--tz", "", *OK_COMMAND], "jobdesk add: --tz: must not be empty"),
        (["--every", "1h", "--tz", "  ", *OK_COMMAND], "jobdesk add: --tz: must not be empty"),
        (["--cron", "", *OK_COMMAND], "jobdesk add: --cron: expression: expected 5 fields"),
        (["--cron", "0 9 * * *", "--tz", "Mars/Olympus", *OK_COMMAND], "jobdesk add: --tz: 'Mars/Olympus' is not a known time zone"),
        (["--at", "9999-12-31 23:59", "--tz", "America/Los_Angeles", *OK_COMMAND], "--at: '9999-12-31 23:59' is too far"),
        (["--at", "0001-01-01 00:00", "--tz", "Asia/Tokyo", *OK_COMMAND], "--at: '0001-01-01 00:00' is too far"),
        (["--every", "1h", "--env", "A=b\udcff", *OK_COMMAND], "--env: 'b\\udcff' contains a byte that is not UTF-8 text (\\xff)"),
        (["--every", "1h", "--", "echo", "\udcff\udcfe"], "command: '\\udcff\\udcfe' contains a byte that is not UTF-8"),
        (["--every", "1h", "--cwd", "/tmp/\udcff", *OK_COMMAND], "--cwd: '/tmp/\\udcff' contains a byte"),
        (["--every", "1h", "--tag", "a\nb", *OK_COMMAND], "--tag: 'a\\nb' contains a control character"),
        (["--every", "1h", "--description", "a\0b", *OK_COMMAND], "--description: 'a\\x00b' contains a NUL"),
        (["--every", "1h", "--env", "A=b\0c", *OK_COMMAND], "--env: 'b\\x00c' contains a NUL character"),
    ],
)
def test_add_refuses_bad_values_with_one_line_naming_the_option(cli, args, message):
    code, out, err = cli(*ADD, *args)
    assert (code, out) == (2, "")
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    assert listed(cli) == []


@pytest.mark.parametrize("name, message", [
    ("bad\udcff", "--name: 'bad\\udcff' contains a byte that is not UTF-8 text (\\xff)"),
    ("nul\0name", "--name: 'nul\\x00name' contains a NUL character"),
    ("two\nlines", "--name: 'two\\nlines' contains a control character"),
    ("  ", "--name: must not be empty"),
])
def test_add_refuses_bad_names(cli, name, message):
    code, _, err = cli("add", "--name", name, "--every", "1h", *OK_COMMAND)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert listed(cli) == []


def test_a_short_interval_needs_the_explicit_option(cli):
    code, out, err = cli(*ADD, "--every", "5s", "--allow-sub-10s", *OK_COMMAND)
    assert code == 0, err
    [job] = listed(cli)
    assert job["definition"]["trigger"]["amount"] == 5 and job["definition"]["trigger"]["unit"] == "seconds"
    assert cli("add", "--name", "ten", "--every", "10s", *OK_COMMAND)[0] == 0  # 10 s is allowed as is


def test_timeouts_and_grace_still_take_plain_seconds(cli):
    code, _, err = cli(*ADD, "--every", "1h", "--timeout", "90", "--grace", "30", *OK_COMMAND)
    assert code == 0, err
    definition = listed(cli)[0]["definition"]
    assert definition["timeout"] == 90 and definition["misfire_grace"] == 30


# --- TOML: every problem of every job, nothing imported ----------------------------------------

def toml_job(name: str, *lines: str, trigger: str = 'type = "cron"\nexpression = "0 9 * * *"\ntimezone = "UTC"') -> str:
    body = "\n".join(lines)
    return f'[[job]]\nname = "{name}"\n{body}\n[job.trigger]\n{trigger}\n'


def import_text(cli, tmp_path, text: str, *extra: str) -> tuple[int, str, str]:
    path = tmp_path / "jobs.toml"
    path.write_text(text, encoding="utf-8")
    return cli("import", str(path), *extra)


@pytest.mark.parametrize(
    "lines, trigger, message",
    [
        (['command = ["true"]', "max_parallel = inf"], None, "max_parallel: expected a whole number, got inf"),
        (['command = ["true"]', "max_parallel = nan"], None, "max_parallel: expected a whole number, got nan"),
        (['command = ["true"]', "max_parallel = 1.5"], None, "max_parallel: expected a whole number, got 1.5"),
        (['command = ["true"]', "max_parallel = 0"], None, "max_parallel: 0 must be at least 1"),
        (['command = ["true"]', "timeout = inf"], None, "timeout: inf is not a number of seconds"),
        (['command = ["true"]', "timeout = 1e300"], None, "timeout: 1e+300 seconds is longer than 100 years"),
        (['command = ["true"]', 'timeout = "' + "9" * 400 + 's"'], None, "timeout: '9999"),
        (['command = ["true"]', "misfire_grace = nan"], None, "misfire_grace: nan is not a number of seconds"),
        (['command = ["true"]', "misfire_grace = -1"], None, "misfire_grace: -1 must not be negative"),
        (['command = ["true"]', 'env = { "A\\u0000B" = "x" }'], None, "env: 'A\\x00B' is not a valid variable name"),
        (['command = ["true"]', 'env = { A = "x\\u0000y" }'], None, "env.A: 'x\\x00y' contains a NUL character"),
        (['command = ["a\\u0000b"]'], None, "command: 'a\\x00b' contains a NUL character"),
        (['command = ["true"]', 'id = "../../escaped/evil"'], None, "id: '../../escaped/evil' is not a valid id"),
        (['command = ["true"]', 'id = "-rf"'], None, "id: '-rf' is not a valid id"),
        (['command = ["true"]', 'id = "CON"'], None, "id: 'CON' is not a valid id: it is a reserved device name"),
        (['command = ["true"]', f'id = "{"a" * 65}"'], None, "is not a valid id"),
        (['command = ["true"]'], 'type = "date"\nrun_at = 9999-12-31T23:59:00-08:00\ntimezone = "America/Los_Angeles"',
         "trigger.run_at: year 9999 is outside 1970-8999"),
        (['command = ["true"]'], 'type = "date"\nrun_at = 0001-01-01T00:00:00+09:00\ntimezone = "Asia/Tokyo"',
         "trigger.run_at: year 1 is outside 1970-8999"),
        (['command = ["true"]'], 'type = "date"\nrun_at = "9999-12-31T23:59:00+00:00"\ntimezone = "UTC"',
         "trigger.run_at: year 9999 is outside 1970-8999"),
    ],
)
def test_import_refuses_wrong_values_and_changes_nothing(cli, tmp_path, lines, trigger, message):
    kept = cli("add", "--name", "kept", "--every", "1h", *OK_COMMAND)[1].strip()
    text = toml_job("bad", *lines) if trigger is None else toml_job("bad", *lines, trigger=trigger)
    code, out, err = import_text(cli, tmp_path, text)
    assert code == 2 and out == "" and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert [job["id"] for job in listed(cli)] == [kept]


def test_import_lists_every_bad_field_of_every_job(cli, tmp_path):
    text = (
        toml_job("ok", 'command = ["true"]')
        + toml_job("first", 'command = []', "timeout = inf", "max_parallel = 1.5", 'overlap = "sometimes"')
        + toml_job("second", 'command = ["true"]', 'id = "../x"', "misfire_grace = nan",
                   trigger='type = "cron"\nexpression = "0 25 * * *"\ntimezone = "Nowhere/Land"')
    )
    code, _, err = import_text(cli, tmp_path, text)
    lines = err.strip().splitlines()
    assert code == 2 and lines[0].endswith("jobs.toml: 7 problems, nothing was imported:"), err
    fields = [line.strip() for line in lines[1:]]
    assert any(f.startswith("job 2 ('first'), command:") for f in fields)
    assert any(f.startswith("job 2 ('first'), timeout: inf") for f in fields)
    assert any(f.startswith("job 2 ('first'), overlap: 'sometimes' is not one of") for f in fields)
    assert any(f.startswith("job 2 ('first'), max_parallel: expected a whole number, got 1.5") for f in fields)
    assert any(f.startswith("job 3 ('second'), id: '../x' is not a valid id") for f in fields)
    assert any(f.startswith("job 3 ('second'), trigger.timezone: 'Nowhere/Land'") for f in fields)
    assert any(f.startswith("job 3 ('second'), misfire_grace: nan") for f in fields)
    assert listed(cli) == []


def test_problems_are_listed_in_the_order_a_job_is_written(cli, tmp_path):
    text = toml_job("", 'command = []', "timeout = inf", 'id = "a/b"')
    code, _, err = import_text(cli, tmp_path, text)
    fields = [line.strip().split(":")[0] for line in err.strip().splitlines()[1:]]
    assert code == 2 and fields == ["job 1, id", "job 1, name", "job 1, command", "job 1, timeout"], err


def test_an_imported_trigger_without_a_time_zone_uses_the_local_one(cli, tmp_path):
    from jobs.triggers import local_timezone_name

    code, _, err = import_text(cli, tmp_path, toml_job("local", 'command = ["true"]', trigger='type = "cron"\nexpression = "0 9 * * *"'))
    assert code == 0, err
    assert listed(cli)[0]["definition"]["trigger"]["timezone"] == local_timezone_name()


def test_an_id_from_an_import_never_names_a_folder_outside_the_data_dir(cli, tmp_path, data_dir):
    text = toml_job("evil", f'command = ["{sys.executable}", "-c", "print(1)"]', 'id = "../../escaped/evil"')
    code, _, err = import_text(cli, tmp_path, text)
    assert code == 2 and "is not a valid id" in err
    assert not (data_dir.root.parent / "escaped").exists() and not (tmp_path.parent / "escaped").exists()
    assert listed(cli) == []


def test_a_valid_imported_id_is_kept(cli, tmp_path):
    code, _, err = import_text(cli, tmp_path, toml_job("named", 'command = ["true"]', 'id = "sales-report_2"'))
    assert code == 0, err
    assert listed(cli)[0]["id"] == "sales-report_2"


def test_a_stored_infinite_timeout_reads_as_no_limit_and_list_json_stays_standard(cli, data_dir):
    """Rows saved before the rule (timeout = inf was accepted and stored as `Infinity`)."""
    from sqlalchemy import update

    from jobs.db import job_table
    from jobs.service import JobService

    job_id = cli("add", "--name", "old", "--every", "1h", "--timeout", "1h", *OK_COMMAND)[1].strip()
    service = JobService(data_dir)
    try:
        with service.engine.begin() as conn:
            spec = conn.execute(job_table.select()).one().spec
            conn.execute(update(job_table).values(spec=spec.replace('"timeout": 3600.0', '"timeout": Infinity')))
    finally:
        service.shutdown()
    code, out, err = cli("list", "--json")

    def refuse(token: str) -> None:
        raise AssertionError(f"non-standard JSON: {token}")

    [job] = json.loads(out, parse_constant=refuse)
    assert code == 0 and job["id"] == job_id and "timeout" not in job["definition"]
