"""Carry out a choice from the wake-up digest: run the latest missed slot, run all of them, or skip.

The same code serves the window's card and `jobdesk missed run-latest|run-all|skip JOB`. The
choice is claimed on the missed rows first (jobs.digest_store.claim, atomic), so two clicks, or a
click and a command, never run a slot twice; a slot that some run already covers is not run
again either. Runs of one choice go one after another, each after the job's previous run ended,
so "run all" under the `skip` overlap policy runs every slot instead of skipping all but one.
In a scheduling instance they go on a worker thread (the caller returns at once); the command
line with no instance runs them in the foreground, like `jobdesk run`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from jobs import digest_store as store
from jobs.digest_store import CHOICES, MissedSlot
from jobs.model import JobSpec, RunCause, RunStatus
from jobs.service import JobService

log = logging.getLogger(__name__)

NOT_RUN = {
    "run-latest": "not run: only the latest missed run was run (wake-up digest)",
    "run-all": "not run: slots summed up in one row are not run one by one (wake-up digest)",
    "skip": "not run: skipped in the wake-up digest",
}


class DigestChoiceError(ValueError):
    """A choice that cannot be made; the message says why and what to do instead."""


@dataclass(frozen=True)
class ChoiceResult:
    digest_id: int
    job_id: str
    job_name: str
    choice: str
    slots: tuple[datetime, ...]  # the slots that run (or ran), oldest first
    left_missed: int  # slots that stay missed
    run_ids: tuple[int, ...]  # runs that ran here (no instance); empty when an instance runs them


def choose(service: JobService, job_id: str, choice: str, digest_id: int | None = None) -> ChoiceResult:
    """Record `choice` for the job's missed runs in the open digest and start what it asks."""
    if choice not in CHOICES:
        raise DigestChoiceError(f"{choice!r} is not one of: {', '.join(CHOICES)}")
    digest = store.read_open(service.engine, newest=1, job_id=job_id)  # the counts; `claim` reads the rows
    if digest is None or (digest_id is not None and digest.id != digest_id):
        raise DigestChoiceError("no missed runs wait for a choice (jobdesk missed lists them)")
    entry = digest.entry(job_id)
    if entry is None:
        raise DigestChoiceError(f"job {job_id}: no missed runs of it wait for a choice (jobdesk missed lists them)")
    if choice == "run-latest" and not entry.can_run_latest:
        why = (f"a later slot already ran as run #{entry.ran_later}" if entry.ran_later is not None
               else "its missed runs are summed up in one row")  # fmt: skip
        raise DigestChoiceError(f"job {job_id} ({entry.job_name}): {why}; choose run-all or skip")
    spec = service.jobs.get(job_id)  # before claiming: a job removed meanwhile keeps its rows unclaimed
    slots = store.claim(service.engine, digest.id, job_id, choice)
    if not slots:
        raise DigestChoiceError(f"job {job_id} ({entry.job_name}): its missed runs were just chosen for elsewhere")
    runnable = [slot for slot in slots if slot.runnable]
    to_run = runnable[-1:] if choice == "run-latest" else runnable if choice == "run-all" else []
    for slot in slots:
        if slot not in to_run:
            store.note(service.engine, slot.run_id, NOT_RUN[choice])
    log.info("job %s: wake-up digest #%d: %s (%d to run, %d stay missed)",
             job_id, digest.id, choice, len(to_run), len(slots) - len(to_run))  # fmt: skip
    run_ids: list[int] = []
    if to_run and service.scheduling:
        threading.Thread(target=_run_in_order, args=(service, spec, digest.id, choice, to_run),
                         name=f"digest-{job_id}", daemon=True).start()  # fmt: skip
    elif to_run:
        run_ids = _run_in_order(service, spec, digest.id, choice, to_run)
    if service.scheduling:
        service.events.digest_changed.emit(digest.id, False)
    return ChoiceResult(digest.id, job_id, entry.job_name, choice, tuple(slot.scheduled_at for slot in to_run),
                        len(slots) - len(to_run), tuple(run_ids))  # fmt: skip


def _run_in_order(service: JobService, spec: JobSpec, digest_id: int, choice: str, slots: list[MissedSlot]) -> list[int]:
    """Run each slot after the previous run of the job ended; say on each missed row what became of it."""
    engine, ran = service.engine, []
    for slot in slots:
        try:
            earlier = store.ran_already(engine, spec.id, slot.scheduled_at)
            if earlier is not None:
                store.note(engine, slot.run_id, f"not run again: it ran as run #{earlier}")
                continue
            _wait_for_job(service, spec.id)
            run_id = service.dispatcher.submit(spec, RunCause.CATCH_UP, slot.scheduled_at)
            if run_id is None:  # not lost: the digest offers it again (now, or at the next start)
                store.note(engine, slot.run_id, "could not start from the wake-up digest (Jobdesk was stopping or "
                                                "the job's overlap policy skipped it); offered again")  # fmt: skip
                store.release(engine, slot.run_id)
                continue
            store.note(engine, slot.run_id, f"run from the wake-up digest as run #{run_id}")
            service.dispatcher.wait(run_id)
            store.mark_run(engine, run_id, digest_id, choice)
            ran.append(run_id)
        except Exception as exc:  # e.g. the database turned out damaged: say so on the row
            log.exception("job %s: could not run slot %s from the wake-up digest", spec.id, slot.scheduled_at)
            try:
                store.note(engine, slot.run_id, f"could not start from the wake-up digest: {exc}; offered again")
                store.release(engine, slot.run_id)
            except Exception:
                log.exception("cannot note it either")
    return ran


def _wait_for_job(service: JobService, job_id: str) -> None:
    """Until the job's running or queued runs have ended (a run waiting for a condition is left
    to the dispatcher: its overlap policy decides)."""
    for run_id in service.dispatcher.active_runs():
        record = service.history.get(run_id)
        if record is not None and record.job_id == job_id and record.status in (RunStatus.RUNNING, RunStatus.QUEUED):
            service.dispatcher.wait(run_id)
