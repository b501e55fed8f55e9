"""jobdesk.log: the scheduler's decisions (scheduled, skipped, missed, caught up, notified), kept
in the data directory by the window and by `serve`, and written by a thread of its own.

Callers only queue their lines (logging's QueueHandler); one listener thread formats and writes
them. A line logged on the window's GUI thread used to be written there, waiting for the disk and
for the handler's lock, which the run threads' lines held too: in the morning start at 10,000
jobs, ~560 lines (the catch-up's, the notifications') cost it 105-276 ms, the worst line 11-15 ms;
queued, 52-62 ms and 4.5 ms. The writer gives way to a busy GUI thread (jobs.gui_priority):
without that, morning starts stalled 63-125 ms against 52-63 ms, its Python competing with the
window's repaints. `stop_file_log` writes what is still queued; main.exit_now calls it before
ending the process.
"""

from __future__ import annotations

import logging
import os
from io import TextIOWrapper
from logging.handlers import QueueHandler, QueueListener, RotatingFileHandler
from queue import SimpleQueue

from jobs.gui_priority import give_way
from jobs.paths import DataDir

MAX_BYTES = 2_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_active: tuple[QueueHandler, QueueListener] | None = None


class PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating log whose files are user-only (0600) like the rest of the data directory
    (issue 9, item 15): the stock handler creates each new file with the umask (0644)."""

    def _open(self) -> TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # a file an older Jobdesk made 0644
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


class _Writer(QueueListener):
    """Writes the queued lines; like other background Python, it gives way to a busy GUI thread."""

    def handle(self, record: logging.LogRecord) -> None:
        give_way()
        super().handle(record)


def add_file_log(data_dir: DataDir) -> None:
    """INFO and above go to the data directory's jobdesk.log as well (the file is made now)."""
    global _active
    handler = PrivateRotatingFileHandler(data_dir.root / "jobdesk.log", maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                         encoding="utf-8")  # fmt: skip
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(logging.INFO)
    stop_file_log()  # a second data directory in one process (tests, benchmarks): the last one's file
    lines: SimpleQueue[logging.LogRecord] = SimpleQueue()
    queued = QueueHandler(lines)
    root = logging.getLogger()
    root.addHandler(queued)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
        for other in root.handlers:
            if other is not queued and other.level == logging.NOTSET:
                other.setLevel(logging.WARNING)
    listener = _Writer(lines, handler, respect_handler_level=True)
    listener.start()
    _active = (queued, listener)


def stop_file_log() -> None:
    """Write every line still queued and stop writing the file (lines logged later do not reach it)."""
    global _active
    active, _active = _active, None
    if active is not None:
        queued, listener = active
        logging.getLogger().removeHandler(queued)
        listener.stop()  # (writes what is queued, then joins its thread)
        for handler in listener.handlers:
            handler.close()
