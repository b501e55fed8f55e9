"""The one permanent function every APScheduler job points at.

APScheduler pickles a reference to the job's function; if that reference ever stops resolving,
it deletes the rows (NOTES item 8). So all jobs name this function, with the definition id as
the only argument, and this module must never move. Jobdesk's own executor
(`jobs.scheduler.DispatchExecutor`) hands due jobs to the dispatcher without calling it; it
exists so the reference resolves, and runs the job through the active service if it is called.
"""

from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger(__name__)

FUNC_REF = "jobs.entry:fire"
_handler: Callable[[str], None] | None = None


def set_handler(handler: Callable[[str], None] | None) -> None:
    global _handler
    _handler = handler


def fire(job_id: str) -> None:
    if _handler is None:
        log.warning("job %s fired with no Jobdesk service running; ignored", job_id)
        return
    _handler(job_id)
