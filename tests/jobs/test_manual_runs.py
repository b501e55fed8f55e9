"""A run started by hand has no scheduled time: `scheduled_at` is null in `run --json` and
`history --json` (it said the moment it was asked for, which the window hid and the JSON showed),
while a scheduled run keeps its slot. Through the command line as a user runs it."""

from __future__ import annotations

import json
import sys

from tests.jobs.serve_process import jobdesk


def test_a_run_started_by_hand_has_no_scheduled_time(data_dir):
    data_dir.root.mkdir(parents=True)
    added = jobdesk(data_dir, "add", "--name", "by hand", "--every", "1d", "--", sys.executable, "-c", "pass")
    assert added.returncode == 0, added.stderr
    ran = jobdesk(data_dir, "run", "by hand", "--wait", "--json")
    assert ran.returncode == 0, ran.stderr
    run = json.loads(ran.stdout)
    assert run["cause"] == "manual" and run["status"] == "succeeded"
    assert run["scheduled_at"] is None and run["started_at"] is not None
    listed = jobdesk(data_dir, "history", "--json")
    [row] = json.loads(listed.stdout)
    assert row["id"] == run["id"] and row["scheduled_at"] is None
    table = jobdesk(data_dir, "history")  # the table shows the start time where there is no slot
    assert table.returncode == 0 and "manual" in table.stdout
