"""Random text and values for `add` options and TOML fields: the answer is always exit 0, or
exit 2 with one line on stderr and nothing stored; never a traceback (issue 9 items 9, 10)."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs.cli import main
from jobs.paths import resolve_data_dir

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Argument text as a POSIX program receives it: any bytes but NUL, decoded the way Python
# decodes argv (bytes that are not UTF-8 become lone surrogates), and plain short text too.
# Values that broke or fooled Jobdesk before (issue 9 items 9, 10) come up often on purpose.
KNOWN_BAD = ["9" * 400, "9" * 400 + "s", "bad\udcff", "\udcff\udcfe", "A=\udcff", "9999-12-31 23:59",
             "0001-01-01 00:00", "1", "", "inf", "nan", "0"]
argv_text = st.one_of(
    st.sampled_from(KNOWN_BAD),
    st.binary(max_size=24).map(lambda raw: os.fsdecode(raw.replace(b"\0", b""))),
    st.text(max_size=24),
    st.sampled_from(["5s", "10s", "90", "1h", "-1", " ", "0 9 * * *", "61 25 * * 8", "2026-12-01 09:00",
                     "UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "A=b", "=x", "@daily", "1.5"]),
)


@pytest.fixture
def cli(capsys, qapp):
    def run(data_dir: Path, *args: str) -> tuple[int, str, str]:
        code = main(["--data-dir", str(data_dir), *args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def count_jobs(cli, data_dir: Path) -> int:
    code, out, err = cli(data_dir, "list", "--json")
    assert code == 0, err
    return len(json.loads(out))


def assert_clean(code: int, out: str, err: str) -> None:
    assert "Traceback" not in err and "Traceback" not in out
    assert code in (0, 2), (code, err)
    if code == 2:
        assert out == "" and err.endswith("\n") and err.count("\n") == 1, err


@FUZZ
@given(
    when=st.sampled_from(["--cron", "--every", "--at"]),
    when_value=argv_text,
    options=st.lists(
        st.tuples(st.sampled_from(["--name", "--tz", "--cwd", "--env", "--timeout", "--grace", "--tag",
                                   "--description", "--max-parallel"]), argv_text),
        min_size=1,
        max_size=5,
    ),
    command=st.lists(argv_text, min_size=1, max_size=3),
)
def test_add_with_random_option_values_is_ok_or_one_line_exit_2(cli, when, when_value, options, command):
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        args = ["add", "--name", "fuzzed", when, when_value]
        for option, value in options:
            args += [option, value]
        code, out, err = cli(data_dir, *args, "--", *command)
        assert_clean(code, out, err)
        if code == 0:
            assert out.strip() and count_jobs(cli, data_dir) == 1
        elif resolve_data_dir(data_dir).database.exists():
            assert count_jobs(cli, data_dir) == 0


toml_value = st.one_of(
    st.text(max_size=16),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.text(max_size=8), max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=6), st.text(max_size=6), max_size=2),
    st.sampled_from(["../../escaped/evil", "a\0b", "9" * 400, "1h", "0 25 * * *", "9999-12-31T23:59:00+00:00"]),
)
FIELDS = ["id", "name", "description", "tags", "command", "shell", "cwd", "env", "timeout", "overlap",
          "max_parallel", "misfire_grace", "coalesce", "notify", "paused", "bogus"]
TRIGGER_FIELDS = ["type", "expression", "timezone", "amount", "unit", "start", "end", "jitter", "run_at"]


@FUZZ
@given(
    jobs=st.lists(
        st.tuples(
            st.dictionaries(st.sampled_from(FIELDS), toml_value, max_size=4),
            st.dictionaries(st.sampled_from(TRIGGER_FIELDS), toml_value, max_size=3),
            st.sampled_from(["cron", "interval", "date"]),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_import_with_random_field_values_is_ok_or_exit_2_and_nothing_changes(cli, jobs):
    documents = []
    for fields, trigger, kind in jobs:
        base = {"name": "fuzzed", "command": ["true"]}
        base_trigger = {"cron": {"expression": "0 9 * * *"}, "interval": {"amount": 1, "unit": "hours"},
                        "date": {"run_at": "2030-01-01T09:00:00+00:00"}}[kind]
        documents.append({**base, **fields, "trigger": {"type": kind, **base_trigger, **trigger}})
    text = tomli_w.dumps({"job": documents})
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        path = Path(tmp) / "jobs.toml"
        path.write_text(text, encoding="utf-8")
        assert cli(data_dir, "add", "--name", "kept", "--every", "1h", "--", "true")[0] == 0
        code, out, err = cli(data_dir, "import", str(path))
        assert "Traceback" not in err and code in (0, 2), (code, err)
        if code == 2:
            assert out == "" and err.startswith("jobdesk: ")
            assert count_jobs(cli, data_dir) == 1  # all or nothing
        else:
            code, out, err = cli(data_dir, "list", "--json")
            assert code == 0, err
            for job in json.loads(out):  # what was stored is sane: finite numbers, valid JSON
                definition = job["definition"]
                for key in ("timeout", "misfire_grace"):
                    assert key not in definition or math.isfinite(definition[key])
                assert isinstance(definition.get("max_parallel", 1), int)
