"""The `edit` request: change some fields of a saved job, keeping the rest.

`changes` holds definition fields as `add` sends them (jobs.codec names); the merged definition
goes through the same checks as any other, and bad input names its field (exit code 2). Sent
twice it changes nothing more, so the command line may send it again after a lost answer.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TYPE_CHECKING, Any

from jobs.codec import JobValidationError, job_from_dict, job_to_dict

if TYPE_CHECKING:
    from jobs.service import JobService


def edit_job(service: JobService, req: dict[str, Any], find: Any, error: type[Exception]) -> dict[str, Any]:
    spec = find(service, req["id"])
    changes = req["changes"]
    unknown = sorted({"id", "trigger"} & set(changes))
    if unknown:
        raise error(f"edit: {unknown[0]}: cannot be changed with edit (export, change the file, import)", 2)
    try:
        edited = job_from_dict({**job_to_dict(spec), **changes})
    except JobValidationError as exc:
        raise error(str(exc), 2) from None
    edited = replace(edited, trigger=spec.trigger, id=spec.id)  # the schedule as stored, untouched
    saved = service.update_job(edited, allow_duplicate_name=True)
    changed = [f.name for f in fields(saved) if getattr(saved, f.name) != getattr(spec, f.name)]
    return {"id": saved.id, "changed": changed}
