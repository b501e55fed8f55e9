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
