"""Wake-up digests in the database: which missed runs belong together, and what the user chose.

A digest gathers the `missed` rows of one stretch away (the computer asleep, Jobdesk closed) so
that the window and `jobdesk missed` can offer them once, per job: run the latest, run all, or
skip. The job's missed-run policy has already acted when a digest is sealed (catch-up runs went
at once, as before); the digest offers only what the policy did not run, so not choosing keeps
the policy's outcome and choosing can never run a slot twice. A digest stays open while one of
its rows has no choice; a new stretch away while one is open joins it (one card, not a pile).

Rows join by id (only rows written after this session's start, `floor`) and by slot time, with a
status/id index seek; the digest's own rows are found through `ix_runs_digest_id`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import Engine, text

from jobs.gui_priority import every
from jobs.history import from_epoch
from jobs.misfire import summarised_count

CHOICES = ("run-latest", "run-all", "skip")
ASLEEP, CLOSED = "asleep", "closed"


@dataclass(frozen=True, slots=True)  # slots: a digest at 10,000 jobs holds 100,000s of them
class MissedSlot:
    run_id: int  # the `missed` row
    scheduled_at: datetime
    reason: str
    stands_for: int  # 1, or how many slots a summary row sums up (those cannot be run one by one)

    @property
    def runnable(self) -> bool:
        return self.stands_for == 1


@dataclass(frozen=True)
class DigestEntry:
    """One job's missed runs in a digest that have no choice yet. `slots` are all of them, or
    only the newest (`read_open(newest=...)`); the counts and times are of all of them."""

    job_id: str
    job_name: str
    slots: tuple[MissedSlot, ...]  # oldest first
    ran_later: int | None  # a run the policy started for a slot at or after the latest missed one
    rows: int = -1  # missed rows in all (-1: len(slots), all of them given)
    count: int = -1  # slots they stand for (a summary row stands for many)
    runnable_count: int = -1  # rows that can be run one by one (not summaries)
    first_at: datetime | None = None
    last_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.rows < 0:  # every slot given: the counts and times follow from them
            object.__setattr__(self, "rows", len(self.slots))
            object.__setattr__(self, "count", sum(slot.stands_for for slot in self.slots))
            object.__setattr__(self, "runnable_count", sum(1 for slot in self.slots if slot.runnable))
            object.__setattr__(self, "first_at", self.slots[0].scheduled_at if self.slots else None)
            object.__setattr__(self, "last_at", self.slots[-1].scheduled_at if self.slots else None)

    @property
    def can_run_latest(self) -> bool:
        """Running the latest missed slot makes sense only if nothing newer ran already."""
        return self.runnable_count > 0 and self.ran_later is None

    def first(self) -> datetime:
        assert self.first_at is not None
        return self.first_at

    def last(self) -> datetime:
        assert self.last_at is not None
        return self.last_at


@dataclass(frozen=True)
class Digest:
    id: int
    kind: str
    since: datetime
    until: datetime
    away: float  # seconds
    entries: tuple[DigestEntry, ...]

    @property
    def count(self) -> int:
        return sum(entry.count for entry in self.entries)

    def headline(self) -> str:
        """'While the computer was asleep (3 h 12 min): 4 runs of 2 jobs were missed'."""
        where = {ASLEEP: "the computer was asleep", CLOSED: "Jobdesk was closed"}.get(
            self.kind, "the computer was asleep or Jobdesk was closed")
        runs, jobs = self.count, len(self.entries)
        return (f"While {where} ({away_words(self.away)}): {runs} run{'s' if runs != 1 else ''} of "
                f"{jobs} job{'s' if jobs != 1 else ''} {'were' if runs != 1 else 'was'} missed")  # fmt: skip

    def entry(self, job_id: str) -> DigestEntry | None:
        return next((entry for entry in self.entries if entry.job_id == job_id), None)


def away_words(seconds: float) -> str:
    """'3 h 12 min', '2 days 4 h', '45 s'."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
    if hours:
        return f"{hours} h" + (f" {minutes} min" if minutes else "")
    return f"{minutes} min" if minutes else f"{secs} s"


def max_run_id(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM runs")).scalar() or 0)


def seal(engine: Engine, kind: str, since: float | None, until: float, floor: int, *,
         bounded: bool = True) -> tuple[int, bool, int] | None:  # fmt: skip
    """Gather the unclaimed `missed` rows written after run `floor` whose slot lies in
    [since, until] into the open digest, or a new one. Not `bounded` (after a close: every
    missed row of this start counts), `since` only dates the digest; it may be None (unknown).
    Returns (digest id, whether it is new, how many rows joined), or None when nothing was missed."""
    # `+job_id`: seek (status, id > floor), the few rows of this start; SQLite preferred one
    # seek per job otherwise (10,000 at 10k jobs: 80 ms warm, over a second cold, GUI thread).
    with engine.begin() as conn:
        rows = conn.execute(text(
            "SELECT id, scheduled_at FROM runs WHERE status = 'missed' AND id > :floor AND digest_id IS NULL "
            "AND cause != 'manual' AND scheduled_at IS NOT NULL AND scheduled_at <= :until "
            "AND scheduled_at >= :since AND +job_id IN (SELECT id FROM job_definitions)"),
            {"floor": floor, "until": until, "since": since if bounded and since is not None else -1e18}).all()  # fmt: skip
        if not rows:
            return None
        start = min(since if since is not None else until, min(row.scheduled_at for row in rows))
        open_row = conn.execute(text(
            "SELECT id, kind, since, until, away FROM wake_digests WHERE settled_at IS NULL ORDER BY id DESC LIMIT 1"
        )).first()  # fmt: skip
        joined = 0
        if open_row is not None:
            digest_id, created = open_row.id, False
            away = open_row.away + max(0.0, until - max(start, open_row.until))  # overlaps count once
            merged = open_row.kind if open_row.kind == kind else f"{ASLEEP}-{CLOSED}"
            # ...if it is still open: a window's read may have settled it since (read_open)
            joined = conn.execute(text("UPDATE wake_digests SET kind = :k, since = MIN(since, :s), until = MAX(until, :u), "
                                       "away = :a WHERE id = :id AND settled_at IS NULL"),
                                  {"k": merged, "s": start, "u": until, "a": away, "id": digest_id}).rowcount  # fmt: skip
        if not joined:
            digest_id = conn.execute(text(
                "INSERT INTO wake_digests (kind, since, until, away, created_at) VALUES (:k, :s, :u, :a, :c)"),
                {"k": kind, "s": start, "u": until, "a": until - start, "c": time.time()}).lastrowid  # fmt: skip
            created = True
        conn.execute(text(f"UPDATE runs SET digest_id = :d WHERE id IN ({_ids(row.id for row in rows)})"), {"d": digest_id})
    return int(digest_id), created, len(rows)


def read_open(engine: Engine, *, newest: int | None = None, job_id: str | None = None) -> Digest | None:
    """The open digest with its unchosen missed runs per job (by job name); None if there is
    none. A digest whose every row has a choice (or whose jobs were removed) is settled here.

    `newest`: each entry holds only its job's newest that many slots, its counts and times
    worked out by SQLite. A digest nobody chooses for stays open and grows with every close (100
    every-minute jobs: 6,000 slots a night); the window read every one of them at each reload, ~1
    million after a few days here: 140 MiB and seconds of a worker holding the GIL. `job_id`: that
    job's entry only (a choice needs no other)."""
    with engine.begin() as conn:
        head = conn.execute(text(
            "SELECT id, kind, since, until, away FROM wake_digests WHERE settled_at IS NULL ORDER BY id DESC LIMIT 1"
        )).first()  # fmt: skip
        if head is None:
            return None
        # INDEXED BY: SQLite's planner preferred (job_id, status) for `job_id IN (...)`, and walked
        # every missed row of every job (millions at 10 million runs: 2.5 s a query, not 0.07 s)
        where = ("digest_id = :d AND digest_choice IS NULL AND status = 'missed' AND job_id IN (SELECT id FROM job_definitions)"
                 + (" AND job_id = :j" if job_id is not None else ""))  # fmt: skip
        params = {"d": head.id, "j": job_id}
        by_job = _slots(conn, where, params, newest)
        if not by_job and job_id is not None:  # the digest, without an entry for that job
            return Digest(head.id, head.kind, _when(head.since), _when(head.until), head.away, ())
        if not by_job:  # settled, unless a seal added rows since (it reads, then writes)
            conn.execute(text(f"UPDATE wake_digests SET settled_at = :t WHERE id = :d AND NOT EXISTS "
                              f"(SELECT 1 FROM {_DIGEST_ROWS} WHERE {where})"), {**params, "t": time.time()})  # fmt: skip
            return None
        totals = _totals(conn, where, params)
        entries = []
        for job, (job_name, slots) in by_job.items():
            if job not in totals:  # chosen (or removed) between the two reads: the next read has it right
                continue
            rows, count, runnable, first, latest, first_id = totals[job]
            # The policy's own run for a later slot was written after the missed rows: the
            # (job_id, id) index bounds the search to rows newer than the job's first missed row.
            ran = conn.execute(text(
                "SELECT id FROM runs WHERE job_id = :j AND id > :first AND scheduled_at >= :s AND scheduled_at <= :u "
                "AND status NOT IN ('missed', 'skipped') ORDER BY scheduled_at DESC LIMIT 1"),
                {"j": job, "first": first_id, "s": latest, "u": head.until}).scalar()  # fmt: skip
            entries.append(DigestEntry(job, job_name, tuple(slots), ran, rows, count, runnable, _when(first), _when(latest)))
    entries.sort(key=lambda entry: (entry.job_name.casefold(), entry.job_id))
    return Digest(head.id, head.kind, _when(head.since), _when(head.until), head.away, tuple(entries))


_DIGEST_ROWS = "runs INDEXED BY ix_runs_digest_id"  # (see read_open)


def _slots(conn: Any, where: str, params: dict[str, Any], newest: int | None) -> dict[str, tuple[str, list[MissedSlot]]]:
    """Job id -> (its newest row's job name, its slots oldest first): all, or the newest `newest`."""
    columns = "id, job_id, job_name, scheduled_at, error"
    if newest is None:
        sql = f"SELECT {columns} FROM {_DIGEST_ROWS} WHERE {where} ORDER BY job_id, scheduled_at, id"
    else:
        sql = (f"SELECT {columns} FROM (SELECT {columns}, ROW_NUMBER() OVER (PARTITION BY job_id "
               f"ORDER BY scheduled_at DESC, id DESC) AS k FROM {_DIGEST_ROWS} WHERE {where}) WHERE k <= :newest "
               "ORDER BY job_id, scheduled_at, id")  # fmt: skip
    rows = conn.execute(text(sql), {**params, "newest": newest})
    # Streamed into slots as rows come: fetched all at once they were ~40 MiB of the window's
    # peak memory next to the slots (a full read of a large digest).
    by_job: dict[str, tuple[str, list[MissedSlot]]] = {}
    reasons: dict[str, str] = {}  # the same few reason texts, kept once
    for run_id, job, job_name, scheduled_at, error in every(rows):  # (jobs.gui_priority)
        reason = reasons.setdefault(error or "", error or "")
        slots = by_job.get(job)
        if slots is None:
            slots = (job_name, [])
        by_job[job] = (job_name, slots[1])  # the name of its newest row
        slots[1].append(MissedSlot(run_id, _when(scheduled_at), reason, summarised_count(error) or 1))
    return by_job


def _totals(conn: Any, where: str, params: dict[str, Any]) -> dict[str, tuple[int, int, int, float, float, int]]:
    """Job id -> (rows, slots they stand for, runnable rows, first and last slot, first row id),
    counted by SQLite; summary rows (jobs.misfire) are few and read to count what they stand for."""
    totals = {row[0]: list(row[1:]) for row in conn.execute(text(
        f"SELECT job_id, COUNT(*), COUNT(*), COUNT(*), MIN(scheduled_at), MAX(scheduled_at), MIN(id) FROM {_DIGEST_ROWS} "
        f"WHERE {where} GROUP BY job_id"), params)}  # fmt: skip
    summaries = f"SELECT job_id, error FROM {_DIGEST_ROWS} WHERE {where} AND error LIKE 'missed % runs from %'"
    for job, error in conn.execute(text(summaries), params):
        stands_for = summarised_count(error)
        if stands_for is not None and job in totals:
            totals[job][1] += stands_for - 1
            totals[job][2] -= 1
    return {job: (int(t[0]), int(t[1]), int(t[2]), float(t[3]), float(t[4]), int(t[5])) for job, t in totals.items()}


def claim(engine: Engine, digest_id: int, job_id: str, choice: str) -> list[MissedSlot]:
    """Record `choice` on the job's unchosen rows of the digest, atomically: rows another caller
    claimed first are not returned (so a slot is never run twice). Oldest first."""
    with engine.begin() as conn:
        rows = conn.execute(text(
            "UPDATE runs SET digest_choice = :c WHERE digest_id = :d AND job_id = :j AND digest_choice IS NULL "
            "AND status = 'missed' RETURNING id, scheduled_at, error"), {"c": choice, "d": digest_id, "j": job_id}).all()  # fmt: skip
    slots = [MissedSlot(row.id, _when(row.scheduled_at), row.error or "", summarised_count(row.error) or 1) for row in rows]
    return sorted(slots, key=lambda slot: (slot.scheduled_at, slot.run_id))


def release(engine: Engine, run_id: int) -> None:
    """Offer a claimed row again (its run could not start): the choice is taken back and its
    digest, if it was settled, opens again."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE wake_digests SET settled_at = NULL WHERE id = (SELECT digest_id FROM runs WHERE id = :id)"),
                     {"id": run_id})  # fmt: skip
        conn.execute(text("UPDATE runs SET digest_choice = NULL WHERE id = :id"), {"id": run_id})


def ran_already(engine: Engine, job_id: str, slot: datetime) -> int | None:
    """A run (not a missed or skipped row) of the job for exactly this slot, if there is one."""
    with engine.connect() as conn:
        found = conn.execute(text(
            "SELECT id FROM runs WHERE job_id = :j AND scheduled_at = :s AND status NOT IN ('missed', 'skipped') LIMIT 1"),
            {"j": job_id, "s": slot.timestamp()}).scalar()  # fmt: skip
    return None if found is None else int(found)


def note(engine: Engine, run_id: int, words: str) -> None:
    """Add what became of a missed row to its reason, where History and `history` show it."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE runs SET error = COALESCE(error, '') || :w WHERE id = :id"), {"w": f"; {words}", "id": run_id})


def mark_run(engine: Engine, run_id: int, digest_id: int, choice: str) -> None:
    """Say on a run started by a digest choice where it came from (its row exists by now)."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE runs SET digest_id = :d, digest_choice = :c WHERE id = :id"),
                     {"d": digest_id, "c": choice, "id": run_id})  # fmt: skip


def last_seen(engine: Engine) -> float | None:
    """When a scheduling Jobdesk was last known to run (its heartbeat), epoch seconds."""
    with engine.connect() as conn:
        value = conn.execute(text("SELECT value FROM jobdesk_meta WHERE key = 'last_seen'")).scalar()
    try:
        return None if value is None else float(value)
    except ValueError:
        return None


def save_last_seen(engine: Engine, when: float) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO jobdesk_meta (key, value) VALUES ('last_seen', :v) "
                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value"), {"v": repr(when)})  # fmt: skip


def slot_words(entry: DigestEntry) -> str:
    """'4 missed, 09:00 to 12:00 · a later slot ran (#45)'."""
    first, last = entry.first().astimezone(), entry.last().astimezone()
    fmt = "%a %d %b %H:%M" if first.date() != last.date() else "%H:%M"
    span = f"{first:{fmt}}" if entry.count == 1 else f"{first:{fmt}} to {last:{fmt}}"
    later = f" · a later slot ran (#{entry.ran_later})" if entry.ran_later is not None else ""
    return f"{entry.count} missed, {span}{later}"


def _when(epoch: float) -> datetime:
    moment = from_epoch(epoch)
    assert moment is not None
    return moment


def _ids(ids: Iterable[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)

