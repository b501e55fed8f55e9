"""What the command line prints for each answer: tables and words for people, JSON for programs.

The JSON shapes are documented in the README and only ever gain keys.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jobs.cli_retries import RETRY_OPTIONS, retry_words
from jobs.command_errors import CommandFailed
from jobs.durations import format_duration


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [headers, *rows]]
    return "\n".join(lines)


def short_time(value: str | None) -> str:
    return "-" if not value else value.replace("T", " ")[:19]


def _next_run_cell(job: dict[str, Any], names: dict[str, str]) -> str:
    """NEXT RUN: the time, or for an after-job when it is expected ("after Extract (2026-12-01
    06:00:00)", jobs.after_next)."""
    if "expected_after" not in job or job["state"] == "paused":
        return short_time(job["next_run"])
    from jobs.after_next import NOT_EXPECTED, ExpectedAfter, upstream_words  # after-jobs only: it loads APScheduler

    if job["expected_after"] is None:
        return NOT_EXPECTED
    upstream = ExpectedAfter(datetime.fromisoformat(job["expected_after"]), tuple(job["expected_after_jobs"]))
    return f"after {upstream_words(upstream, names)} ({short_time(job['expected_after'])})"


def run_time(run: dict[str, Any], now: datetime | None = None) -> str:
    """TIME of a history row: the duration, or for a running run the time so far ("12.3s+")."""
    if run["duration"] is not None:
        return f"{run['duration']:.1f}s"
    if run["status"] == "running" and run["started_at"]:
        elapsed = ((now or datetime.now(timezone.utc)) - datetime.fromisoformat(run["started_at"])).total_seconds()
        return f"{max(elapsed, 0.0):.1f}s+"
    return "-"


def outcome_line(run: dict[str, Any]) -> str:
    """One line for a finished run: why it could not start, or how it ended."""
    if run["started_at"] is None and run["exit_code"] is None:
        if run["status"] == "failed":
            return f"run #{run['id']} failed: could not start: {run['error'] or 'no reason recorded'}"
        return f"run #{run['id']} {run['status']} before it started" + (f" ({run['error']})" if run["error"] else "")
    duration = f" in {run['duration']:.1f}s" if run["duration"] is not None else ""
    code = run["exit_code"]
    how = f"killed by signal {-code}" if isinstance(code, int) and code < 0 else f"exit code {code}"
    if code == 0 and run["status"] == "failed" and run["error"]:  # e.g. an expected output is missing
        how += f": {run['error']}"
    return f"run #{run['id']} {run['status']}{duration}, {how}"


def outcome_code(run: dict[str, Any]) -> int:
    """Exit status for a run's outcome: 0 succeeded, the job's own code when it has one, else 1."""
    if run["status"] == "succeeded":
        return 0
    code = run["exit_code"]
    return code if isinstance(code, int) and 0 < code < 256 else 1


def _print_show(result: dict[str, Any]) -> None:
    d = result["definition"]
    zone_name = d["trigger"].get("timezone", "")
    print(f"{result['name']}  ({result['id']}, {result['state']})")
    print(f"  schedule:  {result['schedule']}")
    print(f"  command:   {' '.join(d['command'])}{'  (shell)' if d.get('shell') else ''}")
    if d.get("cwd"):
        print(f"  directory: {d['cwd']}")
    if d.get("run_with"):
        print(f"  run with:  {d['run_with']}")
    if d.get("runs_on"):
        print(f"  runs on:   pool {d['runs_on']} (jobdesk workers)")
    if d.get("retries"):
        print(f"  retries:   {retry_words(d)}")
    for index, pattern in enumerate(d.get("expect", [])):
        print(f"  {'expects:' if index == 0 else '':<11}{pattern}")
    times = result["next_runs"]
    if not times and d["trigger"].get("type") == "after":
        print("  next runs: when the jobs it runs after have finished")
    elif not times:
        print("  next runs: -")
    else:
        try:
            zone: Any = ZoneInfo(zone_name)
        except (ValueError, OSError, KeyError):
            zone = None
        label = f" ({zone_name})" if zone is not None else ""
        for index, value in enumerate(times):
            moment = datetime.fromisoformat(value)
            shown = f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M %Z}" if zone is not None else short_time(value)
            print(f"  {'next runs' + label + ':' if index == 0 else '':<{11 + len(label)}}{shown}")
    for index, note in enumerate(result.get("dst_notes", [])):
        print(f"  {'DST:' if index == 0 else '':<11}{note}")
    print(f"  last run:  {short_time(result['last_run'])} {result['last_status'] or ''}".rstrip())
    print(f"  {usual_duration(result.get('duration'))}")


def usual_duration(stats: dict[str, Any] | None) -> str:
    """"Usual duration: 1m 20s (p95 2m 5s, 50 runs)" from `show --json`'s "duration"."""
    if not stats or not stats.get("runs"):
        return "Usual duration: - (no successful run yet)"
    runs = stats["runs"]
    return (f"Usual duration: {format_duration(stats['median'])} "
            f"(p95 {format_duration(stats['p95'])}, {runs} run{'s' if runs != 1 else ''})")  # fmt: skip


def _print_run(args: argparse.Namespace, result: dict[str, Any]) -> int:
    if "run" not in result:
        if result.get("waiting_for"):
            print(f"run #{result['run_id']} is waiting for {result['waiting_for']} "
                  "(jobdesk run --ignore-conditions starts it now)")  # fmt: skip
        else:
            print(f"started run #{result['run_id']}")
        return 0
    run = result["run"]
    if getattr(args, "json", False):
        print(json.dumps(run, indent=2))
    else:
        print(outcome_line(run))
        plain_exit = run["error"] == f"exit code {run['exit_code']}"  # already said by the outcome line
        if run["error"] and run["started_at"] is not None and not plain_exit:
            print(run["error"], file=sys.stderr)
        tail = (run.get("stderr_tail") or "").rstrip("\n")
        if tail and run["status"] != "succeeded":  # why it failed, without opening the log
            print("last lines of stderr:", file=sys.stderr)
            print("\n".join("  " + line for line in tail.splitlines()[-5:]), file=sys.stderr)
    return outcome_code(run)


def _print_history(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if getattr(args, "json", False):
        print(json_list(result["runs"]))
    elif not result["runs"]:
        print("No runs recorded yet.")
    else:
        now = datetime.now(timezone.utc)
        rows = [[str(r["id"]), r["job_name"], r["cause"], short_time(r["scheduled_at"] or r["started_at"]),
                 r["status"], "-" if r["exit_code"] is None else str(r["exit_code"]),
                 run_time(r, now), _note(r)[:60]]
                for r in result["runs"]]
        print(_table(rows, ["RUN", "JOB", "CAUSE", "SCHEDULED", "STATUS", "EXIT", "TIME", "ERROR"]))


def _note(run: dict[str, Any]) -> str:
    """The ERROR column: the error, or what a waiting run waits for."""
    if run["status"] == "waiting" and run.get("waiting_for"):
        note = f"waiting for {run['waiting_for']}"
    else:
        note = run["error"] or ""
    if run.get("attempt", 1) > 1 or run.get("retried_by"):  # one of a chain of retries (jobs.retries)
        note = f"attempt {run['attempt']}/{run['attempts']}" + (f": {note}" if note else "")  # like the window
    return note


def _write_export(args: argparse.Namespace, result: dict[str, Any]) -> None:
    if args.file == "-":
        sys.stdout.write(result["toml"])
        return
    from jobs.transfer import write_atomically

    try:
        write_atomically(Path(args.file), result["toml"])
    except OSError as exc:
        raise CommandFailed(f"{args.file}: cannot be written: {exc.strerror or exc}; nothing was exported") from None
    except UnicodeEncodeError as exc:
        raise CommandFailed(f"{args.file}: not written: a job holds text that is not UTF-8 ({exc.reason})", 2) from None
    print(f"exported {result['count']} job(s) to {args.file}")


def json_list(items: list[Any]) -> str:
    """A JSON array with one item per line: readable, easy to grep, and written by the json
    module's C encoder (any `indent` falls back to the pure-Python one: 0.7 s of `list --json`
    at 10,000 jobs went there). One encoder for all items: `json.dumps` makes a new one per
    call (20 of its 66 ms at 10,000 jobs); same text, as json.dumps(item) writes it."""
    if not items:
        return "[]"
    make = getattr(json.encoder, "c_make_encoder", None)  # None without the C accelerator
    if make is None:
        return "[\n" + ",\n".join(json.dumps(item) for item in items) + "\n]"
    # json.JSONEncoder's defaults, as json.dumps(item) uses them (markers: circular-reference check)
    encode = make({}, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ": ", ", ",
                  False, False, True)  # fmt: skip
    return "[\n" + ",\n".join(["".join(encode(item, 0)) for item in items]) + "\n]"


def why_text(result: dict[str, Any]) -> str:
    """`jobdesk why`: the run's outcome, then what changed since its job's last success."""
    from jobs.changed_since import ChangesSince

    run = result["run"]
    changes = ChangesSince(result["run_id"], result["last_success"], tuple(result["changes"]), result["recorded"])
    said = outcome_line(run)
    error = f"\n{run['error']}" if run["error"] and run["error"] not in said else ""
    return f"{said} ({run['job_name']}){error}\n{changes.text}"


def print_result(args: argparse.Namespace, result: dict[str, Any]) -> int:
    cmd = args.command
    as_json = getattr(args, "json", False)
    if cmd == "add":
        print(result["id"])
    elif cmd == "list":
        if as_json:
            print(json_list(result["jobs"]))
        elif not result["jobs"]:
            print("No jobs yet. Add one: jobdesk add --name NAME --every 1h -- COMMAND")
        else:
            names = {j["id"]: j["name"] for j in result["jobs"]}
            rows = [[j["id"], j["name"], j["schedule"], _next_run_cell(j, names), j["state"], j["last_status"] or "-"]
                    for j in result["jobs"]]
            print(_table(rows, ["ID", "NAME", "SCHEDULE", "NEXT RUN", "STATE", "LAST"]))
    elif cmd == "show":
        if as_json:
            print(json.dumps(result, indent=2))
        else:
            _print_show(result)
    elif cmd == "run":
        return _print_run(args, result)
    elif cmd == "history":
        _print_history(args, result)
    elif cmd == "why":
        print(json.dumps(result, indent=2) if as_json else why_text(result))
    elif cmd == "missed":
        from jobs.cli_missed import print_missed

        return print_missed(args, result)
    elif cmd == "export":
        _write_export(args, result)
    elif cmd == "import":
        added, replaced = result.get("added", result["imported"]), result.get("replaced", [])
        print(f"imported {len(result['imported'])} job(s): {len(added)} added, {len(replaced)} replaced")
    elif cmd in ("pause", "resume"):
        done = "paused" if result["paused"] else "resumed"
        if result.get("all"):
            count = result["count"]
            print(f"{done} {count} job{'s' if count != 1 else ''}" if count else f"no job to {done[:-1]}: all were {done} already")
        else:
            print(f"{done} {result['id']}")
    elif cmd == "remove":
        print(f"removed {result['removed']} (its history is kept)")
        if result.get("warning"):
            print(f"jobdesk: warning: {result['warning']}", file=sys.stderr)
    elif cmd == "edit":
        definition = result["definition"]
        if args.run_with is not None or args.as_written:
            run_with = definition.get("run_with")
            print(f"{result['id']}: runs with {run_with}" if run_with else f"{result['id']}: runs its command as written")
        if any(getattr(args, name, None) is not None for name in RETRY_OPTIONS):
            print(f"{result['id']}: retries {retry_words(definition)}" if definition.get("retries")
                  else f"{result['id']}: no retries")
    elif cmd == "config":
        for key, value in result["settings"].items():
            print(f"{key} = {value}")
    else:
        print(json.dumps(result, indent=2))
    return 0
