"""Start-up of the window: display check, QApplication with a qasync loop, single instance, IPC.

`run_window(args)` is what `main.py` calls when no command is given. `create_window(data_dir)`
builds the whole window over a started `JobService` inside an existing QApplication (tests, the
screenshot script) and returns it unshown; `MainWindow.shutdown()` undoes all of it.

Order in `run_window` matters:
1. no display -> one line pointing at `jobdesk serve`, exit 2, before Qt could abort;
2. PySide6 imported before qasync (NOTES item 22: qasync would pick PyQt5 otherwise);
3. the data directory's lock: if another instance holds it, ask it to show its window
   ({"op": "activate"} over the local socket) and exit 0;
4. the database: a `DatabaseError` is shown in a message box, exit 1, file untouched (of a big
   file only the small tables are checked here; `desktop.startup` checks the rest after the
   first paint, before scheduling writes, and a damaged file gets the window's notice);
5. the window, the IPC server, then the qasync event loop (made last, so the early exits above
   leave no loop to close).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from typing import Any

from jobs.integration import APP_ID
from desktop.gui_gate import install_gui_gate
from jobs.main_thread_gc import install_main_thread_collector
from jobs.memory_trim import limit_arenas
from jobs.paths import DataDir, ensure_private_dir, resolve_data_dir
from jobs.pyside_refcount import pin_singletons

log = logging.getLogger(__name__)


GUI_SWITCH_INTERVAL = 0.001  # seconds (sys.setswitchinterval; Python's default is 0.005)


class InstanceBusy(RuntimeError):
    """Another Jobdesk process holds the data directory's lock."""


def freeze_alive() -> None:
    """Move everything alive out of the garbage collector's sight (after start-up, and after
    the window shows each jobs snapshot: jobs.main_thread_gc).

    A full collection walks every tracked object; with the window, SQLAlchemy and APScheduler
    loaded that is ~100,000 objects (~390,000 at 10,000 jobs) and a 40-80 ms pause of the GUI
    thread (0.75 s at 10,000 jobs; measured during a burst of runs). Objects made at start-up
    and a snapshot's rows live long, so `gc.freeze()` them (the approach CPython documents for
    long-lived processes); what dies of them later is freed by reference counting as before.
    """
    import gc

    # No collection first: at 10,000 jobs a full one walked ~390,000 objects for 0.75 s (the
    # young generations alone 0.26 s) to free ~2,700 (~10 with one job) that now stay frozen.
    gc.freeze()


def display_available(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """False only where Qt would certainly fail: Linux/BSD without X11, Wayland or a QPA override."""
    env = os.environ if environ is None else environ
    platform = platform or sys.platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return True
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def create_window(data_dir: DataDir | str | os.PathLike[str], *, lock: Any = None, listen: bool = False,
                  start: bool = True, conditions: Any = None, defer_check: bool = False) -> Any:
    """The main window over a started service, unshown. Needs a QApplication.

    Takes the data directory's lock unless `lock` (already held) is given; raises
    `InstanceBusy` when another process holds it and `jobs.db.DatabaseError` when the database
    cannot be used. The window's `shutdown()` stops the service and releases the lock.
    With `start=False` the caller starts scheduling later with `window.start_service()`
    (`run_window` lets `desktop.startup` do it after the first paint, in stages).
    `conditions`: a `jobs.conditions.source.ConditionSource` other than this computer's.
    `defer_check`: the open checks only the small tables; `desktop.startup` checks the rest
    after the first paint, before scheduling starts (`run_window`).
    """
    from PySide6.QtWidgets import QApplication

    from desktop.main_window import MainWindow
    from jobs.instance import InstanceLock
    from jobs.service import JobService

    if QApplication.instance() is None:
        raise RuntimeError("create_window needs a QApplication")
    if not isinstance(data_dir, DataDir):
        data_dir = resolve_data_dir(data_dir)
    pin_singletons()
    install_main_thread_collector()  # before the service starts its threads (NOTES item 34)
    install_gui_gate()  # workers' Python waits while the GUI thread handles events (jobs.gui_priority)
    ensure_private_dir(data_dir.root)
    if lock is None:
        lock = InstanceLock(data_dir)
        if not lock.try_acquire():
            raise InstanceBusy(f"another Jobdesk (pid {lock.owner_pid()}) is scheduling {data_dir.root}")
    service = None
    try:
        service = JobService(data_dir, conditions=conditions, defer_check=defer_check)
        if start:
            service.start()
        window = MainWindow(service, data_dir, lock=lock)
    except BaseException:
        if service is not None:
            service.shutdown()
        lock.release()
        raise
    if listen:
        from jobs.ipc import IpcServer

        server = IpcServer(service, data_dir, mode="window")
        server.setParent(window)
        server.activation_requested.connect(window.show_window)
        window.ipc_server = server
        try:
            server.listen()  # a window nobody can reach must not schedule (issue 9, item 1)
        except BaseException:
            window.shutdown()
            raise
    return window


def run_window(args: argparse.Namespace) -> int:
    if not display_available():
        print("jobdesk: no display (DISPLAY and WAYLAND_DISPLAY are unset); to schedule without a window "
              "run `jobdesk serve`", file=sys.stderr)  # fmt: skip
        return 2
    pin_singletons()
    limit_arenas()  # before any thread starts (jobs.memory_trim)
    # Each call from Qt into Python (a cell's data, a slot) first waits for the GIL; while a
    # worker runs Python that wait is up to one switch interval. 1 ms instead of 5: the longest
    # stall at 10,000 jobs 123-207 ms (median 162) against 181-348 (207), five starts each.
    sys.setswitchinterval(GUI_SWITCH_INTERVAL)
    os.environ.setdefault("QT_API", "pyside6")
    from PySide6.QtWidgets import QApplication, QMessageBox  # before qasync (NOTES item 22)

    from jobs.pyside_source_scan import scan_sources_without_caching

    scan_sources_without_caching()  # ~19 MiB of module sources otherwise kept (see the module)

    import qasync

    from desktop import bench_probe, startup
    from desktop.icons import icon
    from desktop.style import APPLICATION, ORGANISATION, follow_color_scheme
    from jobs.db import DatabaseError
    from jobs.instance import InstanceLock
    from jobs.ipc import SocketUnavailable
    from jobs.log_file import add_file_log

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Jobdesk")
    app.setDesktopFileName(APP_ID)  # matches the installed .desktop file
    app.setWindowIcon(icon("jobdesk"))
    app.setQuitOnLastWindowClosed(False)  # hiding to the tray must not quit; quit_app() quits
    follow_color_scheme(app)
    sys.excepthook = _excepthook

    data_dir = resolve_data_dir(args.data_dir)
    ensure_private_dir(data_dir.root)
    lock = InstanceLock(data_dir)
    if not lock.try_acquire():
        outcome = _activate_running(data_dir, lock)
        if outcome is not None:
            return outcome
    add_file_log(data_dir)
    try:
        window = create_window(data_dir, lock=lock, listen=True, start=False, defer_check=True)
    except DatabaseError as exc:
        log.error("%s", exc)
        QMessageBox.critical(None, "Jobdesk cannot open its database", str(exc))
        return 1
    except SocketUnavailable as exc:
        print(f"jobdesk: {exc}", file=sys.stderr)
        QMessageBox.critical(None, "Jobdesk cannot listen for commands", str(exc))
        return 1
    window.quit_app_on_close = True
    loop = qasync.QEventLoop(app)  # asyncio on Qt's loop (subprocesses, async slots)
    asyncio.set_event_loop(loop)
    loop.set_exception_handler(_loop_exception)
    app.aboutToQuit.connect(window.shutdown)
    bench_probe.install(window)  # start-up marks, only under JOBDESK_BENCH_* (tests/bench)
    sequence = startup.install(window)  # the database check, then scheduling, after the first paint
    collector = install_main_thread_collector()  # (create_window installed it: this is that one)
    window.loader.working.connect(collector.hold)  # a load's objects are walked by no collection...
    collector.hold(window.loader.loading)  # (the first load began with the window)
    window.loader.loaded.connect(_freeze_after_load)  # ...but frozen once the window shows them
    notifier = _quit_on_signals(window)
    freeze_alive()  # modules, the service and the window live as long as the app: no collection walks them
    if args.minimized and window.tray.available:
        log.info("started hidden in the tray")
    elif args.minimized:
        window.showMinimized()
    else:
        window.show()
    sequence.begin()
    with loop:
        loop.run_forever()
    window.shutdown()
    del notifier
    return 0


def _activate_running(data_dir: DataDir, lock: Any) -> int | None:
    """Ask the instance holding the lock to show itself. None: the lock came free, go on."""
    from PySide6.QtWidgets import QMessageBox

    from jobs.ipc import InstanceUnreachable, request

    try:
        answer = request(data_dir, {"op": "activate"}, timeout=5.0, connect_timeout=3.0)
    except InstanceUnreachable:
        if lock.try_acquire(5000):  # a command-line call held it for a moment
            return None
        message = f"Another Jobdesk (pid {lock.owner_pid()}) holds {data_dir.root} but does not answer."
        print(f"jobdesk: {message}", file=sys.stderr)
        QMessageBox.critical(None, "Jobdesk is already running", message)
        return 1
    mode = (answer.get("result") or {}).get("mode")
    if mode != "window":  # `serve`, or a foreground `jobdesk run` holding the lock for its run
        holder = (answer.get("result") or {}).get("holder") or f"`jobdesk serve` (pid {lock.owner_pid()})"
        message = (f"{holder} holds {data_dir.root}. "
                   "Stop it to open the window, or use the jobdesk commands.")  # fmt: skip
        print(f"jobdesk: {message}", file=sys.stderr)
        QMessageBox.information(None, "Jobdesk is running without a window", message)
        return 1
    print("jobdesk: already running; its window was brought to the front", file=sys.stderr)
    return 0


def _excepthook(kind: type[BaseException], value: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    log.critical("unexpected error", exc_info=(kind, value, tb))


def _loop_exception(_loop: Any, context: dict[str, Any]) -> None:
    error = context.get("exception")
    log.error("asyncio: %s", context.get("message", "error"), exc_info=error if error is not None else None)


def _quit_on_signals(window: Any) -> tuple[object, ...] | None:
    """Ctrl+C / SIGTERM quit cleanly, woken through a socket so no polling timer is needed."""
    from PySide6.QtCore import QSocketNotifier

    if os.name != "posix":
        return None
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)  # the handler runs when Python regains control
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, window)

    def woken() -> None:
        try:
            reader.recv(64)
        except OSError:
            pass
        log.info("signal received: quitting")
        window.quit_app(ask=False)

    notifier.activated.connect(woken)
    return notifier, reader, writer  # the caller keeps all three alive


def _freeze_after_load(_snapshot: Any) -> None:
    """After each jobs snapshot the window shows, the quick first one too: its rows are most of
    what start-up makes, and every collection of the GUI thread's collector walked them (76-120
    ms each, measured under load). The snapshot it replaced is freed by reference counting."""
    freeze_alive()
