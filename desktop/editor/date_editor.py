"""The Date tab: one run at a date and time (a wall-clock time of the dialog's time zone).

A time that has passed is refused by jobs.triggers.validate; the dialog shows its message.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from desktop.editor.field_marks import set_invalid
from desktop.editor.wall_time import aware_from_edit, default_start, make_datetime_edit, set_edit_from
from jobs.model import DateSpec


class DateEditor(QWidget):
    """Emits `edited` when the date or time changes."""

    edited = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("dateEditor")
        self.date_edit = make_datetime_edit("dateEdit", self)
        self.date_edit.setToolTip("The one time this job runs, in the schedule's time zone")
        set_edit_from(self.date_edit, default_start())
        hint = QLabel("The job runs once, at this time.", self)
        hint.setWordWrap(True)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Run at", self.date_edit)
        form.addRow(hint)
        self.date_edit.dateTimeChanged.connect(self._changed)

    def set_default_time(self, zone_name: str) -> None:
        """Start at the next full hour of the schedule's zone (a new job, or another trigger type)."""
        set_edit_from(self.date_edit, default_start(zone_name))

    def load(self, spec: DateSpec) -> None:
        set_edit_from(self.date_edit, spec.run_at, spec.timezone)

    def spec(self, timezone: str) -> DateSpec:
        """Raises TriggerError when the time does not exist in `timezone`."""
        return DateSpec(aware_from_edit(self.date_edit, timezone, "run_at"), timezone)

    def state(self) -> str:
        return self.date_edit.dateTime().toString("yyyy-MM-dd HH:mm:ss")

    def focus_widgets(self) -> list[QWidget]:
        return [self.date_edit]

    def mark(self, field: str | None, message: str | None) -> None:
        set_invalid(self.date_edit, message if message and field in ("run_at", None) else None)

    def _changed(self, *_args: object) -> None:
        self.edited.emit()
