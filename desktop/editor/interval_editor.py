"""The Interval tab: every N weeks/days/hours/minutes/seconds, optional start and end, jitter.

Start and end are wall-clock times in the dialog's time zone (see `wall_time.py`). Without a
start the service anchors the interval when the job is saved. Day and week intervals keep
the wall-clock time across DST changes (jobs.triggers uses a calendar interval for them).
"""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QSpinBox,
    QWidget,
)

from desktop.editor.field_marks import set_invalid
from desktop.editor.wall_time import aware_from_edit, default_start, make_datetime_edit, set_edit_from
from jobs.model import INTERVAL_UNITS, IntervalSpec

MAX_JITTER = 86_400


class IntervalEditor(QWidget):
    """Emits `edited` whenever any of its controls changes."""

    edited = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("intervalEditor")
        self.amount_spin = QSpinBox(self)
        self.amount_spin.setObjectName("intervalEdit")
        self.amount_spin.setAccessibleName("intervalEdit")
        self.amount_spin.setRange(1, 100_000)
        self.amount_spin.setValue(1)
        self.unit_combo = QComboBox(self)
        self.unit_combo.setObjectName("intervalUnitCombo")
        self.unit_combo.setAccessibleName("intervalUnitCombo")
        for unit in INTERVAL_UNITS:
            self.unit_combo.addItem(unit, unit)
        self.unit_combo.setCurrentIndex(INTERVAL_UNITS.index("hours"))

        self.start_check = QCheckBox("Start at", self)
        self.start_check.setObjectName("intervalStartCheck")
        self.start_check.setAccessibleName("intervalStartCheck")
        self.start_check.setToolTip("Without a start, the interval counts from when the job is saved")
        self.start_edit = make_datetime_edit("intervalStartEdit", self)
        self.end_check = QCheckBox("End at", self)
        self.end_check.setObjectName("intervalEndCheck")
        self.end_check.setAccessibleName("intervalEndCheck")
        self.end_edit = make_datetime_edit("intervalEndEdit", self)
        self.jitter_spin = QSpinBox(self)
        self.jitter_spin.setObjectName("jitterSpin")
        self.jitter_spin.setAccessibleName("jitterSpin")
        self.jitter_spin.setRange(0, MAX_JITTER)
        self.jitter_spin.setSuffix(" s")
        self.jitter_spin.setSpecialValueText("none")
        self.jitter_spin.setToolTip("Start each run up to this many seconds late, at random")

        every = QHBoxLayout()
        every.addWidget(self.amount_spin)
        every.addWidget(self.unit_combo)
        every.addStretch(1)
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("Every", every)
        form.addRow(self.start_check, self.start_edit)
        form.addRow(self.end_check, self.end_edit)
        form.addRow("Jitter", self.jitter_spin)

        self.set_default_times("")
        self._check_toggled()
        self.amount_spin.valueChanged.connect(self._changed)
        self.unit_combo.currentIndexChanged.connect(self._changed)
        self.start_check.toggled.connect(self._check_toggled)
        self.end_check.toggled.connect(self._check_toggled)
        self.start_edit.dateTimeChanged.connect(self._changed)
        self.end_edit.dateTimeChanged.connect(self._changed)
        self.jitter_spin.valueChanged.connect(self._changed)

    # --- public API ---------------------------------------------------------------------------
    def set_default_times(self, zone_name: str) -> None:
        """Start and end offered at the next full hour of the schedule's zone (end: a year later)."""
        start = default_start(zone_name)
        set_edit_from(self.start_edit, start)
        set_edit_from(self.end_edit, start + timedelta(days=365))

    def load(self, spec: IntervalSpec) -> None:
        self.amount_spin.setValue(spec.amount)
        if spec.unit in INTERVAL_UNITS:
            self.unit_combo.setCurrentIndex(INTERVAL_UNITS.index(spec.unit))
        self.start_check.setChecked(spec.start is not None)
        if spec.start is not None:
            set_edit_from(self.start_edit, spec.start, spec.timezone)
        self.end_check.setChecked(spec.end is not None)
        if spec.end is not None:
            set_edit_from(self.end_edit, spec.end, spec.timezone)
        self.jitter_spin.setValue(spec.jitter or 0)

    def spec(self, timezone: str) -> IntervalSpec:
        """The spec in `timezone`; raises TriggerError for a start or end that does not exist there."""
        start = aware_from_edit(self.start_edit, timezone, "start") if self.start_check.isChecked() else None
        end = aware_from_edit(self.end_edit, timezone, "end") if self.end_check.isChecked() else None
        return IntervalSpec(
            amount=self.amount_spin.value(),
            unit=str(self.unit_combo.currentData()),
            timezone=timezone,
            start=start,
            end=end,
            jitter=self.jitter_spin.value() or None,
        )

    def state(self) -> tuple:
        return (
            self.amount_spin.value(),
            self.unit_combo.currentIndex(),
            self.start_check.isChecked(),
            self.start_edit.dateTime().toString("yyyy-MM-dd HH:mm:ss"),
            self.end_check.isChecked(),
            self.end_edit.dateTime().toString("yyyy-MM-dd HH:mm:ss"),
            self.jitter_spin.value(),
        )

    def focus_widgets(self) -> list[QWidget]:
        return [self.amount_spin, self.unit_combo, self.start_check, self.start_edit,
                self.end_check, self.end_edit, self.jitter_spin]  # fmt: skip

    def mark(self, field: str | None, message: str | None) -> None:
        widgets = {"amount": self.amount_spin, "unit": self.unit_combo, "start": self.start_edit,
                   "end": self.end_edit, "jitter": self.jitter_spin}  # fmt: skip
        for name, widget in widgets.items():
            set_invalid(widget, message if message and field == name else None)

    # --- slots --------------------------------------------------------------------------------
    def _check_toggled(self, _checked: bool = False) -> None:
        self.start_edit.setEnabled(self.start_check.isChecked())
        self.end_edit.setEnabled(self.end_check.isChecked())
        self.edited.emit()

    def _changed(self, *_args: object) -> None:
        self.edited.emit()
