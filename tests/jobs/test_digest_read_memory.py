"""Reading an open wake-up digest at scale (jobs.digest_store.read_open): 200 jobs x 250
missed slots in a real SQLite file. Rows are streamed into slots, never all held at once."""

from __future__ import annotations

import tracemalloc

from sqlalchemy import text

from jobs import digest_store as store
from jobs.db import open_database
from jobs.paths import ensure_private_dir

JOBS, SLOTS = 200, 250
START = 1_790_000_000.0


def _seed(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO wake_digests (id, kind, since, until, away, created_at) "
                          "VALUES (1, 'closed', :s, :u, :a, :s)"), {"s": START, "u": START + 86400, "a": 86400.0})  # fmt: skip
        conn.execute(text("INSERT INTO job_definitions (id, name, paused, spec, created_at, updated_at) "
                          "VALUES (:id, :name, 0, '{}', 0, 0)"),
                     [{"id": f"job{j:04d}", "name": f"Job {j:04d}"} for j in range(JOBS)])  # fmt: skip
        conn.execute(text("INSERT INTO runs (job_id, job_name, cause, status, scheduled_at, queued_at, error, digest_id, "
                          "output_bytes, truncated, command, shell, env) "
                          "VALUES (:j, :n, 'scheduled', 'missed', :s, :s, :e, 1, 0, 0, '[]', 0, '{}')"),
                     [{"j": f"job{j:04d}", "n": f"Job {j:04d}", "s": START + 60 * k,
                       "e": "missed by 3h (grace 30m)" if k % 2 else "missed while closed"}
                      for j in range(JOBS) for k in range(SLOTS)])  # fmt: skip


def test_an_open_digest_of_50000_slots_reads_without_holding_every_row(data_dir):
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    try:
        _seed(engine)
        tracemalloc.start()
        try:
            digest = store.read_open(engine)
            kept, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        engine.dispose()
    assert digest is not None and len(digest.entries) == JOBS and digest.count == JOBS * SLOTS
    entry = digest.entries[0]
    assert entry.job_name == "Job 0000" and entry.first().timestamp() == START and entry.ran_later is None
    assert [slot.reason for slot in entry.slots[:2]] == ["missed while closed", "missed by 3h (grace 30m)"]
    # all rows fetched at once (SQLAlchemy rows, each value its own object) came on top of the
    # slots: the peak was ~2x what the digest keeps
    assert peak < kept * 1.3, (kept, peak)
    # slots: no instance dict per slot, the few reason texts kept once
    assert kept / (JOBS * SLOTS) < 200, kept / (JOBS * SLOTS)


def test_the_window_s_read_holds_the_newest_slots_and_the_same_counts_as_a_full_read(data_dir):
    """`newest=`: what the card shows (counts, first and last slot, the tooltip's newest slots)
    equals the full read's, summary rows counted for what they stand for, without holding every
    slot: a digest nobody chooses for grows with every close."""
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    try:
        _seed(engine)
        with engine.begin() as conn:  # a summary row (jobs.misfire) of job0001, after its slots
            conn.execute(text("INSERT INTO runs (job_id, job_name, cause, status, scheduled_at, queued_at, error, "
                              "digest_id, output_bytes, truncated, command, shell, env) VALUES ('job0001', 'Job 0001', "
                              "'scheduled', 'missed', :s, :s, :e, 1, 0, 0, '[]', 0, '{}')"),
                         {"s": START + 60 * SLOTS, "e": "missed 1,234 runs from 2026-09-21T10:00+00:00 to ..."})  # fmt: skip
        full = store.read_open(engine)
        tracemalloc.start()
        try:
            brief = store.read_open(engine, newest=12)
            kept, _peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        one = store.read_open(engine, newest=1, job_id="job0001")
    finally:
        engine.dispose()
    assert full is not None and brief is not None and one is not None
    assert brief.count == full.count == JOBS * SLOTS + 1234 and brief.headline() == full.headline()
    for whole, part in zip(full.entries, brief.entries, strict=True):
        assert (part.job_id, part.job_name, part.ran_later, part.rows, part.count, part.runnable_count,
                part.first(), part.last()) == (whole.job_id, whole.job_name, whole.ran_later, whole.rows, whole.count,
                                               whole.runnable_count, whole.first(), whole.last())  # fmt: skip
        assert part.slots == whole.slots[-12:]
    summed = brief.entry("job0001")
    assert summed is not None and (summed.rows, summed.count, summed.runnable_count) == (SLOTS + 1, SLOTS + 1234, SLOTS)
    assert [entry.job_id for entry in one.entries] == ["job0001"] and one.entries[0].count == SLOTS + 1234
    assert kept < 200 * JOBS * 12 * 2, kept  # the newest slots, not 50,000 of them (~100 B each)


def test_a_seal_never_joins_a_digest_settled_meanwhile(data_dir):
    """`seal` reads the open digest, then writes; a window's `read_open` may settle it in between
    (it found no unchosen row). The new rows then open a digest of their own, never a settled one."""
    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    try:
        _seed(engine)
        floor = store.max_run_id(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO runs (job_id, job_name, cause, status, scheduled_at, queued_at, error, "
                              "output_bytes, truncated, command, shell, env) VALUES ('job0000', 'Job 0000', 'scheduled', "
                              "'missed', :s, :s, 'missed while closed', 0, 0, '[]', 0, '{}')"),
                         [{"s": START + 90_000 + k} for k in range(2)])  # fmt: skip
        real_text = store.seal.__globals__["text"]

        def settle_between(sql, *args, **kwargs):  # the window's settle lands just after seal read the open digest
            if "UPDATE wake_digests SET kind" in str(sql):
                with engine.begin() as other:
                    other.execute(real_text("UPDATE wake_digests SET settled_at = 1 WHERE id = 1"))
            return real_text(sql, *args, **kwargs)

        store.seal.__globals__["text"] = settle_between
        try:
            sealed = store.seal(engine, store.CLOSED, None, START + 100_000, floor)
        finally:
            store.seal.__globals__["text"] = real_text
        assert sealed is not None and sealed[0] != 1 and sealed[1] and sealed[2] == 2
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM runs WHERE digest_id = 1 AND id > :f"), {"f": floor}).scalar() == 0
    finally:
        engine.dispose()
