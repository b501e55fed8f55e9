"""`jobdesk serve`: the scheduler without a window, for servers and machines with no display."""

from __future__ import annotations

import logging
import signal
import sys
from logging.handlers import RotatingFileHandler

from PySide6.QtCore import QCoreApplication, QTimer

from jobs.db import DatabaseError
from jobs.instance import InstanceLock
from jobs.ipc import IpcServer
from jobs.main_thread_gc import install_main_thread_collector
from jobs.paths import DataDir, ensure_private_dir
from jobs.service import JobService

log = logging.getLogger(__name__)

LOCK_WAIT_MS = 5000


def add_file_log(data_dir: DataDir) -> None:
    """Scheduler decisions (scheduled, skipped, missed, caught up) go to jobdesk.log too."""
    handler = RotatingFileHandler(data_dir.root / "jobdesk.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
        for other in root.handlers:
            if other is not handler and other.level == logging.NOTSET:
                other.setLevel(logging.WARNING)


def serve(data_dir: DataDir) -> int:
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    install_main_thread_collector()
    ensure_private_dir(data_dir.root)
    lock = InstanceLock(data_dir)
    # A command-line call acting on the store holds the lock for a moment: wait for it rather
    # than refuse to start (seen as a race when `serve` and `jobdesk list` started together).
    if not lock.try_acquire(LOCK_WAIT_MS):
        print(f"jobdesk: another Jobdesk (pid {lock.owner_pid()}) is already scheduling {data_dir.root}", file=sys.stderr)
        return 1
    add_file_log(data_dir)
    try:
        service = JobService(data_dir)
    except DatabaseError as exc:
        lock.release()
        print(f"jobdesk: {exc}", file=sys.stderr)
        return 1
    service.start()
    server = IpcServer(service, data_dir, mode="serve")
    server.listen()

    def stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        app.quit()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    # Python runs signal handlers only between bytecodes; a idle tick lets it in while Qt waits.
    tick = QTimer()
    tick.start(200)
    tick.timeout.connect(lambda: None)
    print(f"jobdesk: scheduling {len(service.jobs.ids())} job(s) from {data_dir.root}; Ctrl+C stops", file=sys.stderr)
    try:
        app.exec()
    finally:
        server.close()
        service.shutdown()
        lock.release()
    return 0
