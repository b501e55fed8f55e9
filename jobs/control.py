"""Operations on a JobService as JSON-able requests and answers.

The command line builds a request; if a Jobdesk instance holds the data directory the request
travels over the local socket and that instance's service executes it, otherwise the command
line executes it on the store itself. One code path either way.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any, Callable

from jobs import triggers
from jobs.alerts.config import ALERT_SETTING_NAMES, shown_settings
from jobs.cli_missed import handle_missed
from jobs.codec import EARLIEST_YEAR, LATEST_YEAR, JobValidationError, job_from_dict, job_problems, job_to_dict
from jobs.durations import echo
from jobs.after_next import ExpectedAfter, is_after, next_expected
from jobs.chains import dependents, finished_so_far
from jobs.history import HistoryQuery, LastRun
from jobs.job_state import job_state
from jobs.model import JobSpec, RunOutcome, RunRecord, RunStatus
from jobs.records_json import iso, run_json  # noqa: F401  (run_json: part of this module's API)
from jobs.remote.broker import mask
from jobs.repository import JobNotFound
from jobs.run_stats import NO_STATS_JSON, duration_stats
from jobs.request_ids import JOURNALED_OPS, check_request_id, confirm, earlier_answer, recording
from jobs.service import JobService
from jobs.settings import setting_names
from jobs.wire import import_size_problem


class ControlError(Exception):
    """A refused request. exit_code 2: bad input; 1: anything else."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def job_json(spec: JobSpec, next_run: datetime | None, last: LastRun | None = None,
             names: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """`names` (id -> name) names the jobs an after-job waits for."""
    state = job_state(spec, next_run)
    return {
        "id": spec.id,
        "name": spec.name,
        "schedule": triggers.describe(spec.trigger, names=names),
        "next_run": iso(next_run),
        "state": state,
        "last_status": last.status.value if last else None,
        "last_run": iso(last.at) if last else None,
        "definition": job_to_dict(spec),
    }


def _job(service: JobService, ref: Any) -> JobSpec:
    """The job `ref` names: its id, else its exact name (ambiguous names are refused)."""
    text = str(ref)
    try:
        return service.jobs.get(text)
    except JobNotFound:
        pass
    ids = service.jobs.ids_named(text)
    if not ids:
        raise ControlError(f"no job with id or name {echo(text)}", 2)
    if len(ids) > 1:
        raise ControlError(f"{echo(text)} is the name of {len(ids)} jobs: {', '.join(ids)}; use an id", 2)
    try:
        return service.jobs.get(ids[0])
    except JobNotFound:
        raise ControlError(f"job {ids[0]} ({echo(text)}) cannot be read; see the log", 1) from None


def _flag(req: dict[str, Any], key: str) -> bool:
    value = req.get(key, False)
    if not isinstance(value, bool):
        raise ControlError(f"{key}: expected true or false, got {value!r}", 2)
    return value


def _whole(req: dict[str, Any], key: str, default: int, low: int, high: int, option: str) -> int:
    """A whole number from a request, which may come from another program over the socket."""
    value = req.get(key)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(f"{option}: {echo(str(value))} is not a whole number", 2)
    if not low <= value <= high:
        raise ControlError(f"{option}: {value} must be between {low} and {high}", 2)
    return value


def _add(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    try:
        spec = service.add_job(job_from_dict(req["job"]), allow_duplicate_name=_flag(req, "allow_duplicate_name"))
    except JobValidationError as exc:
        raise ControlError(str(exc), 2) from None
    return {"id": spec.id}


def _edit(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    """Change some fields of a stored definition ({"changes": {"run_with": "/path" or null}}); a
    null value puts the field back to its default. The result is checked like a new definition."""
    spec = _job(service, req["id"])
    changes = req["changes"]
    if not isinstance(changes, dict) or not changes:
        raise ControlError("edit: changes: expected a table of fields to change", 2)
    data = {**job_to_dict(spec), **{k: v for k, v in changes.items() if v is not None}}
    for key in (k for k, v in changes.items() if v is None):
        data.pop(key, None)
    try:
        saved = service.update_job(job_from_dict(data, allow_past_date=True), allow_duplicate_name=True)
    except JobValidationError as exc:
        raise ControlError(str(exc), 2) from None
    return {"id": saved.id, "definition": job_to_dict(saved)}


def _list(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    specs = service.jobs.all()  # read once: next runs and last runs reuse it
    next_runs = service.next_run_times(specs)
    last = service.history.last_outcomes(spec.id for spec in specs)
    names = {spec.id: spec.name for spec in specs}
    expected = next_expected(specs, next_runs, finished_so_far(service.engine, service.history, specs))
    return {"jobs": [{**job_json(spec, next_runs.get(spec.id), last.get(spec.id), names), **_after_keys(spec, expected)}
                     for spec in specs]}  # fmt: skip


def _after_keys(spec: JobSpec, expected: dict[str, ExpectedAfter]) -> dict[str, Any]:
    """An after-job has no next run: when it is expected (null: cannot tell), after which jobs."""
    if not is_after(spec):
        return {}
    found = expected.get(spec.id)
    return {"expected_after": iso(found.at) if found else None, "expected_after_jobs": list(found.upstream) if found else []}


PREVIEW_MAX = 1000


def _show(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    spec = _job(service, req["id"])
    last = service.history.last_outcomes([spec.id]).get(spec.id)
    info = job_json(spec, service.next_run_times([spec]).get(spec.id), last, service.jobs.names())
    count = _whole(req, "count", 5, 1, PREVIEW_MAX, "--count")
    after = _moment(req.get("from"))
    # A paused job has no next runs, unless asked for a preview from a given time or count
    preview = not spec.paused or req.get("from") is not None or req.get("count") is not None
    try:
        times = triggers.next_fire_times(spec.trigger, count, after=after) if preview else []
        notes = triggers.dst_notes(spec.trigger, after=after)
    except (triggers.TriggerError, OverflowError, ValueError) as exc:
        raise ControlError(f"job {spec.id}: its schedule cannot be computed: {exc}", 1) from None
    info["next_runs"] = [iso(t) for t in times]
    info["dst_notes"] = notes
    stats = duration_stats(service.engine, [spec.id]).get(spec.id)
    info["duration"] = stats.as_json() if stats is not None else dict(NO_STATS_JSON)
    return info


def _moment(value: Any) -> datetime | None:
    """--from: ISO 8601; without an offset it is this machine's local time."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise ControlError(f"--from: {echo(str(value))} is not a date and time: write it like 2026-03-28 12:00", 2) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # naive = local wall time
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ControlError(f"--from: year {moment.year} is outside {EARLIEST_YEAR}-{LATEST_YEAR}", 2)
    return moment


def _remove(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    ref = str(req["id"])
    if ref in service.jobs.ids():  # by id even when its stored definition cannot be read
        job_id = ref
    else:
        job_id = _job(service, ref).id
    waiting = dependents(service.jobs.all(), job_id)  # jobs that run after it never run again
    shown = ", ".join(f"{spec.id} ({spec.name})" for spec in waiting)
    if waiting and not _flag(req, "force"):
        raise ControlError(f"not removed: {len(waiting)} job(s) run after {job_id}: {shown}; "
                           "change them first, or add --force to remove it anyway", 2)  # fmt: skip
    service.remove_job(job_id)
    if not waiting:
        return {"removed": job_id}
    return {"removed": job_id, "dependents": [spec.id for spec in waiting],
            "warning": f"these jobs ran after it and will not run until you edit them: {shown}"}


def _pause(service: JobService, req: dict[str, Any], paused: bool) -> dict[str, Any]:
    if _flag(req, "all"):
        return {"all": True, "paused": paused, "count": service.set_all_paused(paused)}
    spec = service.set_paused(_job(service, req["id"]).id, paused)
    return {"id": spec.id, "paused": spec.paused}


def _run(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    spec = _job(service, req["id"])
    run_id = service.run_now(spec.id, ignore_conditions=_flag(req, "ignore_conditions"))
    if run_id is None:
        active = service.active_runs()
        waiting = [r for r in active if r.job_id == spec.id and r.status is RunStatus.WAITING]
        retrying = [r for r in active if r.job_id == spec.id and r.status is RunStatus.RETRY_PENDING]
        if retrying:  # jobs.retries: the pending retry is the job's run in progress
            raise ControlError(f"job {spec.id} ({spec.name}) has run #{retrying[0].id} waiting to retry at "
                               f"{iso(retrying[0].retry_at)} and its overlap policy skips new runs; "
                               f"`jobdesk stop {retrying[0].id}` cancels the retry")
        if waiting:
            raise ControlError(f"job {spec.id} ({spec.name}) has run #{waiting[0].id} waiting for {waiting[0].waiting_for} "
                               "and its overlap policy skips new runs; --ignore-conditions starts that run now")
        raise ControlError(f"job {spec.id} ({spec.name}) is still running and its overlap policy skips new runs")
    return {"run_id": run_id, "waiting_for": service.dispatcher.waiting_for(run_id)}


def _run_record(service: JobService, req: dict[str, Any]) -> RunRecord:
    value = req["id"]
    if isinstance(value, str) and value.strip().lstrip("#").isdigit():
        value = int(value.strip().lstrip("#"))
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(f"{echo(str(value))} is not a run number (see jobdesk history)", 2)
    record = service.history.get(value) if 0 < value < 2**63 else None
    if record is None:
        raise ControlError(f"no run #{value} (see jobdesk history)", 2)
    return record


def _run_info(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    """One run and whether this instance is running (or queueing) it: `log --follow` and
    `stop` need to tell "still going" from "left marked running by a crash"."""
    record = _run_record(service, req)
    return {"run": run_json(record), "active": record.id in service.dispatcher.active_runs()}


def _why(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    """`jobdesk why RUN_ID`: what changed since the job's last success (jobs.changed_since)."""
    from jobs.changed_since import changes_since_success

    record = _run_record(service, req)
    return {"run": run_json(record), **changes_since_success(service.history, record).to_json()}


def _stop(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    """Stop a running, queued or waiting run: TERM to its tree, the grace time, then KILL (the
    dispatcher does it on the run's thread; this answers at once). The run ends `killed`."""
    record = _run_record(service, req)
    if record.status.is_final:
        raise ControlError(f"run #{record.id} has already ended ({record.status.value}); nothing to stop", 2)
    cancelled = service.cancel_run(record.id)
    if not cancelled and record.status is RunStatus.WAITING and not service.scheduling:
        # Nobody is holding it (no window or `serve`; this process holds the store): end it here
        service.history.finish(record.id, RunOutcome(RunStatus.KILLED, None, None, datetime.now(timezone.utc),
                                                     error=f"killed while waiting for {record.waiting_for}: "
                                                           "stopped by the user"))  # fmt: skip
    elif not cancelled:
        raise ControlError(
            f"run #{record.id} is marked {record.status.value}, but no Jobdesk is running it: nothing to stop "
            "(it is marked interrupted when Jobdesk next starts)"
        )
    return {"run_id": record.id, "stopping": True}


def _history(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    statuses: tuple[RunStatus, ...] = ()
    if req.get("status"):
        try:
            statuses = (RunStatus(req["status"]),)
        except ValueError:
            allowed = ", ".join(s.value for s in RunStatus)
            raise ControlError(f"--status: {echo(str(req['status']))} is not one of: {allowed}", 2) from None
    limit = _whole(req, "limit", 50, 1, 1_000_000, "--limit")
    job_id = req.get("job")
    if job_id is not None:
        job_id = str(job_id)
        if not service.jobs.exists(job_id) and service.jobs.ids_named(job_id):  # else an id, maybe of a removed job
            job_id = _job(service, job_id).id
    runs = service.query_history(HistoryQuery(job_id=job_id, statuses=statuses, limit=limit))
    return {"runs": [run_json(run) for run in runs]}


def _export(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    from jobs.transfer import export_text  # TOML: only export and import need it

    specs = service.jobs.all()
    for spec in specs:  # stored before such text was refused: name the job instead of failing to encode
        problems = job_problems(spec, allow_past_date=True, check_trigger=False)
        bad = [f"{field}: {message}" for field, message in problems if "not UTF-8" in message or "NUL" in message]
        if bad:
            raise ControlError(f"job {spec.id} cannot be exported: {bad[0]}; fix or remove it first", 2)
    return {"toml": export_text(specs), "count": len(specs)}


def _import(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    from jobs.transfer import ImportProblem, parse_import

    source = str(req.get("source", "<input>"))
    try:
        specs = parse_import(req["toml"], source)
        existing = service.jobs.ids()
        saved = service.import_jobs(specs, allow_duplicate_name=_flag(req, "allow_duplicate_name"))
    except ImportProblem as exc:
        raise ControlError(str(exc if exc.source else exc.from_source(source)), 2) from None
    return {
        "imported": [spec.id for spec in saved],
        "added": [spec.id for spec in saved if spec.id not in existing],
        "replaced": [spec.id for spec in saved if spec.id in existing],
    }


def _settings(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    """Show the settings (secrets masked), one setting or group (`smtp`), or change one."""
    name, value = req.get("name"), req.get("value")
    if name is not None and value is not None:
        try:
            if name in ALERT_SETTING_NAMES:
                service.alert_config.set(name, value)
            elif name in setting_names():
                service.set_setting(name, value)
            else:
                raise ValueError(_unknown_setting(name))
        except ValueError as exc:
            raise ControlError(str(exc), 2) from None
    if name == "webhook_secret" and value is None:
        try:
            service.alert_config.webhook_secret()  # asked for by name: make it now, so the receiver can be set up
        except ValueError as exc:
            raise ControlError(str(exc)) from None
    shown = {**asdict(service.settings), **shown_settings(service.alert_settings, service.data_dir)}
    shown["broker"] = mask(shown["broker"])  # never the password (issue 11)
    if name is not None and value is None:
        shown = {key: item for key, item in shown.items() if key == name or key.startswith(f"{name}.")}
        if not shown:
            raise ControlError(_unknown_setting(name), 2)
    return {"settings": shown}


def _unknown_setting(name: str) -> str:
    return f"unknown setting {echo(str(name))} (known: {', '.join([*setting_names(), *ALERT_SETTING_NAMES])}; smtp shows smtp.*)"


def _broker(service: JobService, req: dict[str, Any]) -> dict[str, Any]:
    """The configured broker URL in full, for `jobdesk workers` to connect with (this user's
    own socket or store); never printed."""
    return {"url": service.settings.broker}


HANDLERS: dict[str, Callable[[JobService, dict[str, Any]], dict[str, Any]]] = {
    "add": _add,
    "edit": _edit,
    "list": _list,
    "show": _show,
    "remove": _remove,
    "pause": lambda s, r: _pause(s, r, True),
    "resume": lambda s, r: _pause(s, r, False),
    "run": _run,
    "run_info": _run_info,
    "why": _why,
    "stop": _stop,
    "history": _history,
    "export": _export,
    "import": _import,
    "settings": _settings,
    "broker": _broker,
    "missed": lambda s, r: handle_missed(s, r, _job),  # jobs.cli_missed: the wake-up digest
}


# Fields with one JSON type in every request that has them (per operation where it differs).
# A wrong type is bad input, exit code 2, however the request came (issue 9, item 14).
_NONE = type(None)
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "request_id": (str,), "limit": (int, _NONE), "wait": (bool, _NONE), "ignore_conditions": (bool, _NONE), "toml": (str,),
    "source": (str, _NONE), "status": (str, _NONE), "name": (str, _NONE), "force": (bool, _NONE),
}
_OP_FIELD_TYPES: dict[str, dict[str, tuple[type, ...]]] = {"add": {"job": (dict,)}, "history": {"job": (str, _NONE)}}
_SQLITE_INT = 2**63


def _check_fields(op: str, request: dict[str, Any]) -> None:
    for field, kinds in {**_FIELD_TYPES, **_OP_FIELD_TYPES.get(op, {})}.items():
        if field not in request:
            continue
        value = request[field]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            wanted = " or ".join({str: "a string", int: "a whole number", bool: "true or false", dict: "an object",
                                  _NONE: "null"}[kind] for kind in kinds)  # fmt: skip
            raise ControlError(f"{op}: {field}: expected {wanted}, got {json.dumps(value, default=repr)[:60]}", 2)
        if isinstance(value, int) and not isinstance(value, bool) and not -_SQLITE_INT <= value < _SQLITE_INT:
            raise ControlError(f"{op}: {field}: {value} is out of range", 2)


def execute(service: JobService, request: dict[str, Any]) -> dict[str, Any]:
    """Run one request; raises ControlError for anything the caller should see as an error.

    Malformed fields are exit code 2 whether the request came over the socket or not. A
    request with a `request_id` that adds or removes definitions is carried out once: sent
    again, it gets the first answer (jobs.request_ids).
    """
    op = request.get("op")
    handler = HANDLERS.get(op) if isinstance(op, str) else None
    if handler is None or not isinstance(op, str):
        raise ControlError(f"unknown operation {json.dumps(op, default=repr)[:60]}", 2)
    try:
        _check_fields(op, request)
        problem = import_size_problem(request)
        if problem is not None:
            raise ControlError(problem, 2)
        request_id = request.get("request_id")
        if request_id is None or op not in JOURNALED_OPS:
            return handler(service, request)
        earlier = earlier_answer(service.engine, check_request_id(request_id), op)
        if earlier is not None:
            return earlier
        with recording(request_id, op, request) as current:
            result = handler(service, request)
        confirm(service.engine, current, result)
        return result
    except JobNotFound as exc:
        raise ControlError(str(exc), 2) from None
    except KeyError as exc:
        raise ControlError(f"{op}: malformed request: missing field {exc}", 2) from None
    except (TypeError, ValueError) as exc:
        raise ControlError(f"{op}: malformed request: {exc}", 2) from None
