"""The Jobs table's usual durations and strips (desktop.joblist.run_shapes): read a chunk of
jobs at a time and kept packed (desktop.joblist.packed_bars), they are what the core's
one-statement reads give for all jobs at once; only jobs whose runs changed are read again."""

from __future__ import annotations

import math

from desktop.joblist.packed_bars import bar_count, pack_bars, unpack_bars
from desktop.joblist.run_shapes import RunShapes
from jobs.model import RunStatus
from jobs.run_stats import RunBar, duration_stats, recent_runs
from tests.jobs.test_run_stats import seed, spec, store  # noqa: F401 (store is a fixture)


def test_chunked_packed_reads_match_the_core_reads(store):  # noqa: F811
    engine, history = store
    jobs = [spec(name) for name in "abcde"]
    for index, job in enumerate(jobs):
        seed(history, job, [float(10 * index + s) for s in range(1, 25)])  # more than a strip holds
        seed(history, job, [3.0], RunStatus.FAILED)
    ids = [job.id for job in jobs] + ["never-ran"]
    shapes = RunShapes(chunk=2)  # durations: three reads of two jobs
    durations, strips = shapes.load(engine, ids)
    assert durations == duration_stats(engine, ids)
    assert {job_id: unpack_bars(packed) for job_id, packed in strips.items()} == recent_runs(engine, ids)
    assert set(strips) == set("abcde") and all(bar_count(packed) == 20 for packed in strips.values())
    # a run of "c" ended: only "c" is read again, the rest is what was kept
    seed(history, jobs[2], [500.0])
    shapes.mark_changed("c")
    durations, strips = shapes.load(engine, ids)
    assert unpack_bars(strips["c"])[-1].duration == 500.0 and durations == duration_stats(engine, ids)


def test_a_packed_strip_gives_back_every_field():
    bars = (RunBar(1, RunStatus.SUCCEEDED, 1_700_000_000.25, 12.5, None),
            RunBar(2**40, RunStatus.FAILED, 1_700_000_100.0, 0.0, "long"),
            RunBar(3, RunStatus.RUNNING, 1_700_000_200.0, None, "short"),
            RunBar(4, RunStatus.KILLED, None, None, None))  # fmt: skip
    packed = pack_bars(bars)
    assert unpack_bars(packed) == bars and bar_count(packed) == 4
    assert len(packed) == 26 * 4  # what 20 runs x 10,000 jobs cost: ~5 MiB (as tuples ~30 MiB)
    assert unpack_bars(b"") == () and not math.isnan(unpack_bars(packed)[0].started_at or 0.0)
