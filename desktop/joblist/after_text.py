"""What the Jobs table's Next run and Countdown cells say for an after-job (jobs.after_next):
it has no time of its own, so the time it is expected and the job it runs after."""

from __future__ import annotations

import math

from desktop.formatting import format_relative, format_time, format_time_with_relative
from jobs.after_next import NOT_EXPECTED, ExpectedAfter

NO_COUNTDOWN = "after upstream"  # the Countdown cell when no time can be told


def next_run_text(expected: ExpectedAfter | None, upstream: str, zone: str | None) -> str:
    """"after Extract (Wed 2 Dec 06:00)", or "after its upstream jobs"."""
    return f"after {upstream} ({format_time(expected.at, zone=zone)})" if expected is not None else NOT_EXPECTED


def countdown_text(expected: ExpectedAfter | None) -> str:
    """"after 3 h" (not before then: it starts when those runs end), as Upcoming counts it."""
    if expected is None:
        return NO_COUNTDOWN
    relative = format_relative(expected.at)
    return relative.replace("in ", "after ", 1) if relative.startswith("in ") else relative


def tooltip(expected: ExpectedAfter | None, upstream: str, zone: str | None) -> str:
    if expected is None:
        return ("Runs when the jobs it runs after have finished; no time can be told (one of them is paused "
                "or has no next run, or it waits for failures)")  # fmt: skip
    when = format_time_with_relative(expected.at, zone=zone)
    return f"Expected when the run of {upstream} at {when} ends, if the runs it waits for succeed"


def sort_key(expected: ExpectedAfter | None) -> float:
    return expected.at.timestamp() if expected is not None else math.inf
