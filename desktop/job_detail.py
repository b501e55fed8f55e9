"""The strip under the jobs table: the selected job in one line, and buttons that are always in
reach for it ("Show history", "Stop" while it runs, "Run anyway" while a run of it waits for
its conditions, "Run now").

It shows what it is given (`show_job`); the window decides what is selected and wires the
buttons to its actions.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from desktop.elided_label import ElidedLabel
from desktop.formatting import format_time_with_relative
from desktop.icons import icon
from desktop.naming import named
from jobs.model import JobSpec

NO_SELECTION_TEXT = "Select a job to run it now or see its history"


class JobDetailBar(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobDetail")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = named(ElidedLabel(self), "jobDetailText")
        self.run_now_button = named(QPushButton(icon("run-now"), "Run now", self), "runNowButton", "runNowButton")
        self.run_now_button.setToolTip("Run the selected job once now (Ctrl+R)")
        self.history_button = named(QPushButton("Show history", self), "showHistoryButton", "showHistoryButton")
        self.history_button.setToolTip("Show this job's runs in the History tab")
        self.stats_button = named(QPushButton("Statistics", self), "showStatsButton", "showStatsButton")
        self.stats_button.setToolTip("Durations over time and success rate of this job (Ctrl+I)")
        self.stop_button = named(QPushButton(icon("stop"), "Stop", self), "stopRunButton", "stopRunButton")
        self.run_anyway_button = named(QPushButton(icon("run-now"), "Run anyway", self), "runAnywayButton",
                                       "runAnywayButton")  # fmt: skip
        self.run_anyway_button.hide()
        strip = QHBoxLayout(self)
        strip.setContentsMargins(8, 4, 8, 4)
        strip.addWidget(self.label, 1)
        strip.addWidget(self.stats_button)
        strip.addWidget(self.history_button)
        strip.addWidget(self.stop_button)
        strip.addWidget(self.run_anyway_button)
        strip.addWidget(self.run_now_button)
        self.show_job(None, None)

    def show_job(self, spec: JobSpec | None, next_run: datetime | None, active: int = 0, *,
                 waiting_for: str | None = None) -> None:  # fmt: skip
        """`spec` in one line (None: nothing selected) and its buttons enabled or not; `active`:
        how many of its runs are going on (or waiting) now; `waiting_for`: what its waiting run
        waits for (None: no run of it waits for a condition)."""
        self.run_anyway_button.setVisible(spec is not None and waiting_for is not None)
        if waiting_for is not None:
            self.run_anyway_button.setToolTip(f"A run of this job is waiting for {waiting_for}: start it now anyway")
        for button in (self.run_now_button, self.history_button, self.stats_button):
            button.setEnabled(spec is not None)
        self.stop_button.setEnabled(spec is not None and active > 0)
        self.stop_button.setToolTip(
            f"Stop the {active} runs of this job going on now" if active > 1
            else "Stop this job's run (its whole process tree)" if active else "Nothing of this job is running"
        )  # fmt: skip
        if spec is None:
            self.label.set_full_text(NO_SELECTION_TEXT)
            self.label.setEnabled(False)
            return
        self.label.setEnabled(True)
        zone = spec.trigger.timezone
        when = "paused" if spec.paused else f"next {format_time_with_relative(next_run, zone=zone)}" if next_run else "no more runs"
        if waiting_for is not None:
            when = f"waiting for {waiting_for} — {when}"
        command = " ".join(spec.argv)  # with its interpreter ("Run with"), as it runs
        # One line whatever the command holds (a `python -c` script has newlines); as written on hover.
        self.label.set_full_text(f"{spec.name} — {when} — {' '.join(command.split())}", f"{spec.name}\n{command}")
