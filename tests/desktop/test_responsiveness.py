"""The window keeps working while 100 runs start and end in a burst and one run prints 50 MiB.

A functional check with a hang guard: every run is recorded, the viewer shows the live output
within its line cap, and the GUI thread never freezes for a whole second. How short its stalls
are is a speed goal, measured against a bare window in `tests/bench/bench_responsiveness.py`.
"""

from __future__ import annotations

import gc
import os

import pytest

from desktop.app import freeze_alive
from jobs.model import RunStatus
from tests.bench.burst_load import BURST, run_burst

pytestmark = pytest.mark.slow

HANG_MS = 1000


@pytest.fixture
def frozen_startup():
    """As `run_window` does once the window is up (see `freeze_alive`)."""
    freeze_alive()
    yield
    gc.unfreeze()


def test_burst_and_big_output_keep_the_window_working(window, frozen_startup, qtbot, capsys):
    service = window.service
    assert service.settings.max_concurrent == max(1, min(4, os.cpu_count() or 1))  # the default
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)

    result = run_burst(window, lambda condition, timeout: qtbot.waitUntil(condition, timeout=timeout))

    with capsys.disabled():
        print(f"\nresponsiveness: worst GUI stall {result.stalls.worst_ms:.0f} ms, p99 {result.stalls.p99_ms:.0f} ms "
              f"over {result.stalls.beats} heartbeats (speed: python -m tests.bench.bench_responsiveness)")  # fmt: skip
    assert len(result.run_ids) == BURST
    statuses = {service.get_run(run_id).status for run_id in result.run_ids}
    assert statuses == {RunStatus.SUCCEEDED}
    big = service.get_run(result.big_run)
    assert big.status is RunStatus.SUCCEEDED and big.output_bytes >= 50 * 2**20
    assert 100 < result.output_blocks <= 5001  # live output shown, within the viewer's cap
    assert window.history.model.row_of(result.run_ids[-1]) is not None  # the table followed
    assert result.stalls.worst_ms < HANG_MS, f"the window froze for {result.stalls.worst_ms:.0f} ms"
