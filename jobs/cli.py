"""The `jobdesk` command line: the same core as the window, without one.

Each command becomes a request (jobs.control). If a Jobdesk instance (window or `serve`) holds
the data directory, the request goes to it over the local socket, so its scheduler knows at
once; otherwise this process takes the lock and acts on the store itself.
Exit codes: 0 done, 1 failure, 2 bad usage or invalid input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable, NoReturn, Sequence

from jobs import __version__, triggers
from jobs.command_errors import CommandFailed, UsageError
from jobs.durations import parse_duration
from jobs.model import Notify, Overlap

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jobdesk", description="Schedule your own scripts and see what ran, when and why it failed.")
    parser.add_argument("--version", action="version", version=f"jobdesk {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="where jobs and history live (default: $JOBDESK_DATA_DIR or the per-user data dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    parser.add_argument("--minimized", action="store_true", help="start the window hidden in the tray")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    add = sub.add_parser("add", help="add a job; prints its id", description="Add a job. Put the command after --.")
    add.add_argument("--name", required=True)
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help="standard 5-field crontab, e.g. '30 7 * * 1-5' (0 and 7 are Sunday)")
    when.add_argument("--every", metavar="DURATION", help="interval like 90s, 15m, 2h, 1d")
    when.add_argument("--at", metavar="DATETIME", help="once, e.g. '2026-12-01 09:00'")
    add.add_argument("--tz", metavar="TZ", help="IANA time zone (default: this machine's)")
    add.add_argument("--cwd", metavar="DIR", help="working directory")
    add.add_argument("--env", metavar="K=V", action="append", default=[], help="environment override (repeatable)")
    add.add_argument("--timeout", metavar="DURATION", help="kill the run's process tree after this long")
    add.add_argument("--shell", action="store_true", help="run the command through the system shell")
    add.add_argument("--description", default="")
    add.add_argument("--tag", action="append", default=[], help="tag (repeatable)")
    add.add_argument("--overlap", choices=[o.value for o in Overlap], default=Overlap.SKIP.value,
                     help="when the previous run is still going: skip (default), queue one, or run in parallel")
    add.add_argument("--max-parallel", type=int, default=1, metavar="N", help="with --overlap parallel")
    add.add_argument("--grace", metavar="DURATION", help="a missed run may still start this late (default: any)")
    add.add_argument("--no-coalesce", action="store_true", help="run every missed slot, not one catch-up run")
    add.add_argument("--notify", choices=[n.value for n in Notify], default=Notify.FAILURE.value)
    add.add_argument("--paused", action="store_true", help="add it paused")
    add.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]")

    lst = sub.add_parser("list", help="list jobs with their next run")
    lst.add_argument("--json", action="store_true")
    for name, text in (("show", "show one job"), ("remove", "delete a job (its history stays)"),
                       ("pause", "pause a job"), ("resume", "resume a job")):
        p = sub.add_parser(name, help=text)
        p.add_argument("id")
        if name == "show":
            p.add_argument("--json", action="store_true")
    run = sub.add_parser("run", help="run a job now, without moving its schedule")
    run.add_argument("id")
    run.add_argument("--wait", action="store_true", help="wait for the end; exit with the job's exit code")
    run.add_argument("--json", action="store_true")
    hist = sub.add_parser("history", help="past runs, newest first")
    hist.add_argument("--job", metavar="ID")
    hist.add_argument("--status", metavar="S")
    hist.add_argument("--limit", type=int, default=20, metavar="N")
    hist.add_argument("--json", action="store_true")
    exp = sub.add_parser("export", help="write all jobs to a TOML file ('-' for stdout)")
    exp.add_argument("file")
    imp = sub.add_parser("import", help="add/replace jobs from a TOML file ('-' for stdin); all or nothing")
    imp.add_argument("file")
    sub.add_parser("serve", help="run the scheduler without a window")
    cfg = sub.add_parser("config", help="show or change a core setting")
    cfg.add_argument("name", nargs="?")
    cfg.add_argument("value", nargs="?")
    sub.add_parser("install-desktop", help="add Jobdesk to the desktop's application menu (Linux)")
    sub.add_parser("uninstall-desktop", help="remove what install-desktop added")
    auto = sub.add_parser("autostart", help="start Jobdesk at login")
    auto.add_argument("state", choices=["on", "off", "status"])
    return parser


# --- requests --------------------------------------------------------------------------------


def add_request(args: argparse.Namespace) -> dict[str, Any]:
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise UsageError("jobdesk add: no command given: put it after --, e.g. jobdesk add --name x --every 1h -- python3 report.py")
    try:
        trigger = triggers.parse_cli_trigger(args.cron, args.every, args.at, args.tz)
    except triggers.TriggerError as exc:
        option = "--cron" if args.cron else "--every" if args.every else "--at"
        raise UsageError(f"jobdesk add: {option}: {exc}") from None
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"jobdesk add: --env {item!r}: expected NAME=VALUE")
        env[key] = value
    job: dict[str, Any] = {
        "name": args.name,
        "description": args.description,
        "tags": args.tag,
        "command": [" ".join(cmd)] if args.shell else cmd,
        "shell": args.shell,
        "env": env,
        "trigger": triggers.spec_to_dict(trigger),
        "overlap": args.overlap,
        "max_parallel": args.max_parallel,
        "coalesce": not args.no_coalesce,
        "notify": args.notify,
        "paused": args.paused,
    }
    if args.cwd:
        job["cwd"] = str(Path(args.cwd).expanduser().absolute())
    for option, key in (("timeout", "timeout"), ("grace", "misfire_grace")):
        value = getattr(args, option)
        if value is not None:
            try:
                job[key] = parse_duration(value)
            except ValueError as exc:
                raise UsageError(f"jobdesk add: --{option}: {exc}") from None
    return {"op": "add", "job": job}


def build_request(args: argparse.Namespace) -> dict[str, Any]:
    cmd = args.command
    if cmd == "add":
        return add_request(args)
    if cmd in ("show", "remove", "pause", "resume"):
        return {"op": cmd, "id": args.id}
    if cmd == "run":
        return {"op": "run", "id": args.id, "wait": args.wait}
    if cmd == "history":
        return {"op": "history", "job": args.job, "status": args.status, "limit": args.limit}
    if cmd == "list":
        return {"op": "list"}
    if cmd == "export":
        return {"op": "export"}
    if cmd == "import":
        if args.file == "-":
            text, source = sys.stdin.read(), "<stdin>"
        else:
            from jobs.transfer import ImportProblem, read_import, export_text

            try:
                specs = read_import(Path(args.file))
            except ImportProblem as exc:
                raise UsageError(str(exc)) from None
            text, source = export_text(specs), args.file
        return {"op": "import", "toml": text, "source": source}
    if cmd == "config":
        return {"op": "settings", "name": args.name, "value": args.value}
    raise UsageError(f"jobdesk: unknown command {cmd!r}")


# --- output ----------------------------------------------------------------------------------


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [headers, *rows]]
    return "\n".join(lines)


def _short_time(value: str | None) -> str:
    return "-" if not value else value.replace("T", " ")[:19]


def print_result(args: argparse.Namespace, result: dict[str, Any]) -> int:
    cmd = args.command
    as_json = getattr(args, "json", False)
    if cmd == "add":
        print(result["id"])
    elif cmd == "list":
        if as_json:
            print(json.dumps(result["jobs"], indent=2))
        elif not result["jobs"]:
            print("No jobs yet. Add one: jobdesk add --name NAME --every 1h -- COMMAND")
        else:
            rows = [[j["id"], j["name"], j["schedule"], _short_time(j["next_run"]), j["state"], j["last_status"] or "-"]
                    for j in result["jobs"]]
            print(_table(rows, ["ID", "NAME", "SCHEDULE", "NEXT RUN", "STATE", "LAST"]))
    elif cmd == "show":
        if as_json:
            print(json.dumps(result, indent=2))
        else:
            d = result["definition"]
            print(f"{result['name']}  ({result['id']}, {result['state']})")
            print(f"  schedule:  {result['schedule']}")
            print(f"  command:   {' '.join(d['command'])}{'  (shell)' if d.get('shell') else ''}")
            if d.get("cwd"):
                print(f"  directory: {d['cwd']}")
            print(f"  next runs: {', '.join(_short_time(t) for t in result['next_runs']) or '-'}")
            print(f"  last run:  {_short_time(result['last_run'])} {result['last_status'] or ''}".rstrip())
    elif cmd == "run":
        if "run" not in result:
            print(f"started run #{result['run_id']}")
            return 0
        run = result["run"]
        if as_json:
            print(json.dumps(run, indent=2))
        else:
            duration = f" in {run['duration']:.1f}s" if run["duration"] is not None else ""
            print(f"run #{run['id']} {run['status']}{duration}, exit code {run['exit_code']}")
            if run["error"]:
                print(run["error"], file=sys.stderr)
        if run["status"] == "succeeded":
            return 0
        code = run["exit_code"]
        return code if isinstance(code, int) and 0 < code < 256 else 1
    elif cmd == "history":
        if as_json:
            print(json.dumps(result["runs"], indent=2))
        elif not result["runs"]:
            print("No runs recorded yet.")
        else:
            rows = [[str(r["id"]), r["job_name"], r["cause"], _short_time(r["scheduled_at"] or r["started_at"]),
                     r["status"], "-" if r["exit_code"] is None else str(r["exit_code"]),
                     "-" if r["duration"] is None else f"{r['duration']:.1f}s", (r["error"] or "")[:60]]
                    for r in result["runs"]]
            print(_table(rows, ["RUN", "JOB", "CAUSE", "SCHEDULED", "STATUS", "EXIT", "TIME", "ERROR"]))
    elif cmd == "export":
        if args.file == "-":
            sys.stdout.write(result["toml"])
        else:
            from jobs.transfer import write_atomically

            write_atomically(Path(args.file), result["toml"])
            print(f"exported {result['count']} job(s) to {args.file}")
    elif cmd == "import":
        print(f"imported {len(result['imported'])} job(s): {', '.join(result['imported'])}")
    elif cmd in ("pause", "resume"):
        print(f"{'paused' if result['paused'] else 'resumed'} {result['id']}")
    elif cmd == "remove":
        print(f"removed {result['removed']} (its history is kept)")
    elif cmd == "config":
        for key, value in result["settings"].items():
            print(f"{key} = {value}")
    else:
        print(json.dumps(result, indent=2))
    return 0


# --- main ------------------------------------------------------------------------------------


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        logging.getLogger("apscheduler").setLevel(logging.ERROR)


def run_command(args: argparse.Namespace) -> int:
    """Execute a parsed non-GUI command; returns the exit code."""
    from jobs.paths import resolve_data_dir

    data_dir = resolve_data_dir(args.data_dir)
    if args.command == "serve":
        from jobs.serve import serve

        return serve(data_dir)
    if args.command in ("install-desktop", "uninstall-desktop", "autostart"):
        from jobs.integration.commands import integration_command

        return integration_command(args)
    from jobs.client import send

    request = build_request(args)
    return print_result(args, send(data_dir, request))


def main(argv: Sequence[str] | None = None, open_window: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Entry point. With no command, `open_window` (from main.py) opens the window."""
    try:
        args = build_parser().parse_args(argv)
        configure_logging(args.verbose)
        if args.command is None:
            if open_window is None:
                raise UsageError("jobdesk: no command given (run `jobdesk --help`)")
            return open_window(args)
        return run_command(args)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except CommandFailed as exc:
        print(f"jobdesk: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
