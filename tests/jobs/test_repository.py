"""Job definitions read back: decoded once per stored version, whoever changed them."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import update

from jobs.db import job_table
from jobs.model import CronSpec, JobSpec
from jobs.plain_spec import PlainSpecReader
from jobs.repository import JobRepository


def job(name: str, cron: str = "0 9 * * *") -> JobSpec:
    return JobSpec(name=name, command=("true",), trigger=CronSpec(cron, "UTC"))


def counting_decodes(repo: JobRepository, monkeypatch) -> list[str]:
    """Ids of the rows read into a JobSpec, by the codec or straight from plain data (jobs.plain_spec)."""
    seen: list[str] = []
    original, plain = JobRepository._decode, PlainSpecReader.read

    def counting(row, broken=None):
        seen.append(row.id)
        return original(row, broken)

    def counting_plain(self, row):
        spec = plain(self, row)
        if spec is not None:
            seen.append(row.id)
        return spec

    monkeypatch.setattr(JobRepository, "_decode", staticmethod(counting))
    monkeypatch.setattr(PlainSpecReader, "read", counting_plain)
    return seen


def test_reading_all_again_decodes_only_rows_that_changed(engine, monkeypatch):
    repo = JobRepository(engine)
    a, b, c = repo.add_many([job("A"), job("B"), job("C")])
    decoded = counting_decodes(repo, monkeypatch)
    assert [s.name for s in repo.all()] == ["A", "B", "C"] and sorted(decoded) == sorted([a.id, b.id, c.id])
    decoded.clear()
    other = JobRepository(engine)  # another process's writes look the same: only the rows change
    other.update(replace(b, trigger=CronSpec("5 9 * * *", "UTC")))
    other.set_paused(c.id, True)
    decoded.clear()  # `other` decoded what it changed; now only `repo`
    specs = {s.id: s for s in repo.all()}
    assert sorted(decoded) == sorted([b.id, c.id])
    assert specs[b.id].trigger == CronSpec("5 9 * * *", "UTC") and specs[c.id].paused and not specs[a.id].paused
    assert repo.get(a.id) == specs[a.id] and sorted(decoded) == sorted([b.id, c.id])  # get() reuses it too
    other.remove(a.id)
    assert [s.id for s in repo.all()] == [b.id, c.id]


def test_the_id_and_paused_columns_win_over_the_stored_text(engine):
    repo = JobRepository(engine)
    (saved,) = repo.add_many([job("A")])
    data = {**json.loads(_stored(engine, saved.id)), "id": "elsewhere", "paused": True}
    with engine.begin() as conn:
        conn.execute(update(job_table).where(job_table.c.id == saved.id).values(spec=json.dumps(data)))
    (read,) = repo.all()
    assert read.id == saved.id and read.paused is False and read == saved
    assert repo.broken == []


def test_an_unreadable_row_is_reported_on_every_read_and_others_still_load(engine):
    repo = JobRepository(engine)
    good, bad = repo.add_many([job("Good"), job("Bad")])
    with engine.begin() as conn:
        conn.execute(update(job_table).where(job_table.c.id == bad.id).values(spec="[1, 2]"))
    for _ in range(2):
        assert [s.id for s in repo.all()] == [good.id]
        assert [row.job_id for row in repo.broken] == [bad.id]


def _stored(engine, job_id: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(job_table.select().where(job_table.c.id == job_id)).one().spec)
