"""The "after" trigger (run after other jobs) as data: its checks, its words, which runs count.

Kept apart from jobs.chains (which follows runs as they end) so the trigger layer (words,
dicts, validation) needs neither history nor the dispatcher.
"""

from __future__ import annotations

from collections.abc import Mapping

from jobs.cron import TriggerError, join_words
from jobs.model import AFTER_STATUSES, AfterSpec, RunRecord, RunStatus

_STATUS_WORDS = {"success": "success", "failure": "failure", "any": "any outcome"}


def check_after(spec: AfterSpec) -> None:
    """Raise TriggerError for an after-trigger that names no job or an unknown status (whether
    the jobs exist is for jobs.chains: it needs the store)."""
    if not isinstance(spec.jobs, tuple) or not spec.jobs:
        raise TriggerError("jobs", "name at least one job to run after")
    for job_id in spec.jobs:
        if not isinstance(job_id, str) or not job_id.strip():
            raise TriggerError("jobs", f"expected job ids, got {job_id!r}")
    if len(set(spec.jobs)) != len(spec.jobs):
        raise TriggerError("jobs", "names a job twice")
    if spec.status not in AFTER_STATUSES:
        raise TriggerError("status", f"{spec.status!r} is not one of: {', '.join(AFTER_STATUSES)}")


def after_words(spec: AfterSpec, names: Mapping[str, str] | None = None) -> str:
    """"After Backup (success)", "After Backup and Sync (any outcome)". Without `names` the
    jobs are shown by id; a job `names` does not know was removed."""
    shown = [job_id if names is None else names.get(job_id, f"a removed job ({job_id})") for job_id in spec.jobs]
    return f"After {join_words(shown)} ({_STATUS_WORDS.get(spec.status, spec.status)})"


def counts_for(status: str, record: RunRecord) -> bool:
    """Whether a finished upstream run ended the way an after-trigger with `status` waits for.

    Runs that never ran (missed, skipped) count for nothing."""
    if record.status is RunStatus.SUCCEEDED:
        return status in ("success", "any")
    if record.status.is_failure:
        return status in ("failure", "any")
    return False
