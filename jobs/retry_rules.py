"""What makes a job's retry settings valid (jobs.retries); part of jobs.job_rules.

Problems name the definition's field ("retry_backoff"); the command line says them as its
options (--retry-backoff).
"""

from __future__ import annotations

import math
from typing import Any

from jobs.durations import LONGEST
from jobs.model import JobSpec

RETRY_ON_CHOICES = ("failure", "timeout")
MAX_RETRIES = 100
MAX_BACKOFF = 100.0


def retry_problems(spec: JobSpec) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    retries = spec.retries
    if isinstance(retries, bool) or not isinstance(retries, int):
        out.append(("retries", f"{retries!r} is not a whole number"))
    elif not 0 <= retries <= MAX_RETRIES:
        out.append(("retries", f"{retries} must be between 0 and {MAX_RETRIES}"))
    out += _seconds("retry_delay", spec.retry_delay, zero_ok=True)
    if spec.retry_max is not None:
        out += _seconds("retry_max", spec.retry_max, zero_ok=False)
    backoff = spec.retry_backoff
    if not _is_number(backoff):
        out.append(("retry_backoff", f"{backoff!r} is not a number"))
    elif not 1 <= backoff <= MAX_BACKOFF:
        out.append(("retry_backoff", f"{backoff:g} must be between 1 (the same delay every time) and {MAX_BACKOFF:g}"))
    for item in spec.retry_on:
        if item not in RETRY_ON_CHOICES:
            out.append(("retry_on", f"{item!r} is not one of: {', '.join(RETRY_ON_CHOICES)}"))
    if isinstance(retries, int) and retries > 0 and not spec.retry_on and not spec.retry_on_exit:
        out.append(("retry_on", "nothing to retry on: give failure, timeout or exit codes (retry_on_exit)"))
    for code in spec.retry_on_exit:
        if isinstance(code, bool) or not isinstance(code, int) or not 1 <= code <= 255:
            out.append(("retry_on_exit", f"{code!r} is not an exit code from 1 to 255"))
    return out


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _seconds(field: str, value: Any, *, zero_ok: bool) -> list[tuple[str, str]]:
    if not _is_number(value):
        return [(field, f"{value!r} is not a number of seconds")]
    if value < 0 or (value == 0 and not zero_ok):
        return [(field, f"{value:g} must be {'0 or ' if zero_ok else ''}more than 0 seconds")]
    if value > LONGEST:
        return [(field, f"{value:g} seconds is longer than 100 years")]
    return []
