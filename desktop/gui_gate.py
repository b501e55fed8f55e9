"""Tells jobs.gui_priority when the GUI thread is busy, so worker threads' Python gives way.

An event filter on the application sees every event the GUI thread handles (a paint, a timer, a
queued signal): busy. The event dispatcher's `aboutToBlock`, sent just before the thread waits
for more events: idle. Its `awake` signal is no use here: the glib dispatcher sends it after the
events, not before. See jobs.gui_priority for why and what it measured.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QAbstractEventDispatcher, QCoreApplication, QEvent, QObject, Qt

from jobs import gui_priority

OFF_ENV = "JOBDESK_NO_GUI_GATE"  # =1: no gate (to compare, or to rule it out when looking into a stall)


class GuiGate(QObject):
    def __init__(self, app: QCoreApplication) -> None:
        super().__init__(app)
        self._app = app
        self._dispatcher = QAbstractEventDispatcher.instance()
        gui_priority.install()
        app.installEventFilter(self)
        if self._dispatcher is not None:
            self._dispatcher.aboutToBlock.connect(gui_priority.gui_idle, Qt.ConnectionType.DirectConnection)
        app.aboutToQuit.connect(self.remove)  # closing joins workers: let them run

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        gui_priority.gui_busy()
        return False

    def remove(self) -> None:
        gui_priority.uninstall()
        self._app.removeEventFilter(self)
        if self._dispatcher is not None:
            self._dispatcher.aboutToBlock.disconnect(gui_priority.gui_idle)


def install_gui_gate() -> None:
    """One gate for the application (idempotent); on the GUI thread, with a Q(Core)Application."""
    app = QCoreApplication.instance()
    if os.environ.get(OFF_ENV) == "1" or app is None or gui_priority.installed():
        return
    GuiGate(app)  # the application owns it
