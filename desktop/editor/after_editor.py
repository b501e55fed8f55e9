"""The After tab: run this job when other jobs have finished (jobs.chains).

A list of the other jobs, each with a check box (click it, or move with the arrow keys and press
Space), a filter line for long lists, and how they must have finished: successfully, failed, or
either. Several checked jobs mean all of them (A and B → C).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QWidget

from desktop.editor.field_marks import set_invalid
from jobs.cron import TriggerError
from jobs.model import AfterSpec, JobSpec

STATUS_CHOICES = (("success", "Succeeded"), ("failure", "Failed"), ("any", "Finished either way"))
_ID_ROLE = Qt.ItemDataRole.UserRole


class AfterEditor(QWidget):
    """Emits `edited` when a job is checked or unchecked or the status changes."""

    edited = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("afterEditor")
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("afterFilter")
        self.filter_edit.setAccessibleName("afterFilter")
        self.filter_edit.setPlaceholderText("Filter jobs by name")
        self.filter_edit.setClearButtonEnabled(True)
        self.job_list = QListWidget(self)
        self.job_list.setObjectName("afterJobs")
        self.job_list.setAccessibleName("afterJobs")
        self.job_list.setToolTip("Check the jobs this one runs after (Space checks the selected job)")
        self.status_combo = QComboBox(self)
        self.status_combo.setObjectName("afterStatus")
        self.status_combo.setAccessibleName("afterStatus")
        for value, text in STATUS_CHOICES:
            self.status_combo.addItem(text, value)
        hint = QLabel("Runs once every checked job has finished this way since it last ran.", self)
        hint.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Jobs", self.filter_edit)
        form.addRow(self.job_list)
        form.addRow("When they have", self.status_combo)
        form.addRow(hint)
        self.job_list.itemChanged.connect(self._changed)
        self.status_combo.currentIndexChanged.connect(self._changed)
        self.filter_edit.textChanged.connect(self._filter)

    def set_jobs(self, specs: Sequence[JobSpec], own_id: str = "") -> None:
        """The jobs to choose from (all but the one being edited), by name."""
        checked = set(self.checked_ids())
        self.job_list.blockSignals(True)
        self.job_list.clear()
        for spec in sorted(specs, key=lambda spec: (spec.name.casefold(), spec.id)):
            if spec.id == own_id:
                continue
            item = QListWidgetItem(spec.name, self.job_list)
            item.setData(_ID_ROLE, spec.id)
            item.setToolTip(f"{spec.name} ({spec.id})")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if spec.id in checked else Qt.CheckState.Unchecked)
        self.job_list.blockSignals(False)

    def load(self, spec: AfterSpec) -> None:
        wanted = set(spec.jobs)
        for row in range(self.job_list.count()):
            item = self.job_list.item(row)
            item.setCheckState(Qt.CheckState.Checked if item.data(_ID_ROLE) in wanted else Qt.CheckState.Unchecked)
        self.status_combo.setCurrentIndex(max(0, self.status_combo.findData(spec.status)))

    def checked_ids(self) -> list[str]:
        items = (self.job_list.item(row) for row in range(self.job_list.count()))
        return [item.data(_ID_ROLE) for item in items if item.checkState() == Qt.CheckState.Checked]

    def spec(self, timezone: str) -> AfterSpec:
        """Raises TriggerError when no job is checked. A removed job the loaded spec named is
        not in the list, so any change here leaves it out."""
        jobs = tuple(self.checked_ids())
        if not jobs:
            raise TriggerError("jobs", "check the jobs this one runs after")
        return AfterSpec(jobs, str(self.status_combo.currentData()), timezone)

    def state(self) -> tuple[object, ...]:
        return (tuple(self.checked_ids()), self.status_combo.currentIndex())

    def focus_widgets(self) -> list[QWidget]:
        return [self.filter_edit, self.job_list, self.status_combo]

    def mark(self, field: str | None, message: str | None) -> None:
        set_invalid(self.job_list, message if message and field in ("jobs", None) else None)

    def _filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for row in range(self.job_list.count()):
            item = self.job_list.item(row)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def _changed(self, *_args: object) -> None:
        self.edited.emit()
