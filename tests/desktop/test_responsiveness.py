"""The GUI thread keeps up while 100 runs start and end in a burst and one run prints 50 MB.

A 10 ms QTimer heartbeat on the GUI thread records when it fires; the worst gap between two
beats is how long the window was frozen. The product issue asks for under 100 ms; the bound is
generous for a 10 ms beat, and the worst stall is printed so it shows in the log (`-s`/`-rA`).
"""

from __future__ import annotations

import gc
import os
import sys
import time

import pytest
from PySide6.QtCore import Qt, QTimer

from desktop.app import freeze_startup_objects
from jobs import triggers
from jobs.model import CronSpec, JobSpec, Notify

pytestmark = pytest.mark.slow

TZ = triggers.local_timezone_name()
BURST = 100
BIG_OUTPUT = "import sys; [sys.stdout.write('x'*1023+'\\n') for _ in range(51200)]"  # 50 MiB
STALL_LIMIT_MS = 100


class Heartbeat:
    def __init__(self, interval_ms: int = 10) -> None:
        self.beats: list[float] = []
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        self.beats.append(time.perf_counter())

    def start(self) -> None:
        self.beats = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.beats.append(time.perf_counter())

    def worst_gap_ms(self) -> tuple[float, int]:
        gaps = [b - a for a, b in zip(self.beats, self.beats[1:])]
        return max(gaps) * 1000, len(gaps)


@pytest.fixture
def frozen_startup():
    """As `run_window` does once the window is up (see `freeze_startup_objects`)."""
    freeze_startup_objects()
    yield
    gc.unfreeze()


def test_burst_and_big_output_keep_the_window_responsive(window, frozen_startup, qtbot, capsys):
    service = window.service
    # Runs at once, from the settings: as many as the machine has cores (at most 4). With more
    # child processes than cores the OS deschedules the GUI process itself: measured on 2
    # cores, 4 at once gave 60-140 ms stalls, 2 gave 20-38 ms, whatever the window does.
    assert service.settings.max_concurrent == max(1, min(4, os.cpu_count() or 1))  # the default
    short = [JobSpec(name=f"Short job {n:03d}", command=(sys.executable, "-c", "pass"),
                     trigger=CronSpec("0 3 * * *", TZ), notify=Notify.NEVER) for n in range(BURST)]  # fmt: skip
    big = JobSpec(name="Chatty job", command=(sys.executable, "-c", BIG_OUTPUT), trigger=CronSpec("0 3 * * *", TZ),
                  notify=Notify.NEVER)  # fmt: skip
    saved = service.import_jobs([big, *short])
    qtbot.waitUntil(lambda: window.jobs_model.rowCount() == BURST + 1, timeout=10_000)
    big_id, short_ids = saved[0].id, [spec.id for spec in saved[1:]]
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.tabs.setCurrentWidget(window.history)

    finished: set[int] = set()
    service.events.run_finished.connect(lambda record: finished.add(record.id))
    heartbeat = Heartbeat()
    heartbeat.start()
    big_run = service.run_now(big_id)
    qtbot.waitUntil(lambda: window.history.model.row_of(big_run) is not None, timeout=5000)
    assert window.history.show_run(big_run)
    output = window.findChild(object, "runOutput")
    qtbot.waitUntil(lambda: output.document().blockCount() > 100, timeout=10_000)  # live output shows

    # The burst: one run_now per event-loop turn, as clicks or scheduler wake-ups would come.
    pending = list(short_ids)
    run_ids: list[int] = []

    def submit_next() -> None:
        if pending:
            run_id = service.run_now(pending.pop(0))
            assert run_id is not None
            run_ids.append(run_id)
            QTimer.singleShot(0, submit_next)

    QTimer.singleShot(0, submit_next)
    qtbot.waitUntil(lambda: len(run_ids) == BURST and set(run_ids) | {big_run} <= finished, timeout=90_000)
    qtbot.wait(300)  # the debounced reloads after the last event
    heartbeat.stop()

    worst, beats = heartbeat.worst_gap_ms()
    record = service.history.get(big_run)
    with capsys.disabled():
        print(f"\nresponsiveness: worst GUI stall {worst:.1f} ms over {beats} heartbeats; "
              f"{BURST} runs (max_concurrent={service.settings.max_concurrent}, {os.cpu_count()} cores) + "
              f"{record.output_bytes / 2**20:.0f} MiB of output")  # fmt: skip
    assert record.output_bytes >= 50 * 2**20
    assert output.document().blockCount() <= 5001  # the viewer's cap, not 51,200 lines
    assert worst < STALL_LIMIT_MS, f"the GUI thread stalled for {worst:.1f} ms"
