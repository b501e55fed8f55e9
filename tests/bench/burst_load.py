"""The load of the responsiveness check, shared by the test (a hang guard) and the benchmark
(stall numbers): 100 short runs started one per event-loop turn while one run prints 50 MiB, with
the History tab showing the big run's live output. A 10 ms heartbeat on the GUI thread records
when it fires; the gaps between beats are how long the window was frozen.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer

from jobs import triggers
from jobs.model import CronSpec, JobSpec, Notify

BURST = 100
BIG_OUTPUT = "import sys; [sys.stdout.write('x'*1023+'\\n') for _ in range(51200)]"  # 50 MiB
SHORT = "pass"
WaitUntil = Callable[[Callable[[], bool], int], None]


class Heartbeat:
    """A precise 10 ms timer on the GUI thread; `gaps_ms()` are the times between its beats."""

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
        self.cpu_s = -time.thread_time()  # the GUI thread's own CPU time: steadier than stalls on a busy machine
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.beats.append(time.perf_counter())
        self.cpu_s += time.thread_time()

    def gaps_ms(self) -> list[float]:
        return [(b - a) * 1000 for a, b in zip(self.beats, self.beats[1:])]


@dataclass(frozen=True)
class Stalls:
    worst_ms: float
    p99_ms: float
    p95_ms: float
    median_ms: float
    beats: int
    seconds: float

    @classmethod
    def of(cls, gaps: list[float]) -> Stalls:
        ordered = sorted(gaps)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

        return cls(ordered[-1], pct(99), pct(95), statistics.median(ordered), len(gaps), sum(gaps) / 1000)


@dataclass
class BurstResult:
    stalls: Stalls
    big_run: int
    run_ids: list[int]
    output_blocks: int
    beats: list[float]  # the heartbeat's times (tests/bench/stall_sampler.py attributes its gaps)
    gui_cpu_s: float  # CPU time of the GUI thread from the heartbeat's start to its stop


def burst_jobs(tz: str | None = None) -> tuple[JobSpec, list[JobSpec]]:
    zone = tz or triggers.local_timezone_name()
    big = JobSpec(name="Chatty job", command=(sys.executable, "-c", BIG_OUTPUT), trigger=CronSpec("0 3 * * *", zone),
                  notify=Notify.NEVER)  # fmt: skip
    short = [JobSpec(name=f"Short job {n:03d}", command=(sys.executable, "-c", SHORT),
                     trigger=CronSpec("0 3 * * *", zone), notify=Notify.NEVER) for n in range(BURST)]  # fmt: skip
    return big, short


def run_burst(window: Any, wait_until: WaitUntil, *, settle_ms: int = 300,
              short_ids: list[str] | None = None) -> BurstResult:
    """Drive the burst on a shown `window` (a MainWindow over a started service): the short runs
    are of `short_ids` (jobs already there, e.g. 100 of 10,000) or of 100 new jobs."""
    service = window.service
    big, short = burst_jobs()
    before = window.jobs_model.rowCount()
    saved = service.import_jobs([big] if short_ids else [big, *short])
    wait_until(lambda: window.jobs_model.rowCount() == before + len(saved), 60_000)
    big_id = saved[0].id
    short_ids = short_ids or [spec.id for spec in saved[1:]]
    window.tabs.setCurrentWidget(window.history)

    finished: set[int] = set()
    # On the emitting thread: the harness adds no queued call of its own to the GUI thread's work
    service.events.run_finished.connect(lambda record: finished.add(record.id), Qt.ConnectionType.DirectConnection)
    heartbeat = Heartbeat()
    heartbeat.start()
    big_run = service.run_now(big_id)
    wait_until(lambda: window.history.model.row_of(big_run) is not None, 5000)
    window.history.show_run(big_run)
    output = window.history.output.view
    wait_until(lambda: output.document().blockCount() > 100, 10_000)  # live output shows

    # One run_now per event-loop turn, as clicks or scheduler wake-ups would come.
    pending = list(short_ids)
    run_ids: list[int] = []

    def submit_next() -> None:
        if pending:
            run_id = service.run_now(pending.pop(0))
            if run_id is not None:
                run_ids.append(run_id)
            QTimer.singleShot(0, submit_next)

    QTimer.singleShot(0, submit_next)
    wait_until(lambda: not pending and set(run_ids) | {big_run} <= finished, 120_000)
    end = time.perf_counter() + settle_ms / 1000  # the debounced reloads after the last event
    wait_until(lambda: time.perf_counter() >= end, settle_ms + 1000)
    heartbeat.stop()
    return BurstResult(Stalls.of(heartbeat.gaps_ms()), big_run, run_ids, output.document().blockCount(),
                       heartbeat.beats, heartbeat.cpu_s)
