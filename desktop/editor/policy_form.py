"""How a job runs: timeout, overlap, missed runs, notifications and pause.

Durations are typed ("90s", "15m", "2h") and read with jobs.durations; "none" (timeout) and
"any" (grace) or an empty box mean no limit. Each reader raises ValueError("field: reason").
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.editor.field_marks import set_invalid
from jobs.durations import format_duration, parse_duration
from jobs.model import DEFAULT_SLOW_FACTOR, DEFAULT_SLOW_MARGIN, JobSpec, Notify, Overlap

OVERLAP_CHOICES = (
    (Overlap.SKIP, "Skip the new run"),
    (Overlap.QUEUE, "Queue it (one run waits)"),
    (Overlap.PARALLEL, "Run in parallel"),
)
NOTIFY_CHOICES = ((Notify.NEVER, "Never"), (Notify.FAILURE, "On failure"), (Notify.ALWAYS, "Always"))
THIS_COMPUTER = "This computer"
_NO_LIMIT = {"timeout": ("", "none", "no", "never", "off"), "grace": ("", "any", "always")}


def read_duration(text: str, field: str, *, zero_ok: bool) -> float | None:
    """Seconds typed in a duration box; None for "no limit"."""
    cleaned = text.strip().lower()
    if cleaned in _NO_LIMIT[field]:
        return None
    try:
        seconds = parse_duration(cleaned)
    except ValueError as exc:
        raise ValueError(f"{field}: {exc}") from None
    if seconds < 0 or (seconds == 0 and not zero_ok):
        raise ValueError(f"{field}: {text.strip()} must be more than 0 seconds")
    return seconds


class PolicyForm(QWidget):
    """Emits `edited` on any change."""

    edited = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._labels: list[QLabel] = []
        self.timeout_edit = self._line("timeoutEdit", "none", "Stop the run after this long: 90s, 15m, 2h (empty: no limit)")
        self.overlap_combo = QComboBox(self)
        self._name(self.overlap_combo, "overlapCombo")
        for value, text in OVERLAP_CHOICES:
            self.overlap_combo.addItem(text, value)
        self.overlap_combo.setToolTip("What happens when a run is due while the previous one is still going")
        self.max_parallel_spin = QSpinBox(self)
        self._name(self.max_parallel_spin, "maxParallelSpin")
        self.max_parallel_spin.setRange(1, 999)
        self.max_parallel_spin.setPrefix("at most ")
        self.max_parallel_spin.setToolTip("How many runs of this job may go at once")
        self.grace_edit = self._line(
            "graceEdit", "any", "A missed run still starts if it is at most this late: 10m, 2h (empty or \"any\": always)"
        )
        self.coalesce_check = QCheckBox("Collapse several missed runs into one catch-up run", self)
        self.coalesce_check.setChecked(True)
        self._name(self.coalesce_check, "coalesceCheck")
        self.notify_combo = QComboBox(self)
        self._name(self.notify_combo, "notifyCombo")
        for notify, text in NOTIFY_CHOICES:
            self.notify_combo.addItem(text, notify)
        self.notify_combo.setCurrentIndex(1)
        # Longer than usual past max(p95 x factor, p95 + margin) (jobs.slow_runs)
        self.slow_factor_spin = QDoubleSpinBox(self)
        self._name(self.slow_factor_spin, "slowFactorSpin")
        self.slow_factor_spin.setRange(1.0, 1000.0)
        self.slow_factor_spin.setSingleStep(0.5)
        self.slow_factor_spin.setDecimals(1)
        self.slow_factor_spin.setPrefix("p95 × ")
        self.slow_factor_spin.setValue(DEFAULT_SLOW_FACTOR)
        self.slow_factor_spin.setToolTip("A run is longer than usual past this many times the p95 of its last 50 successes")
        self.slow_margin_edit = self._line("slowMarginEdit", "1m", "… and past p95 plus this: 30s, 5m (empty: 1m)")
        self.paused_check = QCheckBox("Paused (no scheduled runs until resumed)", self)
        self._name(self.paused_check, "pausedCheck")
        self.runs_on_combo = QComboBox(self)  # this computer, or a pool of workers (jobs on other machines)
        self._name(self.runs_on_combo, "runsOnCombo")
        self.runs_on_combo.addItem(THIS_COMPUTER, None)
        self.runs_on_combo.setToolTip("Where runs go: this computer, or a pool of `jobdesk worker`s seen on the broker")

        overlap_row = QHBoxLayout()
        overlap_row.addWidget(self.overlap_combo, 1)
        overlap_row.addWidget(self.max_parallel_spin)
        grace_row = QHBoxLayout()
        grace_row.addWidget(self.grace_edit, 1)
        grace_row.addWidget(QLabel("late", self))
        missed = QVBoxLayout()
        missed.setSpacing(2)
        missed.addLayout(grace_row)
        missed.addWidget(self.coalesce_check)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self._label("&Timeout", self.timeout_edit), self.timeout_edit)
        form.addRow(self._label("If still &running", self.overlap_combo), overlap_row)
        form.addRow(self._label("&Missed runs start up to", self.grace_edit), missed)
        form.addRow(self._label("Noti&fy", self.notify_combo), self.notify_combo)
        slow_row = QHBoxLayout()
        slow_row.addWidget(self.slow_factor_spin)
        slow_row.addWidget(QLabel("and p95 +", self))
        slow_row.addWidget(self.slow_margin_edit, 1)
        form.addRow(self._label("Longer than &usual past", self.slow_factor_spin), slow_row)
        form.addRow(self._label("Runs o&n", self.runs_on_combo), self.runs_on_combo)
        form.addRow("", self.paused_check)

        self.overlap_combo.currentIndexChanged.connect(self._overlap_changed)
        self._overlap_changed()
        for signal in (
            self.timeout_edit.textChanged, self.max_parallel_spin.valueChanged, self.grace_edit.textChanged,
            self.coalesce_check.toggled, self.notify_combo.currentIndexChanged, self.paused_check.toggled,
            self.runs_on_combo.currentIndexChanged, self.slow_factor_spin.valueChanged, self.slow_margin_edit.textChanged,
        ):  # fmt: skip
            signal.connect(self._changed)

    # --- public API ---------------------------------------------------------------------------
    def load(self, spec: JobSpec) -> None:
        self.timeout_edit.setText(format_duration(spec.timeout) if spec.timeout is not None else "")
        self.overlap_combo.setCurrentIndex(self.overlap_combo.findData(spec.overlap))
        self.max_parallel_spin.setValue(spec.max_parallel)
        self.grace_edit.setText(format_duration(spec.misfire_grace) if spec.misfire_grace is not None else "")
        self.coalesce_check.setChecked(spec.coalesce)
        self.notify_combo.setCurrentIndex(self.notify_combo.findData(spec.notify))
        self.paused_check.setChecked(spec.paused)
        self.slow_factor_spin.setValue(spec.slow_factor)
        self.slow_margin_edit.setText("" if spec.slow_margin == DEFAULT_SLOW_MARGIN else format_duration(spec.slow_margin))
        if spec.runs_on:
            self.set_pools([spec.runs_on])
        self.runs_on_combo.setCurrentIndex(max(0, self.runs_on_combo.findData(spec.runs_on)))

    def set_pools(self, pools: list[str]) -> None:
        """Offer these pools (seen on the broker, or used by jobs) besides this computer."""
        for pool in pools:
            if self.runs_on_combo.findData(pool) < 0:
                self.runs_on_combo.addItem(f"Pool {pool}", pool)

    def runs_on(self) -> str | None:
        value = self.runs_on_combo.currentData()
        return str(value) if value else None

    def timeout(self) -> float | None:
        return read_duration(self.timeout_edit.text(), "timeout", zero_ok=False)

    def misfire_grace(self) -> float | None:
        return read_duration(self.grace_edit.text(), "grace", zero_ok=True)

    def slow_factor(self) -> float:
        return float(self.slow_factor_spin.value())

    def slow_margin(self) -> float:
        text = self.slow_margin_edit.text().strip()
        if not text:
            return DEFAULT_SLOW_MARGIN
        try:
            seconds = parse_duration(text)
        except ValueError as exc:
            raise ValueError(f"longer than usual: {exc}") from None
        return seconds

    def overlap(self) -> Overlap:
        return Overlap(self.overlap_combo.currentData())

    def max_parallel(self) -> int:
        return self.max_parallel_spin.value()

    def coalesce(self) -> bool:
        return self.coalesce_check.isChecked()

    def notify(self) -> Notify:
        return Notify(self.notify_combo.currentData())

    def paused(self) -> bool:
        return self.paused_check.isChecked()

    def focus_widgets(self) -> list[QWidget]:
        return [self.timeout_edit, self.overlap_combo, self.max_parallel_spin, self.grace_edit,
                self.coalesce_check, self.notify_combo, self.slow_factor_spin, self.slow_margin_edit, self.runs_on_combo,
                self.paused_check]  # fmt: skip

    def mark(self, problems: dict[str, str]) -> None:
        """Frame the boxes named in `problems` (keys timeout, grace, max_parallel)."""
        set_invalid(self.timeout_edit, problems.get("timeout"))
        set_invalid(self.grace_edit, problems.get("grace"))
        set_invalid(self.max_parallel_spin, problems.get("max_parallel"))
        set_invalid(self.slow_margin_edit, problems.get("slow"))

    # --- helpers ------------------------------------------------------------------------------
    def _name(self, widget: QWidget, name: str) -> None:
        widget.setObjectName(name)
        widget.setAccessibleName(name)

    def _line(self, name: str, placeholder: str, tip: str) -> QLineEdit:
        edit = QLineEdit(self)
        self._name(edit, name)
        edit.setPlaceholderText(placeholder)
        edit.setToolTip(tip)
        return edit

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        self._labels.append(label)
        return label

    def labels(self) -> list[QLabel]:
        return list(self._labels)

    def _overlap_changed(self, *_args: object) -> None:
        self.max_parallel_spin.setEnabled(self.overlap() is Overlap.PARALLEL)
        self.edited.emit()

    def _changed(self, *_args: object) -> None:
        self.edited.emit()
