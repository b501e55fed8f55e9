"""The pieces behind expected outputs and "what changed": placeholders, the file check, hashing
with its cap, and the comparison of two runs' environments (real files, no mocks)."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jobs.changed_since import differences
from jobs.expected_outputs import check, fill, placeholder_problem, slot_time
from jobs.model import CronSpec, JobSpec, RunCause, RunRecord, RunRequest, RunStatus
from jobs.run_environment import HASH_LIMIT, capture, describe
from jobs.run_facts import RunEnvironment


@pytest.mark.parametrize("pattern, problem", [
    ("sales-{date}.pdf", None),
    ("sales-{scheduled:%d.%m.%Y}.pdf", None),
    ("literal-{{braces}}.txt", None),
    ("x-{dat}.pdf", "unknown placeholder {dat}"),
    ("x-{}.pdf", "unknown placeholder {}"),
    ("x-{date!r}.pdf", "unknown placeholder {date!r}"),
    ("x-{scheduled:Y}.pdf", "{scheduled:Y} is not a strftime format"),
    ("x-{date.pdf", "expected '}' before end of string"),
    ("   ", "must not be empty"),
])
def test_placeholders_are_checked_naming_the_bad_one(pattern, problem):
    found = placeholder_problem(pattern)
    assert (found is None) if problem is None else (problem in (found or "")), found


def test_placeholders_fill_from_the_slot_in_the_jobs_zone():
    job = JobSpec(name="x", command=("true",), trigger=CronSpec("30 23 * * *", "Pacific/Kiritimati"))
    slot = slot_time(job, datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc))  # 00:00 on Dec 1 there
    assert fill("s-{date}-{scheduled:%H%M}-{{x}}.pdf", slot) == "s-2026-12-01-0000-{x}.pdf"


def test_a_glob_passes_with_one_fresh_match_and_lists_only_fresh_ones(tmp_path):
    started = time.time()
    old = tmp_path / "a.csv"
    old.write_text("old")
    os.utime(old, (started - 3600, started - 3600))
    (tmp_path / "b.csv").write_text("new")
    outputs, problem = check(["*.csv"], str(tmp_path), started)
    assert problem is None and [Path(o.path).name for o in outputs] == ["b.csv"]
    outputs, problem = check(["a.csv"], str(tmp_path), started)
    assert problem == "expected output a.csv was not modified by this run"


def test_a_large_file_is_hashed_over_its_first_64_mib_only(tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as file:
        file.truncate(HASH_LIMIT + 4096)  # sparse: no 64 MiB of disk written
    described = describe(big)
    assert described.bytes == HASH_LIMIT + 4096 and described.hashed_bytes == HASH_LIMIT
    assert described.sha256 == hashlib.sha256(bytes(HASH_LIMIT)).hexdigest()


def test_capture_names_script_files_relative_to_the_folder_and_not_a_binary_program(tmp_path):
    (tmp_path / "report.py").write_text("print(1)\n")
    (tmp_path / "settings.toml").write_text("x = 1\n")
    request = RunRequest(command=("python3", "report.py", "--config", "settings.toml", "--no-such-file"),
                         log_path=tmp_path / "log", cwd=str(tmp_path), env={"PATH": "/nonexistent"})
    environment = capture(request)
    assert environment is not None and environment.executable is None  # not in the run's own PATH
    assert [Path(s.path).name for s in environment.scripts] == ["report.py", "settings.toml"]
    assert environment.env == (("PATH", "/nonexistent"),)


def run(environment: RunEnvironment, **changes) -> RunRecord:
    base = RunRecord(id=1, job_id="j", job_name="x", cause=RunCause.MANUAL, status=RunStatus.SUCCEEDED,
                     command=("python3", "report.py"), environment=environment)
    return replace(base, **changes)


def test_differences_name_folder_variables_and_missing_files_without_values():
    script = describe(Path(__file__))
    before = RunEnvironment("/usr/bin/python3", (script,), "/home/me/reports", (("A", "1"), ("B", "secret")), "0.1.0", "desk")
    after = replace(before, scripts=(), cwd="/srv/reports", env=(("A", "2"), ("C", "x")), host="laptop")
    changes = differences(run(before), run(after, id=2, command=("python3", "report.py", "--all")))
    assert changes == [f"file {Path(__file__).name} was not found ({script.path})",
                       "variable A changed", "variable B removed", "variable C added",
                       "working folder changed: /home/me/reports → /srv/reports", "command changed",
                       "host desk → laptop"]
    assert not any("secret" in change for change in changes)
    assert differences(run(before), run(before, id=2)) == []
