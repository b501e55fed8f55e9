"""The job editor's "Run with" menu: the command as written, an interpreter found on this computer,
or another one chosen as a file.

Finding interpreters reads folders and may wait seconds for `conda env list`
(jobs.interpreters.discover), so it runs on a short-lived worker thread whose only Qt contact is
the signal of one application-wide `_Finder`, which Qt queues onto the GUI thread. Until it
answers the menu shows the previous answer (or says it is looking); the job's own interpreter
is listed at once, so editing a job never waits for discovery.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

from jobs.interpreters import Interpreter, discover

log = logging.getLogger(__name__)

AS_WRITTEN = "As written"
OTHER = "Other…"
LOOKING = "Looking for interpreters…"
_OTHER_DATA = "\0other"  # the "Other…" entry's data: no path can contain NUL
_LOOKING_DATA = "\0looking"


class _Finder(QObject):
    """One per application, made on the GUI thread and never deleted: the worker thread emits
    its signal (queued to the GUI thread) and so holds no reference to a widget that may be
    destroyed meanwhile (a Qt object finalised on a worker thread can deadlock, NOTES item 34).
    The latest answer is kept, so the next editor lists it at once while it looks again."""

    found = Signal(int, object)  # (request number, list[Interpreter])

    def __init__(self) -> None:
        super().__init__()
        self.latest: list[Interpreter] | None = None
        self._requests = 0
        self.found.connect(self._keep)

    def start(self, near: Sequence[str]) -> int:
        self._requests += 1
        threading.Thread(target=_work, args=(self.found, self._requests, list(near)), name="interpreters",
                         daemon=True).start()  # fmt: skip
        return self._requests

    @Slot(int, object)
    def _keep(self, _request: int, found: list[Interpreter]) -> None:
        self.latest = found


def _work(signal: Any, request: int, near: list[str]) -> None:
    try:
        found = discover(near)
    except Exception:  # discovery is best effort: the menu still offers "Other…"
        log.exception("finding interpreters failed")
        found = []
    signal.emit(request, found)


_finder: _Finder | None = None


def finder() -> _Finder:
    """The application's finder (GUI thread only)."""
    global _finder
    if _finder is None:
        _finder = _Finder()
    return _finder


class RunWithCombo(QComboBox):
    """Signals:
    edited(): the choice changed (by the person or when a file was chosen).
    """

    edited = Signal()

    def __init__(self, parent: QWidget | None = None, *, near: Sequence[str] = (), discover_now: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("runWithCombo")
        self.setAccessibleName("runWithCombo")
        self.setToolTip("Run the command with this interpreter: it becomes the program, the command's words "
                        "its arguments (give the script, not python3)")  # fmt: skip
        self._previous = 0
        self.addItem(AS_WRITTEN, "")
        self.addItem(LOOKING, _LOOKING_DATA)
        self.addItem(OTHER, _OTHER_DATA)
        model = self.model()
        if isinstance(model, QStandardItemModel):  # the placeholder cannot be chosen
            model.item(1).setEnabled(False)
        self.activated.connect(self._activated)
        self.currentIndexChanged.connect(self._index_changed)
        self.discovered = False
        self._request = -1
        if discover_now:
            finder().found.connect(self._answered)
            self._request = finder().start(near)
            latest = finder().latest
            if latest is not None:  # the last answer now, this one when it comes
                self._found(latest)

    # --- public API ---------------------------------------------------------------------------
    def load(self, run_with: str | None) -> None:
        self.set_path(run_with)

    def run_with(self) -> str | None:
        data = self.currentData()
        return str(data) if data and not str(data).startswith("\0") else None

    def set_path(self, path: str | None) -> None:
        """Select `path` (listed first if discovery did not find it); None: as written."""
        if not path:
            self.setCurrentIndex(0)
            return
        index = self.findData(path)
        if index < 0:
            index = self.count() - 1  # before "Other…"
            self.insertItem(index, path, path)
            self.setItemData(index, path, Qt.ItemDataRole.ToolTipRole)
        self.setCurrentIndex(index)

    # --- reactions ----------------------------------------------------------------------------
    @Slot(int, object)
    def _answered(self, request: int, found: list[Interpreter]) -> None:
        if request == self._request:
            self._found(found)

    def _found(self, found: list[Interpreter]) -> None:
        chosen = self.run_with()
        looking = self.findData(_LOOKING_DATA)
        if looking >= 0:
            self.removeItem(looking)
        for interpreter in found:
            if self.findData(interpreter.path) >= 0:
                continue
            index = self.count() - 1
            self.insertItem(index, interpreter.label, interpreter.path)
            self.setItemData(index, interpreter.path, Qt.ItemDataRole.ToolTipRole)
        if chosen:
            self.setCurrentIndex(self.findData(chosen))
        self.discovered = True

    @Slot(int)
    def _activated(self, index: int) -> None:
        data = self.itemData(index)
        if data == _LOOKING_DATA:
            self.setCurrentIndex(self._previous)
        elif data == _OTHER_DATA:
            start = self.run_with() or str(Path.home())
            path, _filter = QFileDialog.getOpenFileName(self, "Run with which interpreter?", start)
            if path:
                self.set_path(path)
            else:
                self.setCurrentIndex(self._previous)

    @Slot(int)
    def _index_changed(self, index: int) -> None:
        if str(self.itemData(index) or "").startswith("\0"):
            return  # "Other…" or the placeholder: _activated decides what is selected
        self._previous = index
        self.edited.emit()
