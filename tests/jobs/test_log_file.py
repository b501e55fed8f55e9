"""jobdesk.log written by a thread of its own (jobs.log_file): a caller never waits for the disk,
and every line it logged is in the file, in order and formatted as before, once `stop_file_log`
has run (main.exit_now runs it before the process ends)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

import pytest

from jobs.log_file import add_file_log, stop_file_log

LINE = "x" * 100


@pytest.fixture
def logger(data_dir):
    data_dir.root.mkdir(parents=True)
    log = logging.getLogger("test_log_file")
    yield log
    stop_file_log()


def test_lines_from_any_thread_reach_the_file_in_order_with_their_tracebacks(data_dir, logger):
    add_file_log(data_dir)
    logger.info("first %d", 1)
    thread = threading.Thread(target=lambda: logger.warning("from a thread"))
    thread.start()
    thread.join()
    try:
        1 / 0
    except ZeroDivisionError:
        logger.exception("it broke")
    logger.debug("below INFO")
    stop_file_log()
    text = (data_dir.root / "jobdesk.log").read_text()
    lines = text.splitlines()
    assert lines[0].endswith(" INFO test_log_file: first 1")
    assert lines[1].endswith(" WARNING test_log_file: from a thread")
    assert lines[2].endswith(" ERROR test_log_file: it broke") and "ZeroDivisionError: division by zero" in text
    assert "below INFO" not in text


@pytest.mark.skipif(sys.platform == "win32", reason="a named pipe stands in for a disk that does not answer")
def test_a_caller_goes_on_while_the_file_cannot_be_written(data_dir, logger):
    """jobdesk.log is a pipe nobody reads until its 64 KiB buffer is full: a writer blocks there.
    A caller's 2,000 lines (200 KB) are queued at once; once read, they all arrive, in order."""
    path = data_dir.root / "jobdesk.log"
    os.mkfifo(path, 0o600)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # (so that opening it to write does not wait)
    try:
        add_file_log(data_dir)

        def log_all() -> None:
            for number in range(2000):
                logger.info("%04d %s", number, LINE)

        caller = threading.Thread(target=log_all, daemon=True)
        caller.start()
        caller.join(10)
        blocked = caller.is_alive()  # (a caller writing the file itself waits at the 64 KiB mark)
        received = bytearray()
        done = threading.Event()

        def drain() -> None:
            while not done.is_set() or received.count(b"\n") < 2000:
                try:
                    chunk = os.read(reader, 65536)
                except BlockingIOError:
                    time.sleep(0.005)
                    continue
                received.extend(chunk)

        drainer = threading.Thread(target=drain, daemon=True)
        drainer.start()
        caller.join(30)
        stop_file_log()  # returns once the writer wrote the last line into the pipe
        done.set()
        drainer.join(30)
    finally:
        os.close(reader)
    assert not blocked
    numbers = [int(line.split(b"test_log_file: ")[1][:4]) for line in bytes(received).splitlines()]
    assert numbers == list(range(2000))
