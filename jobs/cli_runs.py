"""`jobdesk log RUN_ID [--follow]` and `jobdesk stop RUN_ID`: commands that watch one run.

Both ask for the run's row through the usual request path (the running instance, else the
store) and poll it: the instance's event loop is never blocked by a follower. The output is
read from the run's log file directly (it is this user's file in the data directory), as raw
bytes, so `log` prints exactly what the run wrote.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, BinaryIO

from jobs.cli_output import outcome_code, outcome_line
from jobs.client import send
from jobs.command_errors import CommandFailed
from jobs.paths import DataDir

POLL_SECONDS = 0.25
STOP_WAIT_SECONDS = 120.0  # TERM, the kill grace (default 5 s), KILL: far more than enough
_CHUNK = 64 * 1024


def _info(data_dir: DataDir, run_ref: str) -> dict[str, Any]:
    return send(data_dir, {"op": "run_info", "id": run_ref})


def _final(run: dict[str, Any]) -> bool:
    return run["status"] not in ("queued", "running", "waiting")


def _copy(path: Path, offset: int, out: BinaryIO) -> int:
    """Write what `path` holds past `offset`; returns the new offset."""
    try:
        with path.open("rb") as source:
            source.seek(offset)
            while chunk := source.read(_CHUNK):
                out.write(chunk)
                offset += len(chunk)
    except FileNotFoundError:
        return offset
    out.flush()
    return offset


def _stdout() -> BinaryIO:
    sys.stdout.flush()
    return sys.stdout.buffer


def print_log(data_dir: DataDir, run_ref: str) -> int:
    """The run's output so far; exit 0 when printed, whatever the run's outcome."""
    run = _info(data_dir, run_ref)["run"]
    if not run["log_path"]:
        reason = f": {run['error']}" if run["error"] else ""
        print(f"run #{run['id']} has no output: it did not start ({run['status']}{reason})", file=sys.stderr)
        return 0
    path = Path(run["log_path"])
    if not path.exists():
        raise CommandFailed(f"run #{run['id']}: its log {path} no longer exists (history retention removes old logs)")
    _copy(path, 0, _stdout())
    return 0


def follow_log(data_dir: DataDir, run_ref: str) -> int:
    """Print the output as it comes until the run ends, like `tail -f`; then say how it ended
    (on stderr, stdout stays the run's output) and exit like `run --wait`: 0 if it succeeded,
    the job's exit code when it has one, else 1. A run left "running" by a crash, which no
    Jobdesk is running, ends the follow with exit 1."""
    out, offset = _stdout(), 0
    while True:
        info = _info(data_dir, run_ref)
        run = info["run"]
        if run["log_path"]:
            offset = _copy(Path(run["log_path"]), offset, out)
        if _final(run):
            print(outcome_line(run), file=sys.stderr)
            return outcome_code(run)
        if not info["active"]:
            raise CommandFailed(
                f"run #{run['id']} is marked {run['status']}, but no Jobdesk is running it: no more output will come"
            )
        time.sleep(POLL_SECONDS)


def stop_run(data_dir: DataDir, run_ref: str) -> int:
    """Ask the instance to stop the run, then wait until its row says how it ended."""
    run_id = send(data_dir, {"op": "stop", "id": run_ref})["run_id"]
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while time.monotonic() < deadline:
        run = _info(data_dir, str(run_id))["run"]
        if _final(run):
            if run["status"] == "killed":
                took = f" after {run['duration']:.1f}s" if run["duration"] is not None else " before it started"
                print(f"stopped run #{run_id} (killed{took})")
            else:
                print(f"run #{run_id} ended before it could be stopped: {run['status']}")
            return 0
        time.sleep(POLL_SECONDS)
    raise CommandFailed(f"run #{run_id} was asked to stop {STOP_WAIT_SECONDS:.0f} s ago and has not ended yet")
