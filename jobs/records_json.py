"""A run as JSON: what `history --json` prints, `run --wait --json` answers and a webhook posts.

One shape for all three (documented in the README; it only ever gains keys). Times are ISO 8601
with this machine's offset.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from jobs.model import RunRecord


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone().isoformat(timespec="seconds")


def run_json(run: RunRecord) -> dict[str, Any]:
    return {
        "id": run.id,
        "job_id": run.job_id,
        "job_name": run.job_name,
        "cause": run.cause.value,
        "status": run.status.value,
        "scheduled_at": iso(run.scheduled_at),
        "started_at": iso(run.started_at),
        "ended_at": iso(run.ended_at),
        "duration": run.duration,
        "exit_code": run.exit_code,
        "error": run.error,
        "log_path": str(run.log_path) if run.log_path else None,
        "output_bytes": run.output_bytes,
        "truncated": run.truncated,
        "command": list(run.command),
        "shell": run.shell,
        "cwd": run.cwd,
        "env": dict(run.env),
        "left_processes": run.left_processes,
        "stderr_tail": run.stderr_tail,
        "ran_on": run.ran_on,  # the worker's host; None for a run on this computer
        "pool": run.pool,
        "waiting_for": run.waiting_for,
        "slow": run.slow is not None,  # much longer or shorter than the job usually takes
        "slow_kind": run.slow,  # "long", "short" or None
        "upstream_run_id": run.upstream_run_id,  # cause "after": the upstream run that started it
        # Retries (jobs.retries): attempt N of at most "attempts", the chain's first run, when a
        # pending retry is due, and the retry that followed this attempt (null: none).
        "attempt": run.attempt,
        "attempts": run.attempts,
        "first_run_id": run.first_run_id or run.id,
        "retry_at": iso(run.retry_at),
        "retried_by": run.retried_by,
        "alerts": [
            {"channel": a.channel, "target": a.target, "state": a.state, "at": iso(a.at), "attempts": a.attempts,
             "error": a.error}
            for a in run.alerts
        ],
        "outputs": [{"path": o.path, "bytes": o.bytes, "modified": iso(_moment(o.modified))} for o in run.outputs],
        "environment": environment_json(run),
        "digest": None if run.digest_id is None else {"id": run.digest_id, "choice": run.digest_choice},
    }


def environment_json(run: RunRecord) -> dict[str, Any] | None:
    """What the run ran with (jobs.run_environment), times as ISO 8601; None: not recorded."""
    if run.environment is None:
        return None
    data = run.environment.to_dict()
    for script in data["scripts"]:
        script["modified"] = iso(_moment(script["modified"]))
    return data


def _moment(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)
