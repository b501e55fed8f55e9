"""Jobdesk's entry point: `python main.py` opens the window, `python main.py COMMAND` runs a command."""

from __future__ import annotations

import argparse
import os
import sys


def open_window(args: argparse.Namespace) -> int:
    from desktop.app import run_window

    return run_window(args)


def main(argv: list[str] | None = None) -> int:
    import gc

    from jobs.pyside_refcount import pin_singletons

    pin_singletons()  # before any Qt call
    # Before any thread starts: cyclic collection runs on the Qt thread only
    # (jobs/main_thread_gc.py; the window and `serve` install its collector).
    gc.disable()
    from jobs.cli import main as cli_main

    return cli_main(argv, open_window=open_window)


def exit_now(code: int) -> None:
    """Exit without Python's finalization once all our work is done and flushed.

    Defence in depth against PySide6 refcount bugs surfacing in the final garbage collection
    (jobs/pyside_refcount.py) as a crash report after a clean run. Everything Jobdesk owns
    (database, logs, child processes) is closed before this point.
    """
    log_file = sys.modules.get("jobs.log_file")  # jobdesk.log's writer thread, if this process had one
    if log_file is not None:
        log_file.stop_file_log()  # the lines still queued
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:  # None in a Windows GUI executable (no console)
            stream.flush()
    os._exit(code)


def main_cli() -> None:
    """`jobdesk` console script."""
    exit_now(main())


def main_gui() -> None:
    """`jobdesk-gui` script (no console window on Windows)."""
    exit_now(main())


if __name__ == "__main__":
    exit_now(main())
