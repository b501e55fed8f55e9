"""An after-job that retries: every attempt is still the run of the same upstream run, in its
history row and in the JOBDESK_UPSTREAM_RUN_ID its program sees (chains and retries together)."""

from __future__ import annotations

from tests.jobs.serve_process import start_serve, stop, wait_for
from tests.jobs.test_chains_cli import add, run_wait, runs_of, upstream

# Fails on its first attempt, succeeds on the next; notes what Jobdesk told it each time.
SCRIPT = """
import os, sys
seen = open(sys.argv[1], "a+")
seen.seek(0)
first = seen.read() == ""
seen.write(os.environ["JOBDESK_UPSTREAM_RUN_ID"] + " " + os.environ["JOBDESK_ATTEMPT"] + " " + os.environ["JOBDESK_CAUSE"] + "\\n")
seen.close()
sys.exit(3 if first else 0)
"""


def test_every_attempt_of_an_after_run_keeps_its_upstream_run(data_dir, tmp_path):
    seen = tmp_path / "seen.txt"
    upstream(data_dir, "Extract")
    code = f"import sys; sys.argv[1:] = [{str(seen)!r}]; exec({SCRIPT!r})"
    report = add(data_dir, "Report", "--after", "Extract", "--retries", "1", "--retry-delay", "1s", code=code)
    serve = start_serve(data_dir)
    try:
        extract_run = run_wait(data_dir, "Extract")
        wait_for(lambda: [r["status"] for r in runs_of(data_dir, report)] == ["succeeded", "failed"])
    finally:
        stop(serve)
    second, first = runs_of(data_dir, report)  # newest first
    assert [(r["cause"], r["upstream_run_id"], r["attempt"]) for r in (first, second)] == [
        ("after", extract_run, 1), ("after", extract_run, 2)]
    assert second["first_run_id"] == first["id"] and first["retried_by"] == second["id"]
    assert seen.read_text().splitlines() == [f"{extract_run} 1 after", f"{extract_run} 2 after"]
