"""The `jobdesk` command line: the same core as the window, without one.

Each command becomes a request (jobs.control). If a Jobdesk instance (window or `serve`) holds
the data directory, the request goes to it over the local socket, so its scheduler knows at
once; otherwise this process takes the lock and acts on the store itself.
Exit codes: 0 done, 1 failure, 2 bad usage or invalid input (one line on stderr).
Output is formatted in jobs.cli_output; `log` and `stop`, which poll a run, in jobs.cli_runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, NoReturn, Sequence

from jobs import __version__, triggers
from jobs.cli_retries import RETRY_OPTIONS, add_retry_options, retry_fields
from jobs.codec import JobValidationError, job_from_dict
from jobs.command_errors import CommandFailed, UsageError
from jobs.durations import DurationNeedsUnit, echo, parse_duration
from jobs.model import AFTER_STATUSES, Notify, Overlap

if TYPE_CHECKING:
    from jobs.paths import DataDir

log = logging.getLogger(__name__)

READ_COMMANDS = frozenset({"list", "show", "history", "export", "why"})  # as jobs.client.READ_ONLY_OPS
SHORTEST_INTERVAL = 10.0  # seconds; shorter needs --allow-sub-10s (a bare "--every 1" was 1 s)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    from jobs.cli_edit import RUN_WITH_HELP, add_edit_commands

    parser = _Parser(prog="jobdesk", description="Schedule your own scripts and see what ran, when and why it failed.")
    parser.add_argument("--version", action="version", version=f"jobdesk {__version__}")
    parser.add_argument("--data-dir", metavar="DIR", help="where jobs and history live (default: $JOBDESK_DATA_DIR or the per-user data dir)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to stderr")
    parser.add_argument("--minimized", action="store_true", help="start the window hidden in the tray")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    add = sub.add_parser("add", help="add a job; prints its id", description="Add a job. Put the command after --.")
    add.add_argument("--name", required=True, help="unique unless --allow-duplicate-name; commands accept it in place of the id")
    when = add.add_mutually_exclusive_group(required=True)
    when.add_argument("--cron", metavar="EXPR", help="standard 5-field crontab, e.g. '30 7 * * 1-5' (0 and 7 are Sunday)")
    when.add_argument("--every", metavar="DURATION", help="interval with a unit: 15m, 2h, 1d (at least 10s)")
    when.add_argument("--at", metavar="DATETIME", help="once, e.g. '2026-12-01 09:00'")
    when.add_argument("--after", metavar="JOB", action="append",
                      help="run when this job (id or name) has finished; repeat it to wait for all of them")
    add.add_argument("--after-status", choices=list(AFTER_STATUSES),
                     help="with --after: how the jobs must have finished: success (default), failure or any")
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
    add.add_argument("--notify", choices=[n.value for n in Notify], default=Notify.FAILURE.value,
                     help="desktop notification, e-mail and webhook: never, on failure (default) or always")
    add.add_argument("--require", metavar="COND", action="append", default=[],
                     help="a due run waits until this holds: ac-power, network or network:HOST:PORT (repeatable)")
    add.add_argument("--condition-deadline", metavar="DURATION",
                     help="a run that waited this long for its conditions ends missed (default: it waits on)")
    add.add_argument("--email", metavar="ADDRESS", action="append", default=[],
                     help="e-mail the outcome here, per --notify (repeatable; see jobdesk config smtp)")
    add.add_argument("--webhook", metavar="URL", action="append", default=[],
                     help="POST the run record here, signed, per --notify (repeatable)")
    add.add_argument("--slow-factor", metavar="X", type=str,
                     help="a run is longer than usual past max(p95 x X, p95 + margin) of its last 50 successes (default 2)")
    add.add_argument("--slow-margin", metavar="DURATION", help="... and past p95 + this (default 1m)")
    add.add_argument("--expect", metavar="PATH", action="append", default=[],
                     help="a file each run must write (globs; {date}, {scheduled:%%Y-%%m-%%d}; repeatable)")
    add.add_argument("--paused", action="store_true", help="add it paused")
    add.add_argument("--allow-sub-10s", action="store_true", help="accept an --every shorter than 10 seconds")
    add.add_argument("--allow-duplicate-name", action="store_true", help="accept a name another job already has")
    add.add_argument("--on", metavar="POOL", help="run on a `jobdesk worker` of this pool (needs `config broker`)")
    add_retry_options(add)
    add.add_argument("--run-with", metavar="PATH", help=RUN_WITH_HELP)
    add.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]")

    lst = sub.add_parser("list", help="list jobs with their next run")
    lst.add_argument("--json", action="store_true")
    for name, text in (("show", "show one job"), ("remove", "delete a job (its history stays)"),
                       ("pause", "pause a job"), ("resume", "resume a job")):
        p = sub.add_parser(name, help=text)
        if name in ("pause", "resume"):
            p.add_argument("id", metavar="JOB", nargs="?", help="the job's id or exact name")
            p.add_argument("--all", action="store_true", help=f"{name} every job (the tray's {name.title()} all)")
        else:
            p.add_argument("id", metavar="JOB", help="the job's id or exact name")
        if name == "remove":
            p.add_argument("--force", action="store_true", help="remove it even if other jobs run after it")
        if name == "show":
            p.add_argument("--json", action="store_true")
            p.add_argument("--from", dest="since", metavar="DATETIME",
                           help="preview runs after this time (local time unless it has an offset)")
            p.add_argument("--count", type=int, metavar="N", help="how many next runs to show (default 5)")
    run = sub.add_parser("run", help="run a job now, without moving its schedule")
    run.add_argument("id", metavar="JOB", help="the job's id or exact name")
    run.add_argument("--wait", action="store_true", help="wait for the end; exit with the job's exit code")
    run.add_argument("--ignore-conditions", action="store_true",
                     help="run now even if the job's conditions do not hold (starts its waiting run, if any)")
    run.add_argument("--json", action="store_true")
    hist = sub.add_parser("history", help="past runs, newest first")
    hist.add_argument("--job", metavar="JOB", help="the job's id or exact name")
    hist.add_argument("--status", metavar="S")
    hist.add_argument("--limit", type=int, default=20, metavar="N")
    hist.add_argument("--json", action="store_true")
    logs = sub.add_parser("log", help="print a run's output")
    logs.add_argument("run_id", metavar="RUN_ID", help="the run's number (see history)")
    logs.add_argument("-f", "--follow", action="store_true",
                      help="keep printing until the run ends; exit with its outcome, like run --wait")
    why = sub.add_parser("why", help="what changed since the job's last success (script, interpreter, variables)")
    why.add_argument("run_id", metavar="RUN_ID", help="the run's number (see history)")
    why.add_argument("--json", action="store_true")
    stop = sub.add_parser("stop", help="stop a running or queued run (TERM, grace, then KILL)")
    stop.add_argument("run_id", metavar="RUN_ID", help="the run's number (see history)")
    exp = sub.add_parser("export", help="write all jobs to a TOML file ('-' for stdout)")
    exp.add_argument("file")
    imp = sub.add_parser("import", help="add/replace jobs from a TOML file ('-' for stdin); all or nothing")
    imp.add_argument("file")
    imp.add_argument("--allow-duplicate-name", action="store_true", help="accept names other jobs already have")
    sub.add_parser("serve", help="run the scheduler without a window")
    cfg = sub.add_parser("config", help="show or change a setting (smtp.* and alert defaults too)",
                         description="Show all settings, one (NAME), or change one (NAME VALUE). Alerts: smtp.host, "
                                     "smtp.port, smtp.user, smtp.password ('-' reads it from stdin), smtp.security "
                                     "(starttls, ssl, none), smtp.from, alert_email, alert_webhook, webhook_secret.")  # fmt: skip
    cfg.add_argument("name", nargs="?")
    cfg.add_argument("value", nargs="?")
    sub.add_parser("install-desktop", help="add Jobdesk to the desktop's application menu (Linux)")
    sub.add_parser("uninstall-desktop", help="remove what install-desktop added")
    auto = sub.add_parser("autostart", help="start Jobdesk at login")
    auto.add_argument("state", choices=["on", "off", "status"])
    from jobs.cli_missed import add_missed_command
    from jobs.cli_remote import add_remote_commands

    add_missed_command(sub)
    add_remote_commands(sub)
    add_edit_commands(sub)
    return parser


# --- requests --------------------------------------------------------------------------------

# Definition fields (jobs.codec) as the options of `add` that set them, for error messages
_OPTIONS = {
    "name": "--name", "description": "--description", "tags": "--tag", "command": "command", "cwd": "--cwd",
    "env": "--env", "timeout": "--timeout", "misfire_grace": "--grace", "max_parallel": "--max-parallel",
    "requires": "--require", "condition_deadline": "--condition-deadline", "email": "--email", "webhooks": "--webhook",
    "runs_on": "--on", "expect": "--expect", "run_with": "--run-with", "slow_factor": "--slow-factor",
    "slow_margin": "--slow-margin", "trigger": "--after", **RETRY_OPTIONS,
}


def _trigger(args: argparse.Namespace) -> dict[str, Any]:
    if args.after_status is not None and args.after is None:
        raise UsageError("jobdesk add: --after-status: goes with --after JOB (which jobs to wait for)")
    if args.after is not None:  # names become ids where the job is saved (jobs.chains)
        if args.tz is not None and not args.tz.strip():
            raise UsageError("jobdesk add: --tz: must not be empty (leave it out for this machine's zone)")
        after: dict[str, Any] = {"type": "after", "jobs": args.after, "status": args.after_status or "success"}
        return after if args.tz is None else {**after, "timezone": args.tz}
    option, value = next((o, v) for o, v in (("--cron", args.cron), ("--every", args.every), ("--at", args.at)) if v is not None)
    if args.tz is not None and not args.tz.strip():
        raise UsageError("jobdesk add: --tz: must not be empty (leave it out for this machine's zone)")
    if args.every is not None:
        _check_every(args.every, args.allow_sub_10s)
    try:
        trigger = triggers.parse_cli_trigger(args.cron, args.every, args.at, args.tz)
    except triggers.TriggerError as exc:
        if exc.field == "timezone":
            raise UsageError(f"jobdesk add: --tz: {exc.message}") from None
        raise UsageError(f"jobdesk add: {option}: {exc}") from None
    except (OverflowError, ValueError):  # dates next to datetime's limits (year 1, year 9999)
        raise UsageError(f"jobdesk add: {option}: {echo(value)} is too far from today to schedule") from None
    return triggers.spec_to_dict(trigger)


def _check_every(text: str, allow_short: bool) -> None:
    try:
        seconds = parse_duration(text, require_unit=True)
    except DurationNeedsUnit as exc:
        raise UsageError(f"jobdesk add: --every: {exc}") from None
    except ValueError as exc:
        raise UsageError(f"jobdesk add: --every: {exc}") from None
    if seconds < SHORTEST_INTERVAL and not allow_short:
        raise UsageError(
            f"jobdesk add: --every: {text.strip()} is shorter than 10 seconds; add --allow-sub-10s if you mean it"
        )


def add_request(args: argparse.Namespace) -> dict[str, Any]:
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise UsageError("jobdesk add: no command given: put it after --, e.g. jobdesk add --name x --every 1h -- python3 report.py")
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"jobdesk add: --env {echo(item)}: expected NAME=VALUE")
        env[key] = value
    job: dict[str, Any] = {
        "name": args.name,
        "description": args.description,
        "tags": args.tag,
        "command": [" ".join(cmd)] if args.shell else cmd,
        "shell": args.shell,
        "env": env,
        "trigger": _trigger(args),
        "overlap": args.overlap,
        "max_parallel": args.max_parallel,
        "coalesce": not args.no_coalesce,
        "notify": args.notify,
        "paused": args.paused,
        "requires": args.require,
        "email": args.email,
        "webhooks": args.webhook,
        "expect": args.expect,
    }
    if args.cwd:
        job["cwd"] = str(Path(args.cwd).expanduser().absolute())
    if args.on is not None:
        job["runs_on"] = args.on
    if args.slow_factor is not None:
        job["slow_factor"] = args.slow_factor  # text: the codec reads it and names the option
    job.update(retry_fields(args))
    if args.run_with is not None:
        job["run_with"] = str(Path(args.run_with).expanduser().absolute()) if args.run_with.strip() else args.run_with
    for option, key in (("timeout", "timeout"), ("grace", "misfire_grace"), ("condition_deadline", "condition_deadline"),
                        ("slow_margin", "slow_margin")):
        value = getattr(args, option)
        if value is not None:
            try:
                job[key] = parse_duration(value)
            except ValueError as exc:
                raise UsageError(f"jobdesk add: --{option.replace('_', '-')}: {exc}") from None
    try:  # here first, to name the option; the instance checks again (it may get requests from elsewhere)
        job_from_dict(job)
    except JobValidationError as exc:
        field = exc.field.split(".")[0]
        raise UsageError(f"jobdesk add: {_OPTIONS.get(field, field)}: {exc.message}") from None
    return {"op": "add", "job": job, "allow_duplicate_name": args.allow_duplicate_name}


def build_request(args: argparse.Namespace) -> dict[str, Any]:
    cmd = args.command
    if cmd == "add":
        return add_request(args)
    if cmd == "remove":
        return {"op": cmd, "id": args.id, "force": args.force}
    if cmd in ("pause", "resume"):
        if args.all == (args.id is not None):
            wrong = "give a JOB or --all, not both" if args.all else "give a JOB (its id or name) or --all"
            raise UsageError(f"jobdesk {cmd}: {wrong}")
        return {"op": cmd, "all": True} if args.all else {"op": cmd, "id": args.id}
    if cmd == "show":
        return {"op": "show", "id": args.id, "from": args.since, "count": args.count}
    if cmd == "run":
        return {"op": "run", "id": args.id, "wait": args.wait, "ignore_conditions": args.ignore_conditions}
    if cmd == "history":
        return {"op": "history", "job": args.job, "status": args.status, "limit": args.limit}
    if cmd == "list":
        return {"op": "list"}
    if cmd == "why":
        return {"op": "why", "id": args.run_id}
    if cmd == "edit":
        from jobs.cli_edit import edit_request

        return edit_request(args)
    if cmd == "export":
        return {"op": "export"}
    if cmd == "import":
        return _import_request(args)
    if cmd == "missed":
        from jobs.cli_missed import missed_request

        return missed_request(args)
    if cmd == "config":
        value = args.value
        if value == "-" and args.name in ("smtp.password", "webhook_secret"):
            value = sys.stdin.readline().rstrip("\r\n")  # kept out of the shell's history and `ps`
        return {"op": "settings", "name": args.name, "value": value}
    raise UsageError(f"jobdesk: unknown command {cmd!r}")


def _import_request(args: argparse.Namespace) -> dict[str, Any]:
    from jobs.transfer import ImportProblem, export_text, parse_import, read_import
    from jobs.wire import import_bytes_problem

    try:
        # The size limit first, as a running instance would apply it (issue 9, item 11)
        if args.file == "-":
            text, source = sys.stdin.read(), "<stdin>"
            size = len(text.encode("utf-8", "surrogatepass"))
        else:
            source = args.file
            size = Path(args.file).stat().st_size if Path(args.file).is_file() else 0  # else read_import says why
        problem = import_bytes_problem(size, source)
        if problem is not None:
            raise CommandFailed(problem, 2)
        specs = parse_import(text, source) if args.file == "-" else read_import(Path(args.file))
    except ImportProblem as exc:
        raise CommandFailed(str(exc), 2) from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"jobdesk import: <stdin>: not UTF-8 text (byte {exc.start})") from None
    # Sent as our own export of what was read: the file's defaults (like a missing time zone)
    # are settled here, on the machine where the file was written
    return {"op": "import", "toml": export_text(specs), "source": source,
            "allow_duplicate_name": args.allow_duplicate_name}


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
    from jobs.cli_access import check_data_dir_access
    from jobs.paths import resolve_data_dir

    if args.command == "worker":  # a worker machine has no data directory (and loads no Qt)
        from jobs.cli_remote import run_worker_command

        return run_worker_command(args)
    if args.command == "interpreters":  # this computer's, whatever the data directory
        from jobs.interpreters import print_interpreters

        return print_interpreters(args.json, args.near)
    data_dir = resolve_data_dir(args.data_dir)
    if args.command == "workers":
        from jobs.cli_remote import show_workers

        return show_workers(args, data_dir)
    if args.command in ("install-desktop", "uninstall-desktop", "autostart"):
        from jobs.integration.commands import integration_command

        return integration_command(args)
    check_data_dir_access(data_dir)
    if args.command == "serve":
        from jobs.serve import serve

        return serve(data_dir)
    if args.command in ("log", "stop"):
        from jobs.cli_runs import follow_log, print_log, stop_run

        if args.command == "stop":
            return stop_run(data_dir, args.run_id)
        return follow_log(data_dir, args.run_id) if args.follow else print_log(data_dir, args.run_id)
    from jobs.list_local import early_read_check

    with early_read_check(data_dir, args.command in READ_COMMANDS):  # its floor beside the imports below
        return _answer(args, data_dir)


def _answer(args: argparse.Namespace, data_dir: DataDir) -> int:
    from jobs.cli_output import print_result

    if args.command == "list":  # with no instance running, read without the lock or SQLAlchemy
        from jobs.list_local import list_here

        listed = list_here(data_dir)
        if listed is not None:
            return print_result(args, listed)
    from jobs.client import send

    request = build_request(args)
    try:
        answer = send(data_dir, request)
    except CommandFailed as exc:
        if args.command == "add" and exc.exit_code == 2:
            raise _as_option_error(str(exc)) from None
        raise
    return print_result(args, answer)


def _as_option_error(message: str) -> UsageError:
    """The instance's "name: ..." for `add`, said as the option that set it."""
    field, sep, rest = message.partition(": ")
    if not sep or field.split(".")[0] not in _OPTIONS:
        return UsageError(f"jobdesk add: {message}")
    hint = "; add --allow-duplicate-name to keep it anyway" if "already the name of" in rest else ""
    return UsageError(f"jobdesk add: {_OPTIONS[field.split('.')[0]]}: {rest}{hint}")


def _tolerant_output() -> None:
    """Text from old rows may hold odd characters: print them escaped rather than crash."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a stream that cannot change now keeps its setting
                pass


def main(argv: Sequence[str] | None = None, open_window: Callable[[argparse.Namespace], int] | None = None) -> int:
    """Entry point. With no command, `open_window` (from main.py) opens the window."""
    try:
        args = build_parser().parse_args(argv)
        configure_logging(args.verbose)
        if args.command is None:
            if open_window is None:
                raise UsageError("jobdesk: no command given (run `jobdesk --help`)")
            return open_window(args)
        _tolerant_output()
        return run_command(args)
    except UsageError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except CommandFailed as exc:
        print(f"jobdesk: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
