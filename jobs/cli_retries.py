"""The retry options of `jobdesk add` (jobs.retries): parsed into definition fields.

`--retry-on` takes failure and/or timeout; `--retry-on-exit` takes exit codes. Given alone,
`--retry-on-exit 75,111` retries only on those codes (not on every failure).
"""

from __future__ import annotations

import argparse
from typing import Any

from jobs.command_errors import UsageError
from jobs.durations import parse_duration
from jobs.retry_rules import RETRY_ON_CHOICES

# Definition fields as the options that set them, for error messages
RETRY_OPTIONS = {
    "retries": "--retries", "retry_delay": "--retry-delay", "retry_backoff": "--retry-backoff",
    "retry_max": "--retry-max", "retry_on": "--retry-on", "retry_on_exit": "--retry-on-exit",
}


def add_retry_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("retries", "run a failed run again, after a delay that grows")
    group.add_argument("--retries", type=int, metavar="N", help="run a failed run again up to N times (default 0)")
    group.add_argument("--retry-delay", metavar="DURATION", help="wait this long before the first retry (default 30s)")
    group.add_argument("--retry-backoff", metavar="FACTOR", help="multiply the delay by this after each retry (default 2)")
    group.add_argument("--retry-max", metavar="DURATION", help="never wait longer than this between attempts")
    group.add_argument("--retry-on", metavar="WHAT", help=f"which ends retry: {','.join(RETRY_ON_CHOICES)} (default both)")
    group.add_argument("--retry-on-exit", metavar="CODES", help="retry on these exit codes, e.g. 75,111")


def retry_changes(args: argparse.Namespace) -> dict[str, Any]:
    """`jobdesk edit`'s retry changes ({} when no retry option was given), checked here first to
    name the option (the instance checks the whole definition again)."""
    from jobs.codec import JobValidationError, job_from_dict

    changes = retry_fields(args, "jobdesk edit", alone_ok=True)
    if not changes:
        return {}
    probe = {"name": "x", "command": ["true"], "trigger": {"type": "cron", "expression": "0 0 1 1 *", "timezone": "UTC"},
             "retries": 1, **changes}  # fmt: skip
    try:
        job_from_dict(probe)
    except JobValidationError as exc:
        field = exc.field.split(".")[0]
        raise UsageError(f"jobdesk edit: {RETRY_OPTIONS.get(field, field)}: {exc.message}") from None
    return changes


def retry_fields(args: argparse.Namespace, prog: str = "jobdesk add", *, alone_ok: bool = False) -> dict[str, Any]:
    """The definition fields the retry options set (none given: none). The values are checked
    again by jobs.codec, like every definition; here they are only read. `alone_ok` (edit):
    the other options may change without --retries."""
    out: dict[str, Any] = {}
    given = [name for name in RETRY_OPTIONS if getattr(args, name, None) is not None]
    if given and "retries" not in given and not alone_ok:
        raise UsageError(f"{prog}: {RETRY_OPTIONS[given[0]]} needs --retries N (how many times to retry)")
    if args.retries is not None:
        out["retries"] = args.retries
    for name in ("retry_delay", "retry_max"):
        value = getattr(args, name)
        if value is not None:
            try:
                out[name] = parse_duration(value)
            except ValueError as exc:
                raise UsageError(f"{prog}: {RETRY_OPTIONS[name]}: {exc}") from None
    if args.retry_backoff is not None:
        try:
            out["retry_backoff"] = float(args.retry_backoff)
        except ValueError:
            raise UsageError(f"{prog}: --retry-backoff: {args.retry_backoff!r} is not a number (e.g. 2)") from None
    if args.retry_on is not None:
        out["retry_on"] = [part.strip() for part in args.retry_on.split(",") if part.strip()]
        if not out["retry_on"] and args.retry_on_exit is None:
            raise UsageError(f"{prog}: --retry-on: give failure, timeout or both (or --retry-on-exit CODES)")
    if args.retry_on_exit is not None:
        out["retry_on_exit"] = args.retry_on_exit
        if args.retry_on is None:
            out["retry_on"] = []  # only these codes
    return out


def retry_words(definition: dict[str, Any]) -> str:
    """A definition's retry settings in words: "3 times, first after 30s, then x2 (at most
    10m), on failure, timeout"."""
    from jobs.durations import format_duration

    count = int(definition["retries"])
    words = f"{count} time{'s' if count != 1 else ''}, first after {format_duration(float(definition.get('retry_delay', 30)))}"
    backoff = float(definition.get("retry_backoff", 2))
    if backoff != 1 and count > 1:
        words += f", then x{backoff:g} each time"
    if definition.get("retry_max") is not None:
        words += f" (at most {format_duration(float(definition['retry_max']))})"
    on = list(definition.get("retry_on", [])) + [f"exit {code}" for code in definition.get("retry_on_exit", [])]
    return f"{words}; on {', '.join(on) if on else 'nothing (no --retry-on)'}"
