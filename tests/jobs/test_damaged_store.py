"""A damaged or truncated database, as a user meets it through the command line and `serve`."""

from __future__ import annotations

import hashlib
import sys

import pytest

from tests.jobs.test_db import corrupt_index
from tests.jobs.test_serve import jobdesk

pytestmark = pytest.mark.slow  # a dozen command-line processes


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def used_store(data_dir) -> str:
    job_id = jobdesk(data_dir, "add", "--name", "report", "--every", "1d", "--", sys.executable, "-c", "pass").stdout.strip()
    for _ in range(3):
        assert jobdesk(data_dir, "run", job_id, "--wait").returncode == 0
    return job_id


def test_every_command_and_serve_refuse_a_damaged_database_and_leave_it_as_it_was(data_dir):
    job_id = used_store(data_dir)
    corrupt_index(data_dir.database)
    before = digest(data_dir.database)
    for args in (["list"], ["history", "--json"], ["show", job_id], ["run", job_id, "--wait"], ["serve"]):
        result = jobdesk(data_dir, *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        [line] = result.stderr.splitlines()
        assert line.startswith(f"jobdesk: {data_dir.database} is damaged (quick_check: ")
        assert "sqlite3" in line and ".recover" in line
    assert digest(data_dir.database) == before


def test_a_truncated_database_is_refused_not_rewritten(data_dir):
    used_store(data_dir)
    data_dir.database.write_bytes(b"")
    for args in (["list"], ["serve"]):
        result = jobdesk(data_dir, *args)
        assert result.returncode == 1, (args, result.stderr)
        assert "is empty (0 bytes), but this data directory was used before" in result.stderr
    assert data_dir.database.stat().st_size == 0
