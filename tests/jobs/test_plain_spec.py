"""Reading all definitions builds most JobSpecs straight from plain stored rows (jobs.plain_spec,
issue 10): each must be the codec's JobSpec for that row, field for field and type for type, and
every row the codec would read differently (or not at all) must still go through the codec."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from jobs import stored_rows
from jobs.db import open_database
from jobs.model import AfterSpec, CronSpec, DateSpec, IntervalSpec, JobSpec, Notify, Overlap
from jobs.paths import ensure_private_dir
from jobs.plain_spec import BUILT_KEYS, PlainSpecReader
from jobs.repository import JobRepository
from jobs.stored_rows import decode_row

NOW = datetime.now(timezone.utc).replace(microsecond=0)
ZONES = ("UTC", "Europe/Paris", "Asia/Tokyo", "America/New_York", "Australia/Sydney", "Asia/Kolkata")


@pytest.fixture
def repo(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    yield JobRepository(engine)
    engine.dispose()


def triggers() -> list[Any]:
    out: list[Any] = []
    for index, zone in enumerate(ZONES):
        out += [
            CronSpec("30 7 * * 1-5", zone),
            CronSpec(f"{index} */2 * * *", zone),
            IntervalSpec(2, "hours", zone),
            IntervalSpec(1 + index, "days", zone, start=NOW - timedelta(days=3)),
            IntervalSpec(15, "minutes", zone, start=NOW + timedelta(days=1), end=NOW + timedelta(days=30), jitter=5),
            IntervalSpec(1, "weeks", zone, start=NOW - timedelta(days=90), end=NOW - timedelta(days=2)),
            DateSpec(NOW + timedelta(days=index + 1), zone),
            DateSpec(NOW - timedelta(days=index + 1), zone),
        ]
    return out


# Each field's values, the first its default; job i takes option (i * step) % len of each, so
# every value meets many others (steps are primes apart from the option counts).
OPTIONS: dict[str, tuple[Any, ...]] = {
    "description": ("", "copies the files", "naïve ünïcode — ok"),
    "tags": ((), ("etl",), ("ops", "etl", "finance")),
    "cwd": (None, "/srv/reports"),
    "env": ((), (("A", "1"),), (("A", "1"), ("B", "two"), ("PATH", "/usr/bin"))),
    "timeout": (None, 1200.0, 0.5, 86400.0),
    "overlap": ((Overlap.SKIP, 1), (Overlap.QUEUE, 1), (Overlap.PARALLEL, 3), (Overlap.PARALLEL, 1)),
    "misfire_grace": (None, 60.0, 0.0),
    "coalesce": (True, False),
    "notify": (Notify.FAILURE, Notify.NEVER, Notify.ALWAYS),
    "condition_deadline": (None, 600.0),
    "email": ((), ("a@example.org",), ("a@example.org", "b@example.org")),
    "webhooks": ((), ("https://example.org/hook",)),
    "expect": ((), ("out/{date}.csv",), ("a/*.pdf", "b/{scheduled:%Y-%m-%d}.xlsx")),
    "runs_on": (None, "gpu"),
    "slow_factor": (2.0, 3.5, 1.25),
    "slow_margin": (60.0, 120.0, 0.0),
    "run_with": (None, "/usr/bin/python3"),
    "paused": (False, True),
    "shell": (False, True),
}
STEPS = (1, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73)


def plain_jobs() -> list[JobSpec]:
    """Jobs with every field set and unset in many combinations, every kind of time trigger."""
    jobs = []
    for index, trigger in enumerate(triggers() * 4):
        values = {key: options[(index * step) % len(options)] for (key, options), step in zip(OPTIONS.items(), STEPS)}
        overlap, max_parallel = values.pop("overlap")
        command = ("echo report && ls",) if values["shell"] else ("python3", f"report_{index}.py", "--day", "{date}")
        jobs.append(JobSpec(name=f"Job {index:03}", command=command, trigger=trigger, overlap=overlap,
                            max_parallel=max_parallel, **values))  # fmt: skip
    everything = JobSpec(
        name="Everything", command=("rsync -a a/ b/",), shell=True, trigger=CronSpec("*/15 * * * *", "Europe/Paris"),
        description="copies", tags=("ops", "etl"), cwd="/srv", env=(("A", "1"), ("B", "two")), timeout=1200.0,
        misfire_grace=60.0, overlap=Overlap.PARALLEL, max_parallel=3, coalesce=False, notify=Notify.ALWAYS,
        condition_deadline=30.0, email=("a@example.org",), webhooks=("https://example.org/h",), expect=("out/{date}.csv",),
        runs_on="gpu", slow_factor=3.5, slow_margin=120.0, run_with="/usr/bin/python3", paused=True,
    )  # fmt: skip
    nothing = JobSpec(name="Nothing", command=("true",), trigger=CronSpec("0 0 * * *", "UTC"))
    return [*jobs, everything, nothing, replace(nothing, name="")]


def full_path_jobs(ids: list[str]) -> list[JobSpec]:
    """Jobs the plain rows leave to the codec: retries, conditions, after-triggers."""
    base = JobSpec(name="", command=("true",), trigger=CronSpec("0 3 * * *", "UTC"))
    return [
        replace(base, name="Retried", retries=2),
        replace(base, name="Retried, all settings", retries=3, retry_delay=5.0, retry_backoff=1.5, retry_max=600.0,
                retry_on=("timeout",), retry_on_exit=(75, 111)),  # fmt: skip
        replace(base, name="On AC", requires=("ac-power",)),
        replace(base, name="Online, deadline", requires=("network", "ac-power"), condition_deadline=900.0),
        replace(base, name="After", trigger=AfterSpec((ids[0], ids[1]), "success", "Europe/Paris")),
        replace(base, name="After any", trigger=AfterSpec((ids[2],), "any", "UTC"), paused=True),
        replace(base, name="After failure, everything", trigger=AfterSpec((ids[3],), "failure", "Asia/Tokyo"),
                tags=("x",), timeout=5.0, email=("a@example.org",)),  # fmt: skip
    ]


def assert_same(fast: Any, full: Any, where: str) -> None:
    """Equal, and of the same type all the way down (a list is not a tuple, 60 is not 60.0)."""
    assert type(fast) is type(full), (where, fast, full)
    assert fast == full, (where, fast, full)
    if isinstance(full, tuple):
        for index, (one, other) in enumerate(zip(fast, full)):
            assert_same(one, other, f"{where}[{index}]")


def assert_same_spec(fast: JobSpec, full: JobSpec) -> None:
    assert fast == full
    for field in fields(JobSpec):
        assert_same(getattr(fast, field.name), getattr(full, field.name), f"{full.name}.{field.name}")


def test_every_plain_row_becomes_the_codecs_jobspec(repo):
    plain = repo.add_many(plain_jobs())
    full_path = repo.add_many(full_path_jobs([spec.id for spec in plain]))
    reader = PlainSpecReader()
    rows = {row.id: row for row in repo.rows()}
    for spec in plain:
        fast, full = reader.read(rows[spec.id]), decode_row(rows[spec.id])
        assert isinstance(fast, JobSpec) and isinstance(full, JobSpec), spec.name
        assert_same_spec(fast, full)
        assert fast == spec  # what was saved comes back
    for spec in full_path:
        assert reader.read(rows[spec.id]) is None, spec.name
    assert len(plain) > 190


def test_reading_all_gives_the_codecs_jobspecs_and_builds_plain_ones_directly(repo):
    plain = repo.add_many(plain_jobs())
    repo.add_many(full_path_jobs([spec.id for spec in plain]))
    rows = repo.rows()
    specs = repo.all()
    assert len(specs) == len(rows) and repo.broken == []
    for spec, row in zip(specs, rows):
        full = decode_row(row)
        assert isinstance(full, JobSpec)
        assert_same_spec(spec, full)
    # the codec makes a trigger per row; plain rows share the one their reader read
    same_trigger = [spec for spec in specs if spec.trigger == CronSpec("30 7 * * 1-5", "UTC")]
    assert len(same_trigger) > 2 and len({id(spec.trigger) for spec in same_trigger}) == 1
    retried = [spec for spec in specs if spec.name == "Retried" or isinstance(spec.trigger, AfterSpec)]
    assert len(retried) == 4 and len({id(spec.trigger) for spec in retried}) == 4


BASE = {"command": ["true"], "coalesce": True, "notify": "failure", "overlap": "skip",
        "trigger": {"type": "cron", "expression": "5 4 * * *", "timezone": "UTC"}}  # fmt: skip
# Rows as an older Jobdesk or a hand edit may have left them: the codec normalises what they hold
# (or refuses them), so they must not be read as plain.
ODD_ROWS: dict[str, Any] = {
    "int-timeout": {**BASE, "timeout": 60},
    "int-grace": {**BASE, "misfire_grace": 0},
    "int-deadline": {**BASE, "condition_deadline": 10},
    "int-factor": {**BASE, "slow_factor": 3},
    "int-margin": {**BASE, "slow_margin": 90},
    "float-parallel": {**BASE, "overlap": "parallel", "max_parallel": 2.0},
    "word-timeout": {**BASE, "timeout": "20m"},
    "huge-timeout": {**BASE, "timeout": 1e300},
    "nan-timeout": {**BASE, "timeout": float("nan")},
    "env-order": {**BASE, "env": {"B": "1", "A": "2"}},
    "env-number": {**BASE, "env": {"A": 2}},
    "env-empty": {**BASE, "env": {}},
    "no-shell": {**BASE, "shell": False},
    "empty-text": {**BASE, "description": ""},
    "empty-cwd": {**BASE, "cwd": ""},
    "empty-tags": {**BASE, "tags": []},
    "one-email": {**BASE, "email": "a@example.org"},
    "stray-parallel": {**BASE, "max_parallel": 4},
    "default-factor": {**BASE, "slow_factor": 2.0},
    "default-margin": {**BASE, "slow_margin": 60.0},
    "string-command": {**BASE, "command": "true"},
    "no-coalesce-key": {key: value for key, value in BASE.items() if key != "coalesce"},
    "no-notify-key": {key: value for key, value in BASE.items() if key != "notify"},
    "requires-ac": {**BASE, "requires": ["AC"]},
    "paused-in-json": {**BASE, "paused": True},
    "id-in-json": {**BASE, "id": "elsewhere"},
    "retry-delay-only": {**BASE, "retry_delay": 5.0},
    "after": {**BASE, "trigger": {"type": "after", "jobs": ["plain-row"], "status": "success", "timezone": "UTC"}},
    # refused by the codec: broken, with the codec's message
    "unknown-key": {**BASE, "colour": "red"},
    "bad-zone": {**BASE, "trigger": {"type": "cron", "expression": "5 4 * * *", "timezone": "Mars/Base"}},
    "bad-overlap": {**BASE, "overlap": "sometimes"},
    "negative-timeout": {**BASE, "timeout": -5.0},
    "no-name-key": {**BASE},
    "string-tags": {**BASE, "tags": "etl"},
    "empty-command": {**BASE, "command": []},
    "float-amount": {**BASE, "trigger": {"type": "interval", "amount": 2.0, "unit": "hours", "timezone": "UTC"}},
    "bool-parallel": {**BASE, "overlap": "parallel", "max_parallel": True},
    "bool-timeout": {**BASE, "timeout": True},
}
# Rows the plain path reads (the codec reads them the same): the trigger is always the codec's
PLAIN_ODD_ROWS: dict[str, Any] = {
    "plain-row": {**BASE, "tags": ["etl"], "timeout": 0.0},
    "no-zone": {**BASE, "trigger": {"type": "cron", "expression": "5 4 * * *"}},
    "date-offset": {**BASE, "trigger": {"type": "date", "run_at": "2031-01-02T03:04:05+05:00", "timezone": "Europe/London"}},
    "whole-amount": {**BASE, "trigger": {"type": "interval", "amount": 2, "unit": "hours", "timezone": "UTC"}},
    "negative-zero": {**BASE, "timeout": -0.0, "slow_margin": 0.0},
    "empty-name": {**BASE, "name": ""},
    "parallel-of-one": {**BASE, "overlap": "parallel", "max_parallel": 1},
    "large-parallel": {**BASE, "overlap": "parallel", "max_parallel": 10**30},
    "longest-timeout": {**BASE, "timeout": 100 * 365.25 * 86_400.0},
}


def insert_raw(repo: JobRepository, job_id: str, data: Any, *, paused: bool = False, text: str | None = None) -> None:
    name = data.get("name", job_id) if isinstance(data, dict) else job_id
    with repo._engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO job_definitions (id, name, paused, spec, created_at, updated_at) "
                             "VALUES (?, ?, ?, ?, 0, 0)", (job_id, name, paused, text or json.dumps(data)))  # fmt: skip


def with_name(job_id: str, data: dict[str, Any]) -> dict[str, Any]:
    return data if "name" in data or job_id == "no-name-key" else {**data, "name": job_id}


def test_odd_rows_are_left_to_the_codec_and_broken_ones_reported_as_before(repo):
    for job_id, data in {**ODD_ROWS, **PLAIN_ODD_ROWS}.items():
        insert_raw(repo, job_id, with_name(job_id, data), paused=job_id == "whole-amount")
    unsorted = json.dumps({**BASE, "name": "unsorted keys", "tags": ["b"], "description": "d"}, sort_keys=False)
    insert_raw(repo, "unsorted-keys", {}, text=unsorted)  # key order is not a value: read as plain
    insert_raw(repo, "not-json", {}, text="{oops", paused=True)
    insert_raw(repo, "a-list", {}, text="[1, 2]")
    insert_raw(repo, "bad id!", {**BASE, "name": "bad id"})
    reader = PlainSpecReader()
    rows = repo.rows()
    fast = {row.id: reader.read(row) for row in rows}
    full = {row.id: decode_row(row) for row in rows}
    assert {job_id for job_id, spec in fast.items() if spec is not None} == {*PLAIN_ODD_ROWS, "unsorted-keys"}
    for job_id, spec in fast.items():
        if spec is not None:
            assert_same_spec(spec, full[job_id])  # type: ignore[arg-type]
    broken = {job_id: problem for job_id, problem in full.items() if isinstance(problem, str)}
    assert {"unknown-key", "bad-zone", "bad-overlap", "negative-timeout", "no-name-key", "string-tags", "empty-command",
            "bool-timeout", "bool-parallel", "float-amount", "not-json", "a-list", "bad id!"} == set(broken)  # fmt: skip
    specs = repo.all()
    assert [(row.job_id, row.problem) for row in repo.broken] == [(row.id, broken[row.id]) for row in rows if row.id in broken]
    assert [spec.id for spec in specs] == [row.id for row in rows if row.id not in broken]
    for spec in specs:
        assert_same_spec(spec, full[spec.id])  # type: ignore[arg-type]
    assert next(spec for spec in specs if spec.id == "whole-amount").paused is True  # the column wins


def test_every_field_a_plain_row_may_hold_is_built():
    """Else rows holding a field PlainReader learns to vouch for lose the fast path (they stay right:
    jobs.plain_spec decodes any row with a key it does not build in full)."""
    assert set(stored_rows._FIELDS) | {"id", "paused"} == BUILT_KEYS
