"""Where runs are carried out: the `Runner` protocol (base.py) and its implementations.

- `LocalRunner` (local.py): a process on this computer, in its own session, tree killed on
  timeout or stop.
- `CeleryRunner` (celery_runner.py): a `jobdesk worker` of the job's pool on another machine,
  through a Celery broker (jobs.remote); imported only when a job runs there.

To run jobs somewhere else (another machine, a queue of workers), add a module here with a class
that implements `Runner`: start a run from a frozen `RunRequest`, report it through the
`RunListener`, stop it on `cancel`, and find it again after a restart with the handle it gave
in `RunStarted`. The dispatcher, history and the window need no change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jobs.runners.base import Execution, RunHandle, RunListener, Runner, RunnerUnavailable, RunStarted, Stream

if TYPE_CHECKING:
    from jobs.runners.local import LocalRunner


def __getattr__(name: str) -> Any:
    # Loaded when asked for: history and read-only commands import the protocol (base.py)
    # and must not pay for psutil and the process code (issue 10).
    if name == "LocalRunner":
        from jobs.runners.local import LocalRunner

        return LocalRunner
    raise AttributeError(name)


__all__ = ["Execution", "LocalRunner", "RunHandle", "RunListener", "RunStarted", "Runner", "RunnerUnavailable", "Stream"]
