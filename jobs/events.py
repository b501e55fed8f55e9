"""Thread-safe events from the core to whoever listens (the window, `serve`, tests).

`JobEvents` is a QObject created on the GUI (main) thread. The dispatcher and the scheduler emit
its signals from any thread; receivers that live on the GUI thread get them through Qt's queued
connections, so no widget is ever touched from a worker (NOTES item 7). Payloads are frozen
dataclasses, safe to share.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal


@dataclass(frozen=True)
class OutputChunk:
    run_id: int
    job_id: str
    text: str
    stream: str = "stdout"  # or "stderr": show it apart


class JobEvents(QObject):
    """Signals (all past tense):

    run_queued(RunRecord): a run is waiting for a free slot.
    run_waiting(RunRecord): a run is waiting for a condition of its job (status "waiting"; its
        `waiting_for` says what for, "AC power"), or what it waits for changed.
    run_started(RunRecord): its process started.
    run_output(OutputChunk): a batch of its output (about every 100 ms while it writes), one
        chunk per stretch of stdout or stderr.
    run_finished(RunRecord): it ended (succeeded, failed, timed out, killed, interrupted).
    run_recorded(RunRecord): a row that never ran: missed or skipped.
    runs_recorded(tuple[RunRecord, ...]): one job's missed rows written together (jobs.missed_rows),
        oldest first: one delivery, not one a row (a catch-up writes thousands).
    run_alerted(RunRecord): the run's e-mail/webhook deliveries changed (its `alerts`).
    run_slow(RunRecord): a run was marked longer ("long", while it runs) or much shorter
        ("short", after it succeeded) than its job usually takes (its `slow`; jobs.slow_runs).
    jobs_changed(tuple[str, ...]): definitions or next run times changed (empty tuple: all).
    database_damaged(str): the background check found the database damaged (the message says
        which file and how to recover); no new run starts from then on.
    digest_changed(int, bool): wake-up digest `id` opened (True: new, notify) or grew, or a
        choice was made in it (False) (jobs.wake_digest).
    """

    run_queued = Signal(object)
    run_waiting = Signal(object)
    run_started = Signal(object)
    run_output = Signal(object)
    run_finished = Signal(object)
    run_recorded = Signal(object)
    runs_recorded = Signal(object)
    run_alerted = Signal(object)
    run_slow = Signal(object)
    jobs_changed = Signal(object)
    database_damaged = Signal(str)
    digest_changed = Signal(int, bool)
