"""The dispatcher behind the runner seam: real SQLite, real child processes, a real Qt loop."""

from __future__ import annotations

from sqlalchemy import text

from jobs.history import HistoryQuery
from jobs.model import CronSpec, JobSpec, RunRecord, RunRequest, RunStatus
from jobs.runners import Execution, LocalRunner, RunListener
from jobs.service import JobService
from tests.conftest import py
from tests.jobs.test_process import merge_stretches

YEARLY = CronSpec("0 0 1 1 *", "UTC")


def job(name: str = "job", command: tuple[str, ...] = py("print('hello')"), **kw) -> JobSpec:
    return JobSpec(name=name, command=command, trigger=YEARLY, **kw)


class FailsOnceRunner(LocalRunner):
    """A runner with a bug in `start` for its first run (fault injection); then the real one."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    def start(self, request: RunRequest, listener: RunListener) -> Execution:
        if not self.failed:
            self.failed = True
            raise RuntimeError("runner exploded")
        return super().start(request, listener)


def test_a_runner_that_fails_to_start_a_run_ends_it_and_frees_the_slot(data_dir, qapp):
    service = JobService(data_dir)
    service.dispatcher.runner = FailsOnceRunner()
    try:
        saved = service.add_job(job())
        first = service.wait_for_run(service.run_now(saved.id), timeout=20)
        assert first.status is RunStatus.FAILED and first.error == "internal error: runner exploded"
        second = service.wait_for_run(service.run_now(saved.id), timeout=20)  # not skipped: the slot is free
        assert second.status is RunStatus.SUCCEEDED
    finally:
        service.shutdown()


def test_the_end_of_a_run_the_database_refuses_still_reaches_waiters(data_dir, qapp, qtbot):
    """A write failure on the run path is said (wait, run_finished, the run's log), never lost."""
    service = JobService(data_dir)
    try:
        saved = service.add_job(job(command=py("import sys; print('out'); sys.exit(3)")))
        with service.engine.begin() as conn:  # a real SQLite error on every write of a run row
            for action in ("INSERT", "UPDATE"):
                conn.execute(text(f"CREATE TRIGGER refuse_{action} BEFORE {action} ON runs "
                                  "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"))
        finished: list[RunRecord] = []
        service.events.run_finished.connect(finished.append)
        run_id = service.run_now(saved.id)
        record = service.wait_for_run(run_id, timeout=20)
        assert record is not None and record.id == run_id
        assert (record.status, record.exit_code) == (RunStatus.FAILED, 3)
        assert "not recorded in the database (its end): disk I/O error" in record.error
        qtbot.waitUntil(lambda: [r.id for r in finished] == [run_id], timeout=5000)
        log_text = data_dir.run_log(saved.id, run_id).read_text()
        assert log_text.startswith("out\n") and log_text.endswith("[jobdesk] not recorded in the database (its end): disk I/O error\n")
        assert service.history.count(HistoryQuery(job_id=saved.id)) == 0
    finally:
        service.shutdown()


def test_live_output_says_which_stream_each_chunk_came_from(data_dir, qapp, qtbot):
    from jobs.events import OutputChunk

    service = JobService(data_dir)
    try:
        script = "import sys, time; print('out'); time.sleep(0.3); print('err', file=sys.stderr)"
        saved = service.add_job(job(command=py(script)))
        chunks: list[OutputChunk] = []
        service.events.run_output.connect(chunks.append)
        record = service.wait_for_run(service.run_now(saved.id), timeout=20)
        qtbot.waitUntil(lambda: "".join(c.text for c in chunks) == "out\nerr\n", timeout=5000)
        assert merge_stretches([(c.stream, c.text) for c in chunks]) == [("stdout", "out\n"), ("stderr", "err\n")]
        assert record.stderr_tail == "err" and record.error is None
    finally:
        service.shutdown()
