"""Shared fixtures: a private data directory per test, offscreen Qt, child-process helpers."""

from __future__ import annotations

import gc
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# As main.py does: cyclic collection only on the main (Qt) thread, never on a worker that happens
# to allocate (jobs/main_thread_gc.py; it hung 3 of 4 full runs). Windows and `serve` start the
# collector's timer; `collect_on_main_thread` below collects between tests.
gc.disable()

import pytest

from jobs.paths import DataDir, resolve_data_dir
from jobs.pyside_refcount import pin_singletons

pin_singletons()  # PySide6 6.12.0 on Python 3.11: see jobs/pyside_refcount.py


@pytest.fixture(autouse=True)
def collect_on_main_thread():
    yield
    gc.collect()


@pytest.fixture
def data_dir(tmp_path) -> DataDir:
    return resolve_data_dir(tmp_path / "data")


@pytest.fixture
def engine(data_dir):
    """The data directory's database, opened as the service opens it (schema made, checked)."""
    from jobs.db import open_database
    from jobs.paths import ensure_private_dir

    ensure_private_dir(data_dir.root)
    engine = open_database(data_dir.database)
    yield engine
    engine.dispose()


@pytest.fixture
def service(data_dir, qapp):
    """A scheduling JobService on the test's data directory (a module may define its own)."""
    from jobs.service import JobService

    svc = JobService(data_dir)
    svc.start()
    yield svc
    svc.shutdown()


def py(code: str) -> tuple[str, ...]:
    """A command that runs `code` in a fresh Python (qutebrowser's py_proc idea)."""
    return (sys.executable, "-c", code)


# Defence in depth: PySide6 6.12.0's refcount leak (jobs/pyside_refcount.py) first showed up as an
# abort in the final garbage collection after every test had passed. Once pytest has reported,
# end the process without finalization, so no such crash can turn a green run red.
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
