"""The status bar: scheduler state, runs in progress and the next fire time.

Three permanent labels on the right ("Scheduling" / "Paused all", "2 runs in progress",
"Next: Nightly report in 3 min"); transient messages ("Run #12 of Backup skipped: ...") use the
left part through `say()`.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

from desktop.formatting import format_relative, format_time_with_relative
from desktop.naming import named
from jobs.model import JobSpec

MESSAGE_MS = 10_000
NEXT_NAME_CHARS = 40


class StatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statusBar")
        self.state_label = self._label("schedulerState", "Whether Jobdesk starts scheduled runs")
        self.runs_label = self._label("runsInProgress", "Runs going on now, runs waiting for a free slot, "
                                                        "and runs waiting for AC power or a network")
        self.next_label = self._label("nextFire", "The next scheduled run across all jobs")
        self.next_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        for label in (self.next_label, self.runs_label, self.state_label):
            self.addPermanentWidget(label)

    def _label(self, name: str, tip: str) -> QLabel:
        label = named(QLabel(self), name)
        label.setToolTip(tip)
        label.setAlignment(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        label.setContentsMargins(8, 0, 8, 0)
        return label

    def say(self, text: str, ms: int = MESSAGE_MS) -> None:
        """A transient message on the left."""
        self.showMessage(text, ms)

    def show_state(self, *, scheduling: bool, job_count: int, all_paused: bool, damaged: bool = False) -> None:
        if damaged:
            text = "Not starting runs: database damaged"
        elif not scheduling:
            text = "Not scheduling"
        elif job_count and all_paused:
            text = "Paused all"
        else:
            text = "Scheduling"
        _set(self.state_label, text)

    def show_runs(self, running: int, queued: int, waiting: int = 0) -> None:
        """`queued`: waiting for a free slot; `waiting`: for a condition (AC power, network)."""
        if not running and not queued and not waiting:
            text = "No runs in progress"
        else:
            text = f"{running} run{'s' if running != 1 else ''} in progress"
            if queued:
                text += f", {queued} waiting"
            if waiting:
                text += f", {waiting} waiting for conditions"
        _set(self.runs_label, text)

    def show_workers(self, text: str | None, tip: str) -> None:
        """Remote workers (desktop.workers_view): hidden when no broker is configured."""
        label = getattr(self, "workers_label", None)
        if text is None:
            if label is not None:
                label.hide()
            return
        if label is None:
            label = self.workers_label = self._label("workersState", tip)
            self.insertPermanentWidget(0, label)
        label.show()
        _set(label, text, tip)

    def show_next(self, fire: tuple[datetime, JobSpec] | None) -> None:
        if fire is None:
            _set(self.next_label, "Next: nothing scheduled", "No job has a run to come (every job is paused or finished)")
            return
        when, spec = fire
        name = spec.name if len(spec.name) <= NEXT_NAME_CHARS else spec.name[: NEXT_NAME_CHARS - 1] + "…"
        _set(self.next_label, f"Next: {name} {format_relative(when) or 'now'}",
             f"{spec.name}\n{format_time_with_relative(when)}")


def _set(label: QLabel, text: str, tip: str | None = None) -> None:
    """Change a label only when its text changes (a setText relayouts the status bar). What it
    shows is remembered on the Python side: asking the label is a call into Qt, and during a
    burst of runs each such call can wait for the GIL behind the runs' threads."""
    shown = label.__dict__.setdefault("shown_", ["", ""])  # on the wrapper the status bar keeps
    if shown[0] != text:
        label.setText(text)
        shown[0] = text
    if tip is not None and shown[1] != tip:
        label.setToolTip(tip)
        shown[1] = tip
