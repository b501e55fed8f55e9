"""Which finished runs are worth telling someone about: one rule for the desktop notification,
the e-mail and the webhook.

The job's `notify` policy decides: never; on failure (failed, timed out, killed, interrupted,
and a run that waited past its conditions' deadline); always (every run that ended). A slot
missed while Jobdesk was closed and a skipped overlap are history rows, not alarms.
"""

from __future__ import annotations

from jobs.model import Notify, RunRecord, RunStatus


def is_final_outcome(record: RunRecord) -> bool:
    """Whether `record` is its run's last word. An attempt followed by a retry (jobs.retries
    writes the retry's row, and names it in `retried_by`, before the attempt's end is
    announced) is not: only the final attempt's end is, so a failure a retry fixed is no alarm."""
    return record.status.is_final and record.retried_by is None


def is_alarm(record: RunRecord) -> bool:
    """A failure, or a run that never started because its conditions never held."""
    return record.status.is_failure or (record.status is RunStatus.MISSED and record.waiting_for is not None)


def wants_notice(record: RunRecord, policy: Notify) -> bool:
    """The job's `policy` applied to `record` (any channel)."""
    if not is_final_outcome(record) or policy is Notify.NEVER:
        return False
    if record.status is RunStatus.SKIPPED or (record.status is RunStatus.MISSED and record.waiting_for is None):
        return False
    return policy is Notify.ALWAYS or is_alarm(record)
