"""What `history --json` says about a failed run: error text, last lines of stderr, leftovers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.jobs.test_serve import jobdesk

FAILING = "import sys; print('loading'); print('ValueError: bad row 7', file=sys.stderr); sys.exit(3)"


def test_a_failed_run_has_an_error_and_its_stderr_tail_in_history_json(data_dir):
    job_id = jobdesk(data_dir, "add", "--name", "etl", "--every", "1d", "--", sys.executable, "-c", FAILING).stdout.strip()
    assert jobdesk(data_dir, "run", job_id, "--wait").returncode == 3
    result = jobdesk(data_dir, "history", "--json")
    [run] = json.loads(result.stdout)
    assert run["status"] == "failed" and run["error"] == "exit code 3"
    assert run["stderr_tail"] == "ValueError: bad row 7"
    assert run["left_processes"] == 0
    assert Path(run["log_path"]).read_text() == "loading\nValueError: bad row 7\n"  # the exit code is in the record
