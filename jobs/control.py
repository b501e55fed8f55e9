"""Operations on a JobService as JSON-able requests and answers.

The command line builds a request; if a Jobdesk instance holds the data directory the request
travels over the local socket and that instance's service executes it, otherwise the command
line executes it on the store itself. One code path either way.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Callable

from jobs import triggers
from jobs.codec import JobValidationError, job_from_dict, job_to_dict
from jobs.history import HistoryQuery
from jobs.model import JobSpec, RunRecord, RunStatus
from jobs.repository import JobNotFound
from jobs.service import JobService
from jobs.transfer import ImportProblem, export_text, parse_import


class ControlError(Exception):
    """A refused request. exit_code 2: bad input; 1: anything else."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone().isoformat(timespec="seconds")


def job_json(spec: JobSpec, next_run: datetime | None, last: RunRecord | None = None) -> dict[str, Any]:
    state = "paused" if spec.paused else ("active" if next_run is not None else "finished")
    return {
        "id": spec.id,
        "name": spec.name,
        "schedule": triggers.describe(spec.trigger),
        "next_run": iso(next_run),
        "state": state,
        "last_status": last.status.value if last else None,
        "last_run": iso(last.started_at or last.queued_at) if last else None,
        "definition": job_to_dict(spec),
    }


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
    }


def _job(service: JobService, job_id: Any) -> JobSpec:
    try:
        return service.jobs.get(str(job_id))
    except JobNotFound as exc:
        raise ControlError(str(exc), 2) from None


def _add(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    try:
        spec = service.add_job(job_from_dict(req["job"]))
    except JobValidationError as exc:
        raise ControlError(str(exc), 2) from None
    return {"id": spec.id}


def _list(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    specs = service.jobs.all()
    next_runs = service.next_run_times()
    last = service.history.last_runs(spec.id for spec in specs)
    return {"jobs": [job_json(spec, next_runs.get(spec.id), last.get(spec.id)) for spec in specs]}


def _show(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    spec = _job(service, req["id"])
    last = service.history.last_runs([spec.id]).get(spec.id)
    info = job_json(spec, service.next_run_times().get(spec.id), last)
    info["next_runs"] = [iso(t) for t in triggers.next_fire_times(spec.trigger, 5)] if not spec.paused else []
    return info


def _remove(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    service.remove_job(_job(service, req["id"]).id)
    return {"removed": req["id"]}


def _pause(service: JobService, req: dict[str, Any], paused: bool) -> dict[str, Any]:
    spec = service.set_paused(_job(service, req["id"]).id, paused)
    return {"id": spec.id, "paused": spec.paused}


def _run(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    spec = _job(service, req["id"])
    run_id = service.run_now(spec.id)
    if run_id is None:
        raise ControlError(f"job {spec.id} ({spec.name}) is still running and its overlap policy skips new runs")
    return {"run_id": run_id}


def _history(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    statuses: tuple[RunStatus, ...] = ()
    if req.get("status"):
        try:
            statuses = (RunStatus(req["status"]),)
        except ValueError:
            allowed = ", ".join(s.value for s in RunStatus)
            raise ControlError(f"--status: {req['status']!r} is not one of: {allowed}", 2) from None
    limit = int(req.get("limit") or 50)
    if limit < 1:
        raise ControlError(f"--limit: {limit} must be at least 1", 2)
    runs = service.query_history(HistoryQuery(job_id=req.get("job"), statuses=statuses, limit=limit))
    return {"runs": [run_json(run) for run in runs]}


def _export(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    return {"toml": export_text(service.jobs.all()), "count": len(service.jobs.ids())}


def _import(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    try:
        specs = parse_import(req["toml"], req.get("source", "<input>"))
    except ImportProblem as exc:
        raise ControlError(str(exc), 2) from None
    saved = service.import_jobs(specs)
    return {"imported": [spec.id for spec in saved]}


def _settings(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    if req.get("name") is not None and req.get("value") is not None:
        try:
            service.set_setting(req["name"], req["value"])
        except ValueError as exc:
            raise ControlError(str(exc), 2) from None
    return {"settings": asdict(service.settings)}


HANDLERS: dict[str, Callable[[JobService, dict[str, Any]], dict[str, Any]]] = {
    "add": _add,
    "list": _list,
    "show": _show,
    "remove": _remove,
    "pause": lambda s, r: _pause(s, r, True),
    "resume": lambda s, r: _pause(s, r, False),
    "run": _run,
    "history": _history,
    "export": _export,
    "import": _import,
    "settings": _settings,
}


def execute(service: JobService, request: dict[str, Any]) -> dict[str, Any]:
    """Run one request; raises ControlError for anything the caller should see as an error."""
    handler = HANDLERS.get(request.get("op", ""))
    if handler is None:
        raise ControlError(f"unknown operation {request.get('op')!r}", 2)
    try:
        return handler(service, request)
    except (KeyError, TypeError) as exc:
        raise ControlError(f"malformed request for {request.get('op')!r}: {exc}", 2) from None
