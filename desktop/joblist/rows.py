"""The Jobs table's rows as plain data: one `JobRow` per job and its sort keys.

No Qt here: the jobs snapshot's worker thread builds the rows of a complete snapshot and the
key of the column the table is sorted by (`fresh_rows`), so the GUI thread only compares them
with the rows it shows (at 10,000 jobs building them there was ~50 of the ~100 ms each load
froze the window).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from desktop.joblist import after_text
from desktop.joblist.row_order import SortState, sorted_positions
from jobs.after_next import ExpectedAfter, is_after, upstream_words
from jobs.gui_priority import every
from jobs.job_state import STATES, JobState, job_state
from jobs.model import JobSpec, RunRecord
from jobs.run_stats import DurationStats

NAME, SCHEDULE, NEXT_RUN, COUNTDOWN, LAST_RUN, STATE, USUAL, RECENT = range(8)
HEADERS = ("Name", "Schedule", "Next run", "Countdown", "Last run", "State", "Usual", "Recent runs")


@dataclass(slots=True)  # one per job: no instance dict
class JobRow:
    spec: JobSpec
    schedule: str
    next_run: datetime | None
    last_run: RunRecord | None
    usual: DurationStats | None = None
    strip: bytes = b""  # the recent runs, packed (desktop.joblist.packed_bars)
    expected: ExpectedAfter | None = None  # an after-job's next expected run (jobs.after_next)
    upstream: str = ""  # ...and the job(s) it runs after then, in words
    # Sort keys by column, (key, name), made once per row and column (JobsModel.sort). Cleared
    # where a row changes.
    keys: dict[int, tuple[Any, str]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def state(self) -> JobState:
        return job_state(self.spec, self.next_run)


def last_run_time(record: RunRecord | None) -> datetime | None:
    if record is None:
        return None
    return record.ended_at or record.started_at or record.queued_at or record.scheduled_at


def cached_key(item: JobRow, column: int) -> Any:
    return (item.keys.get(column) or row_key(item, column))[0]


def row_key(item: JobRow, column: int) -> tuple[Any, str]:
    """The row's key for `column` with its name (ties go by name), kept in the row."""
    key = item.keys[column] = (sort_key_of(item, column), item.spec.name.casefold())
    return key


def sort_key_of(item: JobRow, column: int) -> Any:
    if column == NAME:
        return item.spec.name.casefold()
    if column == SCHEDULE:
        return item.schedule.casefold()
    if column in (NEXT_RUN, COUNTDOWN):
        if not item.spec.paused and is_after(item.spec):
            return after_text.sort_key(item.expected)
        return math.inf if item.spec.paused or item.next_run is None else item.next_run.timestamp()
    if column == LAST_RUN:
        moment = last_run_time(item.last_run)
        return moment.timestamp() if moment is not None else -math.inf
    if column == STATE:
        return STATES.index(item.state)
    if column in (USUAL, RECENT):
        return item.usual.median if item.usual is not None else -math.inf
    return None


def fresh_rows(specs: Iterable[JobSpec], next_runs: Mapping[str, datetime], last_runs: Mapping[str, RunRecord],
               schedules: Mapping[str, str], durations: Mapping[str, DurationStats], strips: Mapping[str, bytes],
               expected_after: Mapping[str, ExpectedAfter], key_column: int = -1,
               previous: Mapping[str, JobRow] | None = None) -> dict[str, JobRow]:  # fmt: skip
    """Each job's row from a complete snapshot's parts alone (what the table shows of it), with
    its sort key for `key_column` made (none for -1). A row equal to the one `previous` (the
    last call's answer) has for the job is that very object: the table holds it, and its diff
    of 10,000 rows is then identity checks (a RunRecord compared field by field is ~3 us)."""
    specs = list(specs)
    names = {spec.id: spec.name for spec in specs}
    rows = {}
    for spec in every(specs):  # (jobs.gui_priority: the GUI thread first)
        expected = expected_after.get(spec.id)
        upstream = upstream_words(expected, names) if expected is not None else ""
        item = JobRow(spec, schedules.get(spec.id, ""), next_runs.get(spec.id), last_runs.get(spec.id),
                      durations.get(spec.id), strips.get(spec.id, b""), expected, upstream)  # fmt: skip
        old = previous.get(spec.id) if previous else None
        if old is not None and old == item:  # (the table may have given it a newer live run: still its row)
            rows[spec.id] = old  # its sort keys are the table's to keep (made or cleared on the GUI thread)
            continue
        if key_column >= 0:
            row_key(item, key_column)
        rows[spec.id] = item
    return rows


def in_order(rows: list[JobRow], column: int, descending: bool) -> list[JobRow]:
    """`rows` sorted by `column` as the table sorts them (-1: as they are), on any thread.

    Keys the rows hold are used; missing ones are worked out but not stored: a row the table
    already shows is the GUI thread's to change, and a key stored here could be older than a
    live run it got meanwhile."""
    if column < 0:
        return rows
    keys = [item.keys.get(column) or (sort_key_of(item, column), item.spec.name.casefold()) for item in rows]
    return [rows[i] for i in sorted_positions(keys, descending)]


@dataclass(frozen=True)
class TableRows:
    """A snapshot's rows as the table shows them, made on the worker: in the order `sorted_as`,
    each job's row number, and whether they are the very rows (same objects, same order) of an
    earlier load (`same_as`, its serial), when the table has nothing to do.

    When the jobs and their order are those of the previous table, `positions` is that table's
    very dict and `changed` lists the runs of rows whose objects differ from its rows: a table
    showing the previous table then tells views of those rows alone, without comparing 10,000
    rows and ids on the GUI thread (that was ~10 of the ~20 ms each complete load froze it)."""

    ordered: tuple[JobRow, ...]
    positions: dict[str, int]
    sorted_as: SortState
    serial: int
    same_as: int | None = None
    changed: tuple[tuple[int, int], ...] | None = None  # None: compared with nothing


def table_rows(rows: list[JobRow], order: SortState, serial: int, previous: TableRows | None = None) -> TableRows:
    ordered = tuple(in_order(rows, order.column, order.descending))
    positions = {item.spec.id: row for row, item in enumerate(ordered)}
    if previous is None or previous.sorted_as != order or previous.positions != positions:
        return TableRows(ordered, positions, order, serial)
    changed = row_runs([row for row, (new, old) in enumerate(zip(ordered, previous.ordered)) if new is not old])
    return TableRows(ordered, previous.positions, order, serial, None if changed else previous.serial, tuple(changed))


def row_runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7] -> [(1, 3), (7, 7)] (rows in ascending order)."""
    out: list[tuple[int, int]] = []
    for row in rows:
        if out and row == out[-1][1] + 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out
