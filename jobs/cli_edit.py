"""`jobdesk edit JOB` (change fields of a stored job) and `jobdesk interpreters` (what `--run-with` can name).

`edit` sends {"op": "edit", "id": JOB, "changes": {...}} (jobs.control): the instance merges the
changes into the stored definition and checks the result like a new one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from jobs.cli_retries import add_retry_options, retry_changes
from jobs.command_errors import UsageError
from jobs.interpreters import run_with_problem

RUN_WITH_HELP = ("run the command with this interpreter (its path; see `jobdesk interpreters`): "
                 "PATH becomes the program and the command's words its arguments")  # fmt: skip


def absolute_interpreter(text: str, command: str) -> str:
    """The --run-with value as an absolute path, or a UsageError naming the option."""
    path = str(Path(text).expanduser().absolute()) if text.strip() else text
    problem = run_with_problem(path, local=True)
    if problem:
        raise UsageError(f"jobdesk {command}: --run-with: {problem}")
    return path


def add_edit_commands(sub: Any) -> None:
    edit = sub.add_parser("edit", help="change a stored job: its interpreter, retries, longer-than-usual rule")
    edit.add_argument("id", metavar="JOB", help="the job's id or exact name")
    how = edit.add_mutually_exclusive_group()
    how.add_argument("--run-with", metavar="PATH", help=RUN_WITH_HELP)
    how.add_argument("--as-written", action="store_true", help="run the command as written again (no --run-with)")
    edit.add_argument("--slow-factor", metavar="X", help="longer than usual past max(p95 x X, p95 + margin)")
    edit.add_argument("--slow-margin", metavar="DURATION", help="... and past p95 + this (e.g. 5m)")
    add_retry_options(edit)  # jobs.cli_retries
    found = sub.add_parser("interpreters", help="Python environments, conda envs and Rscript found on this computer")
    found.add_argument("--json", action="store_true")
    found.add_argument("--near", metavar="SCRIPT", action="append", default=[],
                       help="also look for a .venv or venv beside this script (repeatable)")


def edit_request(args: argparse.Namespace) -> dict[str, Any]:
    changes: dict[str, Any] = retry_changes(args)
    if args.as_written or args.run_with is not None:
        changes["run_with"] = None if args.as_written else absolute_interpreter(args.run_with, "edit")
    for option in ("slow_factor", "slow_margin"):  # text: the codec reads it and names the field
        if getattr(args, option) is not None:
            changes[option] = getattr(args, option)
    if not changes:
        raise UsageError("jobdesk edit: nothing to change: give --run-with PATH, --as-written, --retries N "
                         "(and other --retry-* options), --slow-factor or --slow-margin")
    return {"op": "edit", "id": args.id, "changes": changes}
