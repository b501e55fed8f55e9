"""Errors a command reports to the person at the keyboard, with their exit codes.

Shared by the argument parser (`jobs.cli`) and the request transport (`jobs.client`) without
either importing the other, and light enough that `jobdesk --help` does not load the store.
Exit codes: 2 for bad usage or invalid input, 1 for anything else that failed.
"""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the person at the keyboard: exit code 2."""


class CommandFailed(Exception):
    """The request was refused or failed; `exit_code` is 2 for invalid input, else 1."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code
