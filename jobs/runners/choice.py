"""Which runner carries out a run: this computer's, or the remote one for a job with `runs_on`.

The remote runner is made on first use by a factory the service gives (jobs.service): a user
without a broker never imports Celery, and a run on a pool without a broker fails with
`RunnerUnavailable` saying how to set one. When the broker changes, new runs get a new remote
runner while the old one keeps following the runs it has until shutdown.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from typing import Callable

from jobs.model import JobSpec
from jobs.runners.base import Runner, RunnerUnavailable

log = logging.getLogger(__name__)

NO_BROKER = "no broker configured: set one with `jobdesk config broker redis://:PASSWORD@host:6379/0`"

NO_CELERY = 'Celery is not installed here: pip install "jobdesk[worker]" (needed to send runs to workers)'


def celery_runner(broker_url: str | None, output_interval: float) -> Runner:
    """The runner of jobs with `runs_on` (Celery is imported here, on first use)."""
    if not broker_url:
        raise RunnerUnavailable(NO_BROKER)
    if importlib.util.find_spec("celery") is None or importlib.util.find_spec("redis") is None:
        raise RunnerUnavailable(NO_CELERY)
    from jobs.runners.celery_runner import CeleryRunner

    return CeleryRunner(broker_url, output_interval=output_interval)


class RemoteRunners:
    def __init__(self) -> None:
        self.factory: Callable[[], Runner] | None = None  # raises RunnerUnavailable when none can be had
        self._lock = threading.Lock()
        self._current: Runner | None = None
        self._retired: list[Runner] = []

    def for_job(self, job: JobSpec, local: Runner) -> Runner:
        return self.current() if job.runs_on else local

    def current(self) -> Runner:
        with self._lock:
            if self._current is None:
                if self.factory is None:
                    raise RunnerUnavailable(NO_BROKER)
                self._current = self.factory()
            return self._current

    def named(self, name: str | None, local: Runner) -> Runner | None:
        """The runner a stored run names (its row's `runner`), None when none here knows it."""
        if name == local.name:
            return local
        if name is None or self.factory is None:
            return None
        try:
            remote = self.current()
        except RunnerUnavailable as exc:
            log.warning("cannot follow %s runs: %s", name, exc)
            return None
        return remote if remote.name == name else None

    def replace(self) -> None:
        with self._lock:
            if self._current is not None:
                self._retired.append(self._current)
            self._current = None

    def close(self) -> None:
        with self._lock:
            runners = [*self._retired, *([self._current] if self._current is not None else [])]
        for runner in runners:
            runner.close()
