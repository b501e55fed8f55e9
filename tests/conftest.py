"""Shared fixtures: a private data directory per test, offscreen Qt, child-process helpers."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from jobs.paths import DataDir, resolve_data_dir


@pytest.fixture
def data_dir(tmp_path) -> DataDir:
    return resolve_data_dir(tmp_path / "data")


def py(code: str) -> tuple[str, ...]:
    """A command that runs `code` in a fresh Python (qutebrowser's py_proc idea)."""
    return (sys.executable, "-c", code)


# WORKAROUND: PySide6 6.12 sometimes aborts while Python finalizes ("Fatal Python error:
# bool_dealloc" during the final garbage collection, after every test passed; seen about one run
# in four here). Once pytest has reported, end the process without that finalization.
_exit_status = {"code": 0}


def pytest_sessionfinish(session, exitstatus):
    _exit_status["code"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if os.environ.get("JOBDESK_TEST_FINALIZE") == "1" or hasattr(config, "workerinput"):
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_exit_status["code"])
