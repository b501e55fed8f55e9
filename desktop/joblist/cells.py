"""What a cell of the Jobs table says: its text and its tooltip, from the row alone (no Qt)."""

from __future__ import annotations

from desktop.formatting import NO_VALUE, format_relative, format_time, format_time_with_relative, status_text, zone_note
from desktop.history.run_text import own_error, stderr_last_lines
from desktop.joblist import after_text
from desktop.joblist.packed_bars import unpack_bars
from desktop.joblist.rows import COUNTDOWN, LAST_RUN, NAME, NEXT_RUN, RECENT, SCHEDULE, STATE, USUAL, JobRow, last_run_time
from desktop.joblist.usual_text import usual_text, usual_tooltip
from jobs.after_next import is_after
from jobs.job_state import ACTIVE, FINISHED, PAUSED

_STATE_WORDS = {ACTIVE: "Active", PAUSED: "Paused", FINISHED: "Finished"}
_STATE_TIPS = {
    ACTIVE: "Active: runs on schedule",
    PAUSED: "Paused: scheduled runs do not happen",
    FINISHED: "Finished: it has no more runs (Run again at… gives a one-off job a new time)",
}



def cell_text(item: JobRow, column: int) -> str:
    spec = item.spec
    if column == NAME:
        return spec.name
    if column == SCHEDULE:
        return item.schedule
    if column == NEXT_RUN:
        if not spec.paused and is_after(spec):
            return after_text.next_run_text(item.expected, item.upstream, spec.trigger.timezone)
        return NO_VALUE if spec.paused or item.next_run is None else format_time(item.next_run, zone=spec.trigger.timezone)
    if column == COUNTDOWN:
        if spec.paused:
            return "paused"
        if is_after(spec):
            return after_text.countdown_text(item.expected)
        return format_relative(item.next_run) if item.next_run is not None else NO_VALUE
    if column == LAST_RUN:
        return format_time(last_run_time(item.last_run)) if item.last_run is not None else "never"
    if column == STATE:
        return _STATE_WORDS[item.state]
    if column == USUAL:
        return usual_text(item.last_run, item.usual)
    return ""


def cell_tooltip(item: JobRow, column: int) -> str | None:
    spec = item.spec
    if column == NAME:
        lines = [spec.name]
        if spec.description:
            lines.append(spec.description)
        if spec.tags:
            lines.append("Tags: " + ", ".join(spec.tags))
        return "\n".join(lines)
    if column == SCHEDULE:
        return item.schedule
    if column in (NEXT_RUN, COUNTDOWN):
        if spec.paused:
            return "Paused: no runs until it is resumed"
        if is_after(spec):
            return after_text.tooltip(item.expected, item.upstream, spec.trigger.timezone)
        if item.next_run is None:
            return "No more runs"
        text = format_time_with_relative(item.next_run, zone=spec.trigger.timezone)
        return f"{text}\nSchedule in {spec.trigger.timezone}" if zone_note(item.next_run, spec.trigger.timezone) else text
    if column == LAST_RUN:
        record = item.last_run
        if record is None:
            return "Has not run yet"
        parts = [f"Run #{record.id}: {status_text(record.status)}", format_time(last_run_time(record), seconds=True)]
        if record.exit_code is not None:
            parts.append(f"exit code {record.exit_code}")
        error = own_error(record)  # not "exit code 2" a second time
        if error:
            parts.append(error.splitlines()[0][:200])
        if record.status.is_failure:
            parts.extend(f"stderr: {line}" for line in stderr_last_lines(record, 1))
        return "\n".join(parts)
    if column == STATE:
        return _STATE_TIPS[item.state]
    if column in (USUAL, RECENT):
        return usual_tooltip(item.last_run, item.usual, unpack_bars(item.strip) if column == RECENT else ())
    return None
