"""Jobdesk's entry point: `python main.py` opens the window, `python main.py COMMAND` runs a command."""

from __future__ import annotations

import argparse
import sys


def open_window(args: argparse.Namespace) -> int:
    from desktop.app import run_window

    return run_window(args)


def main(argv: list[str] | None = None) -> int:
    from jobs.cli import main as cli_main

    return cli_main(argv, open_window=open_window)


def main_gui() -> None:
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
