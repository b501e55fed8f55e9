"""A job's missed slots written as history rows: all of them in one transaction.

After Jobdesk was closed a while, or the computer slept, each job may have up to
`jobs.misfire.MAX_MISSED_ROWS` missed slots. Written one transaction a row (4-15 ms each at 10
million runs) a scheduler pass on the GUI thread froze the window ~1 s, and the start-up
catch-up on worker threads took SQLite's write lock once a row (~8,000 times at 10,000 jobs).
Now: one insert for the job's rows, then one `runs_recorded` event with all of them in slot
order (one a row flooded the window's event queue: ~4,000 after a 40-minute close at 10,000
jobs, each delivered twice, froze it 500-700 ms at a time), and one WARNING a job instead of one
a slot (a 10-hour closure wrote 6,000 of them).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from jobs.history import HistoryRepository
from jobs.misfire import summarised_count
from jobs.model import JobSpec, RunCause, RunRecord, RunStatus

log = logging.getLogger(__name__)


def record_missed(history: HistoryRepository, job: JobSpec, missed: list[tuple[datetime, str]],
                  announce: Callable[[list[RunRecord]], None]) -> list[RunRecord]:  # fmt: skip
    """Write `missed` (slot, reason) as `missed` rows, all or none, and `announce` their records.
    A refused write is logged, not raised: the scheduler pass (and the catch-up runs of the same
    plan) go on, as a run does whose row could not be written (jobs.dispatcher)."""
    if not missed:
        return []
    if log.isEnabledFor(logging.DEBUG):
        for when, reason in missed:
            log.debug("job %s: run due %s %s", job.id, when.isoformat(), reason)
    first, last = missed[0][0].isoformat(), missed[-1][0].isoformat()
    try:
        records = history.create_many((job, RunCause.SCHEDULED, RunStatus.MISSED, when, why) for when, why in missed)
    except Exception:
        log.exception("job %s: the %d missed run(s) due %s to %s could not be recorded; none was",
                      job.id, len(missed), first, last)  # fmt: skip
        return []
    summary = missed[-1][1] if summarised_count(missed[-1][1]) is not None else missed[0][1]
    log.warning("job %s: %d missed run(s) recorded (#%d-#%d), due %s to %s: %s",
                job.id, len(records), records[0].id, records[-1].id, first, last, summary)  # fmt: skip
    announce(records)
    return records
