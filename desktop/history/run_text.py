"""Words about one run: the command to paste into a terminal and the one-line summary.

Qt-free. "Works by hand, fails when scheduled" (NOTES item 32) is easiest to debug by running
exactly what the scheduler ran, so `copyable_command` rebuilds it from the history row: the
working directory, the environment overrides as a `K=V` prefix, and the command line.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from desktop.formatting import format_duration, format_time, status_text
from jobs.model import RunCause, RunRecord, RunStatus


def alerts_text(record: RunRecord) -> str:
    """The run's e-mail and webhook deliveries in one line: "E-mail to a@b.c sent 07:31 ·
    webhook https://… failed: HTTP 500 (3 attempts)"; "" when there were none."""
    parts = []
    for alert in record.alerts:
        what = f"{'E-mail to' if alert.channel == 'email' else 'Webhook'} {alert.target}"
        if alert.state == "sent":
            parts.append(f"{what} sent {format_time(alert.at, seconds=True)}" if alert.at else f"{what} sent")
        elif alert.state == "failed":
            tries = f" ({alert.attempts} attempts)" if alert.attempts > 1 else ""
            parts.append(f"{what} failed: {alert.error}{tries}")
        else:
            again = f", trying again (last: {alert.error})" if alert.error else ""
            parts.append(f"{what} being sent{again}")
    return " · ".join(parts)


def _quote(text: str) -> str:
    return subprocess.list2cmdline([text]) if os.name == "nt" else shlex.quote(text)


def command_line(record: RunRecord) -> str:
    """The command as run: `shlex.join` of the argument list, or the shell line as typed."""
    if record.shell:
        return " ".join(record.command)  # what the runner hands to the shell
    if os.name == "nt":
        return subprocess.list2cmdline(list(record.command))
    return shlex.join(record.command)


def copyable_command(record: RunRecord) -> str:
    """`cd DIR && K=V ... command`, ready to paste into a POSIX shell.

    A shell line with overrides runs as `K=V sh -c 'line'`, so the variables reach every command
    of the line, not only its first one.
    """
    line = command_line(record)
    env = " ".join(f"{key}={_quote(value)}" for key, value in record.env)
    if env and record.shell:
        line = f"{env} sh -c {_quote(line)}"
    elif env:
        line = f"{env} {line}"
    if record.cwd:
        line = f"cd {_quote(record.cwd)} && {line}"
    return line


def with_attempt(record: RunRecord, text: str) -> str:
    """`text` led by "Attempt 2/3" for a run that is one of a chain of retries (jobs.retries)."""
    if record.attempt <= 1 and record.retried_by is None:
        return text
    mark = f"Attempt {record.attempt}/{record.attempts}"
    return f"{mark}: {text}" if text else mark


def never_started(record: RunRecord) -> bool:
    """The run has no process and never will (missed, skipped, or it failed to start).

    A run whose program could not start is recorded as failed with a start time but without an
    exit code or a log path (the process never existed), so both shapes count.
    """
    if record.status.is_final and record.started_at is None:
        return True
    return record.status is RunStatus.FAILED and record.exit_code is None and record.log_path is None


_CAUSE_WORDS = {
    RunCause.SCHEDULED: "scheduled for",
    RunCause.CATCH_UP: "catch-up of",
    RunCause.MANUAL: "started by hand",
    RunCause.AFTER: "started after",  # its upstream jobs finished (jobs.chains)
}


def summary(record: RunRecord) -> str:
    """"Failed · exit 1 · 1m 36s · run #5, scheduled for Mon 30 Nov 07:30 · started Mon 30 Nov 07:30:01"."""
    parts = [status_text(record.status)]
    started = not never_started(record)
    if record.exit_code is not None:
        parts.append(f"exit {record.exit_code}")
    if started and record.duration is not None:
        parts.append(format_duration(record.duration))
    if record.attempt > 1 or record.retried_by is not None:
        parts.append(f"attempt {record.attempt} of {record.attempts}")
    cause = f"run #{record.id}, {_CAUSE_WORDS.get(record.cause, record.cause.value)}"
    if record.cause is RunCause.AFTER:
        cause += f" run #{record.upstream_run_id}" if record.upstream_run_id else " its upstream jobs"
    elif record.cause is not RunCause.MANUAL:
        cause += f" {format_time(record.scheduled_at)}"
    parts.append(cause)
    if started and record.started_at is not None:
        parts.append(f"started {format_time(record.started_at, seconds=True)}")
    elif record.status is RunStatus.WAITING and record.queued_at is not None:
        parts.append(f"waiting since {format_time(record.queued_at, seconds=True)}")
    elif record.queued_at is not None and not record.status.is_final:
        parts.append(f"queued {format_time(record.queued_at, seconds=True)}")
    if record.waiting_for and record.status is not RunStatus.WAITING:
        parts.append(f"waited for {record.waiting_for}")
    return " · ".join(parts)


def own_error(record: RunRecord) -> str | None:
    """The run's error text unless it only repeats the exit code: every failed run has an error
    text, "exit code 3" for a plain non-zero exit, which the exit code already says."""
    if not record.error or (record.exit_code is not None and record.error == f"exit code {record.exit_code}"):
        return None
    return record.error


def failure_words(record: RunRecord) -> str:
    """What the History's Error column says: the error, or for a failed run without one (a row
    written before every failure had an error text) its exit code or status."""
    if record.error:
        return record.error
    if not record.status.is_failure:
        return ""
    return f"exit code {record.exit_code}" if record.exit_code is not None else status_text(record.status)


def stderr_last_lines(record: RunRecord, count: int = 2, width: int = 200) -> list[str]:
    """The last `count` non-blank lines of the run's stderr, each cut to `width` characters."""
    lines = [line.rstrip() for line in (record.stderr_tail or "").splitlines() if line.strip()]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines[-count:]]


def error_text(record: RunRecord) -> str:
    """The error to show prominently, or "" (a plain non-zero exit has no error text)."""
    if record.status is RunStatus.WAITING:
        return f"Waiting for {record.waiting_for or 'its conditions'}: it starts as soon as that holds."
    error = own_error(record)
    if not error:
        return ""
    if never_started(record) and record.status not in (RunStatus.MISSED, RunStatus.SKIPPED):
        return f"Did not start: {error}"
    return error
