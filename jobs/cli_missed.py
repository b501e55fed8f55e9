"""`jobdesk missed`: the open wake-up digest, and a choice per job (run-latest, run-all, skip).

The command's parser, its request, the instance's handler (jobs.control) and what it prints, in
one place. With an instance running, the choice's runs go on there (this returns at once); with
none, this process runs them in the foreground, one after another.
"""

from __future__ import annotations

import argparse
import json
from typing import Any, Callable

from jobs.command_errors import UsageError
from jobs.durations import echo

ACTIONS = ("run-latest", "run-all", "skip")  # jobs.digest_store.CHOICES, without importing the store for --help


def add_missed_command(sub: Any) -> None:
    missed = sub.add_parser(
        "missed", help="runs missed while the computer slept or Jobdesk was closed; choose what to do per job",
        description="With no ACTION: the open wake-up digest (each job's missed runs, which the job's missed-run "
                    "policy did not run). ACTION JOB records a choice for that job's missed runs: run-latest runs the "
                    "latest missed slot, run-all every missed slot one after another, skip leaves them missed. "
                    "Without a choice the policy's outcome stands.")  # fmt: skip
    missed.add_argument("action", nargs="?", choices=ACTIONS, metavar="ACTION", help="run-latest, run-all or skip")
    missed.add_argument("id", nargs="?", metavar="JOB", help="the job's id or exact name")
    missed.add_argument("--json", action="store_true")


def missed_request(args: argparse.Namespace) -> dict[str, Any]:
    if args.action is not None and args.id is None:
        raise UsageError(f"jobdesk missed {args.action}: which job? (jobdesk missed {args.action} JOB)")
    if args.action is None and args.id is not None:
        raise UsageError(f"jobdesk missed: {echo(args.id)}: say what to do first: jobdesk missed run-latest|run-all|skip JOB")
    return {"op": "missed", "choice": args.action, "id": args.id}


def handle_missed(service: Any, req: dict[str, Any], find_job: Callable[[Any, Any], Any]) -> dict[str, Any]:
    """jobs.control's handler for op "missed": list the open digest, or make a choice."""
    from jobs import digest_store as store
    from jobs.control import ControlError

    choice = req.get("choice")
    if choice is None:
        digest = store.read_open(service.engine)
        return {"digest": None if digest is None else digest_json(digest)}
    if not isinstance(choice, str) or choice not in ACTIONS:
        raise ControlError(f"missed: choice: {echo(str(choice))} is not one of: {', '.join(ACTIONS)}", 2)
    from jobs.digest_choice import DigestChoiceError, choose

    spec = find_job(service, req.get("id"))
    try:
        result = choose(service, spec.id, choice)
    except DigestChoiceError as exc:
        raise ControlError(str(exc), 2) from None
    from jobs.records_json import iso

    return {"digest_id": result.digest_id, "job_id": result.job_id, "job_name": result.job_name, "choice": choice,
            "runs": [iso(slot) for slot in result.slots], "left_missed": result.left_missed,
            "run_ids": list(result.run_ids), "ran_here": not service.scheduling}  # fmt: skip


def digest_json(digest: Any) -> dict[str, Any]:
    from jobs.records_json import iso

    return {
        "id": digest.id, "kind": digest.kind, "headline": digest.headline(), "since": iso(digest.since),
        "until": iso(digest.until), "away_seconds": round(digest.away, 1), "missed": digest.count,
        "jobs": [{"job_id": e.job_id, "job_name": e.job_name, "missed": e.count,
                  "slots": [iso(slot.scheduled_at) for slot in e.slots], "first": iso(e.first()), "last": iso(e.last()),
                  "ran_later": e.ran_later,
                  "choices": [c for c in ACTIONS if c != "run-latest" or e.can_run_latest] if e.runnable_count else ["skip"]}
                 for e in digest.entries],
    }  # fmt: skip


def print_missed(args: argparse.Namespace, result: dict[str, Any]) -> int:
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    if "digest" not in result:
        name, count, left = result["job_name"], len(result["runs"]), result["left_missed"]
        if result["choice"] == "skip":
            print(f"{name}: {left} missed run{'s' if left != 1 else ''} stay missed")
            return 0
        ran = f" (run{'s' if len(result['run_ids']) != 1 else ''} {', '.join(f'#{i}' for i in result['run_ids'])})" if result["run_ids"] else ""
        where = "ran here" if result["ran_here"] else "started in the running Jobdesk, one after another"
        rest = f"; {left} stay missed" if left else ""
        print(f"{name}: {count} missed run{'s' if count != 1 else ''} {where}{ran}{rest}")
        return 0
    digest = result["digest"]
    if digest is None:
        print("No missed runs wait for a choice.")
        return 0
    print(digest["headline"])
    rows = [[j["job_id"], j["job_name"], str(j["missed"]), _span(j), ", ".join(j["choices"])] for j in digest["jobs"]]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(["ID", "JOB", "MISSED", "SLOTS", "CHOICES"])]
    for row in [["ID", "JOB", "MISSED", "SLOTS", "CHOICES"], *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    print("Choose per job: jobdesk missed run-latest|run-all|skip JOB (without a choice, the missed-run policy's outcome stands)")
    return 0


def _span(job: dict[str, Any]) -> str:
    first, last = job["first"][:16].replace("T", " "), job["last"][:16].replace("T", " ")
    later = f" (later slot ran: #{job['ran_later']})" if job["ran_later"] is not None else ""
    return (first if first == last else f"{first} to {last}") + later
