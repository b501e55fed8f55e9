"""Words for how long a job usually takes and how far a running run is: the Jobs table's Usual
column, its strip's tooltip, the History's Duration cell and the tray's tooltip.

"1m 20s" (usual); "42s of ~1m 20s" while a run is going; "2m 50s, longer than usual" past it.
"""

from __future__ import annotations

from datetime import datetime, timezone

from desktop.formatting import NO_VALUE, format_duration
from jobs.model import RunRecord, RunStatus
from jobs.run_stats import DurationStats, RunBar, eta

LONG_WORDS = {"long": "longer than usual", "short": "much shorter than usual"}
MARKS = {"long": "long", "short": "short"}  # the History's Duration cell: "3m 2s (long)"


def elapsed(record: RunRecord, now: datetime | None = None) -> float | None:
    """Seconds a running run has been going (None: not running, or no start known)."""
    if record.status is not RunStatus.RUNNING or record.started_at is None:
        return None
    return max(0.0, ((now or datetime.now(timezone.utc)) - record.started_at).total_seconds())


def running_progress(record: RunRecord | None, usual: DurationStats | None) -> tuple[float, bool] | None:
    """(fraction of its usual (median) time a running run is at, capped at 1; whether it is
    longer than usual); None when it is not running or the job has no usual time."""
    seconds = elapsed(record) if record is not None else None
    left = eta(usual, seconds) if seconds is not None else None
    return (left[1], record is not None and record.slow == "long") if left is not None else None


def running_words(record: RunRecord, usual: DurationStats | None) -> str | None:
    """"42s of ~1m 20s" (or "42s, ~38s left" with `left`); None when the run is not running."""
    seconds = elapsed(record)
    if seconds is None:
        return None
    so_far = format_duration(float(int(seconds)))
    if record.slow == "long":  # the tooltip and the orange bar say "longer than usual"
        return f"{so_far} (usually {format_duration(usual.median)})" if usual is not None else f"{so_far} (long)"
    if usual is None:
        return f"{so_far} so far"
    return f"{so_far} of ~{format_duration(usual.median)}"


def eta_words(record: RunRecord, usual: DurationStats | None) -> str | None:
    """"~38s left", "over its usual time", or None (not running / no usual time yet)."""
    seconds = elapsed(record)
    left = eta(usual, seconds) if seconds is not None else None
    if left is None:
        return None
    return f"~{format_duration(float(int(left[0]) or 1))} left" if left[0] > 0 else "over its usual time"


def usual_text(last: RunRecord | None, usual: DurationStats | None) -> str:
    """The Usual cell: the running run's progress, else the median of the last successes."""
    if last is not None:
        words = running_words(last, usual)
        if words is not None:
            return words
    return format_duration(usual.median) if usual is not None else NO_VALUE


def usual_tooltip(last: RunRecord | None, usual: DurationStats | None, strip: tuple[RunBar, ...] = ()) -> str:
    lines = []
    if usual is None:
        lines.append("No successful run yet: no usual duration")
    else:
        lines.append(f"Usual duration {format_duration(usual.median)} (p95 {format_duration(usual.p95)}, "
                     f"{usual.runs} successful run{'s' if usual.runs != 1 else ''})")  # fmt: skip
    if last is not None and (words := running_words(last, usual)) is not None:
        left = LONG_WORDS["long"] if last.slow == "long" else eta_words(last, usual)
        lines.append(f"Running: {words}" + (f", {left}" if left else ""))
    if strip:
        slow = sum(1 for bar in strip if bar.slow)
        failed = sum(1 for bar in strip if bar.status.is_failure)
        lines.append(f"Last {len(strip)} runs: {failed} failed" + (f", {slow} unusual" if slow else ""))
    return "\n".join(lines)


def strip_with_live_run(strip: tuple[RunBar, ...], last: RunRecord | None) -> tuple[RunBar, ...]:
    """The strip with the job's newest run as events told it (running, or just ended), until the
    next snapshot reads it from history."""
    if last is None or last.status not in _STRIP_STATUSES:
        return strip
    started = last.started_at.timestamp() if last.started_at is not None else None
    seconds = elapsed(last) if last.status is RunStatus.RUNNING else last.duration
    bar = RunBar(last.id, last.status, started, seconds, last.slow)
    if strip and strip[-1].id == last.id:
        return (*strip[:-1], bar)
    if strip and strip[-1].id > last.id:
        return strip
    return (*strip, bar)[-20:]


_STRIP_STATUSES = (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.KILLED,
                   RunStatus.INTERRUPTED, RunStatus.RUNNING)  # fmt: skip
