"""`jobdesk serve`: the scheduler without a window, for servers and machines with no display.

It schedules only once it listens on its control socket: a `serve` that cannot be reached
would leave the command line waiting (or talking to whoever listens instead), so it refuses to
start rather than run deaf (issue 9, item 1).
"""

from __future__ import annotations

import logging
import signal
import sys

from PySide6.QtCore import QCoreApplication, QTimer

from jobs.db import DatabaseError
from jobs.instance import InstanceLock, describe_holder
from jobs.ipc import IpcServer, SocketUnavailable
from jobs.log_file import add_file_log
from jobs.main_thread_gc import install_main_thread_collector
from jobs.paths import DataDir, ensure_private_dir
from jobs.service import JobService

log = logging.getLogger(__name__)

LOCK_WAIT_MS = 5000


def serve(data_dir: DataDir) -> int:
    app = QCoreApplication.instance() or QCoreApplication(sys.argv[:1])
    install_main_thread_collector()
    ensure_private_dir(data_dir.root)
    lock = InstanceLock(data_dir)
    # A command-line call acting on the store holds the lock for a moment: wait for it rather
    # than refuse to start (seen as a race when `serve` and `jobdesk list` started together).
    if not lock.try_acquire(LOCK_WAIT_MS):
        print(f"jobdesk: {busy_message(data_dir, lock)}", file=sys.stderr)
        return 1
    add_file_log(data_dir)
    try:
        service = JobService(data_dir)
    except DatabaseError as exc:
        lock.release()
        print(f"jobdesk: {exc}", file=sys.stderr)
        return 1
    server = IpcServer(service, data_dir, mode="serve")
    try:
        server.listen()
    except SocketUnavailable as exc:
        log.info("refusing to start: %s", exc)  # the log file; stderr gets the one line below
        service.shutdown()
        lock.release()
        print(f"jobdesk: {exc}; not scheduling without it", file=sys.stderr)
        return 1
    service.start()

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


def busy_message(data_dir: DataDir, lock: InstanceLock) -> str:
    """Why `serve` cannot start, naming the process that holds the data directory."""
    from jobs.ipc_client import InstanceUnreachable, request

    holder = describe_holder(None, lock.owner_pid())
    mode = None
    try:
        answer = request(data_dir, {"op": "ping"}, timeout=3.0, connect_timeout=1.0)
        mode = (answer.get("result") or {}).get("mode")
        holder = (answer.get("result") or {}).get("holder") or holder
    except InstanceUnreachable:
        pass
    if mode in ("serve", "window"):
        return f"{holder} is already scheduling {data_dir.root}"
    if mode == "run":
        return f"{holder} holds {data_dir.root} until its run ends; start `jobdesk serve` after it"
    return f"{holder} holds {data_dir.root} (still starting, or hung); try again, or stop it"
