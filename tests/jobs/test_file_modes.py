"""Files Jobdesk creates are user-only (0600) under a usual 022 umask (issue 9, item 15)."""

from __future__ import annotations

import logging
import os
import stat

import pytest

from jobs.log_file import PrivateRotatingFileHandler
from tests.jobs.serve_process import jobdesk, start_serve, stop

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are a POSIX notion")


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.mark.slow
def test_log_lock_and_export_files_are_user_only(data_dir, tmp_path, umask_022):
    serve = start_serve(data_dir)  # inherits the 022 umask
    try:
        assert mode(data_dir.root / "jobdesk.log") == 0o600
        assert mode(data_dir.lock_file) == 0o600
        added = jobdesk(data_dir, "add", "--name", "x", "--every", "1h", "--env", "TOKEN=s3cret", "--", "true")
        assert added.returncode == 0, added.stderr
        exported = tmp_path / "jobs.toml"
        result = jobdesk(data_dir, "export", str(exported))
        assert result.returncode == 0, result.stderr
        assert mode(exported) == 0o600 and "s3cret" in exported.read_text()
    finally:
        stop(serve)


def test_every_rotated_log_file_is_user_only_and_an_old_loose_one_is_tightened(tmp_path, umask_022):
    path = tmp_path / "jobdesk.log"
    path.write_text("from an older Jobdesk\n")
    path.chmod(0o644)
    handler = PrivateRotatingFileHandler(path, maxBytes=200, backupCount=2, encoding="utf-8")
    logger = logging.getLogger("test_file_modes.rotation")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for index in range(40):
            logger.warning("line %d of a log that rotates", index)
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(tmp_path.glob("jobdesk.log*"))
    assert [f.name for f in files] == ["jobdesk.log", "jobdesk.log.1", "jobdesk.log.2"]
    assert all(mode(f) == 0o600 for f in files)


def test_an_export_over_a_loose_leftover_temp_file_is_user_only(data_dir, tmp_path, umask_022):
    target = tmp_path / "jobs.toml"
    leftover = tmp_path / "jobs.toml.tmp"
    leftover.write_text("half an old export")
    leftover.chmod(0o644)
    assert jobdesk(data_dir, "add", "--name", "x", "--every", "1h", "--", "true").returncode == 0
    assert jobdesk(data_dir, "export", str(target)).returncode == 0
    assert mode(target) == 0o600 and not leftover.exists()
