"""Job definitions in our own table: the source of truth for what is scheduled.

APScheduler's rows are a derived cache (NOTES item 8): if they vanish, `jobs.reconcile` rebuilds
them from here. Every method is one short transaction, safe from any thread.

Decoding a definition (JSON, then every field checked) is the dearest part of reading one:
10,000 of them took ~0.5 s (issue 10). A repository keeps what it decoded, by the row's id,
paused flag and stored text, so the window and `serve`, which read all definitions again and
again, decode only rows that changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, replace
from typing import Any, Iterable

from sqlalchemy import Engine, delete, insert, select, update

from jobs.codec import job_to_dict
from jobs.gui_priority import every, fetched_in_parts
from jobs.job_rules import check_job_id
from jobs.db import job_table
from jobs.model import JobSpec
from jobs.plain_spec import PlainSpecReader
from jobs.request_ids import note_change
from jobs.stored_rows import StoredDefinition, decode_row

log = logging.getLogger(__name__)


class JobNotFound(KeyError):
    def __init__(self, job_id: str) -> None:
        super().__init__(job_id)
        self.job_id = job_id

    def __str__(self) -> str:
        return f"no job with id {self.job_id!r}"


@dataclass(frozen=True)
class BrokenRow:
    """A stored definition that can no longer be read. Kept in the file, reported, never deleted."""

    job_id: str
    name: str
    problem: str


def new_job_id() -> str:
    return uuid.uuid4().hex[:10]


class JobRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.broken: list[BrokenRow] = []
        self._decoded: dict[tuple[str, bool, bytes], JobSpec] = {}  # see the module docstring

    def add(self, spec: JobSpec) -> JobSpec:
        return self.add_many([spec])[0]

    def add_many(self, specs: Iterable[JobSpec]) -> list[JobSpec]:
        """Insert new definitions (or update those whose id exists) in one transaction."""
        now = time.time()
        saved = []
        with self._engine.begin() as conn:
            existing = set(conn.execute(select(job_table.c.id)).scalars())
            for spec in specs:
                if spec.id:
                    check_job_id(spec.id)  # every entry validates ids; a bad one must never name a log folder
                if spec.id and spec.id in existing:
                    conn.execute(
                        update(job_table).where(job_table.c.id == spec.id).values(**_row(spec), updated_at=now)
                    )
                else:
                    spec = replace(spec, id=spec.id or _unused_id(existing))
                    conn.execute(insert(job_table).values(id=spec.id, **_row(spec), created_at=now, updated_at=now))
                existing.add(spec.id)
                saved.append(spec)
            note_change(conn, [spec.id for spec in saved])  # a retried request finds its answer
        return saved

    def update(self, spec: JobSpec) -> JobSpec:
        with self._engine.begin() as conn:
            result = conn.execute(
                update(job_table).where(job_table.c.id == spec.id).values(**_row(spec), updated_at=time.time())
            )
            if result.rowcount == 0:
                raise JobNotFound(spec.id)
        return spec

    def set_paused(self, job_id: str, paused: bool) -> JobSpec:
        return self.update(replace(self.get(job_id), paused=paused))

    def remove(self, job_id: str) -> None:
        with self._engine.begin() as conn:
            if conn.execute(delete(job_table).where(job_table.c.id == job_id)).rowcount == 0:
                raise JobNotFound(job_id)
            note_change(conn, [job_id])

    def get(self, job_id: str) -> JobSpec:
        with self._engine.connect() as conn:
            row = conn.execute(select(job_table).where(job_table.c.id == job_id)).one_or_none()
        if row is None:
            raise JobNotFound(job_id)
        spec = self._decoded.get(_cache_key(row)) or self._decode(row)
        if spec is None:
            raise JobNotFound(job_id)
        return spec

    def all(self) -> list[JobSpec]:
        """Every readable definition, by name; unreadable rows land in `self.broken`."""
        known, decoded = self._decoded, {}
        broken: list[BrokenRow] = []
        specs = []
        plain = PlainSpecReader()  # most rows need no codec (jobs.plain_spec)
        for row in every(self.rows()):  # giving way to a window's busy GUI thread (jobs.gui_priority)
            key = _cache_key(row)
            spec = known.get(key) or plain.read(row) or self._decode(row, broken)
            if spec is not None:
                decoded[key] = spec
                specs.append(spec)
        self._decoded = decoded  # only current rows: edited and removed ones drop out
        self.broken = broken
        return specs

    def rows(self, ids: Iterable[str] | None = None) -> list[StoredDefinition]:
        """Every definition row (or those of `ids`) as stored, by name, without decoding any (see `decode`)."""
        query = select(job_table.c.id, job_table.c.name, job_table.c.paused, job_table.c.spec)
        if ids is not None:
            query = query.where(job_table.c.id.in_(list(ids)))
        with self._engine.connect() as conn:
            # unpacked, not read by name: a Row's attribute reads were half of this at 10,000 rows
            return [StoredDefinition(job_id, name, bool(paused), spec)
                    for job_id, name, paused, spec in fetched_in_parts(conn.execute(query.order_by(job_table.c.name, job_table.c.id)))]  # fmt: skip

    def decode(self, row: StoredDefinition) -> JobSpec | None:
        """The definition of one stored row (kept for `all`), or None if it cannot be read."""
        key = _cache_key(row)
        spec = self._decoded.get(key) or self._decode(row)
        if spec is not None:
            self._decoded[key] = spec
        return spec

    def ids(self) -> set[str]:
        with self._engine.connect() as conn:
            return set(conn.execute(select(job_table.c.id)).scalars())

    def exists(self, job_id: str) -> bool:
        """Whether a definition row has this id (readable or not)."""
        with self._engine.connect() as conn:
            return conn.execute(select(job_table.c.id).where(job_table.c.id == job_id)).first() is not None

    def names(self) -> dict[str, str]:
        """Every job's name by id, without decoding any definition."""
        with self._engine.connect() as conn:
            return {row.id: row.name for row in conn.execute(select(job_table.c.id, job_table.c.name))}

    def ids_named(self, name: str) -> list[str]:
        """Ids of the jobs called exactly `name` (names are unique unless a user insisted)."""
        with self._engine.connect() as conn:
            query = select(job_table.c.id).where(job_table.c.name == name).order_by(job_table.c.id)
            return list(conn.execute(query).scalars())

    @staticmethod
    def _decode(row: Any, broken: list[BrokenRow] | None = None) -> JobSpec | None:
        problem = decode_row(row)
        if isinstance(problem, JobSpec):
            return problem
        log.error(problem)
        if broken is not None:
            broken.append(BrokenRow(row.id, row.name, problem))
        return None


def _cache_key(row: Any) -> tuple[str, bool, bytes]:
    """A row as stored, for the cache: its JSON by a 128-bit digest, not kept itself (4.4 MB at
    10,000 jobs, held for as long as the window runs; the digest costs ~0.6 us a row)."""
    return (row.id, bool(row.paused), hashlib.blake2b(row.spec.encode(), digest_size=16).digest())


def _row(spec: JobSpec) -> dict[str, object]:
    data = job_to_dict(spec)
    data.pop("id", None)
    data.pop("paused", None)  # its own column: pause/resume must not rewrite the definition
    return {"name": spec.name, "paused": spec.paused, "spec": json.dumps(data, sort_keys=True)}


def _unused_id(existing: set[str]) -> str:
    while (job_id := new_job_id()) in existing:
        pass
    return job_id
