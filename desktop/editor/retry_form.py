"""The editor's Retries tab: how often a failed run runs again, and after how long.

"Retries" is the job's `retries` (0: none); the first retry waits "First after" (default 30s),
each later one "times" longer (the backoff factor, default 2), never longer than "At most"
(empty: no cap). "Retry when" picks failure and/or timeout; "Exit codes" adds codes ("75, 111").
Readers raise ValueError("retries: reason") as the other editor forms do.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QSpinBox, QWidget

from desktop.editor.field_marks import set_invalid
from desktop.naming import named
from jobs.durations import format_duration, parse_duration
from jobs.retry_rules import MAX_RETRIES

# The JobSpec fields this form edits, in the order `values()` gives them.
RETRY_FIELDS = ("retries", "retry_delay", "retry_backoff", "retry_max", "retry_on", "retry_on_exit")
DEFAULT_DELAY = 30.0
DEFAULT_BACKOFF = 2.0


class RetryForm(QWidget):
    """Emits `edited` on any change."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("retryForm")
        self.retries_spin = named(QSpinBox(self), "retriesSpin")
        self.retries_spin.setRange(0, MAX_RETRIES)
        self.retries_spin.setSpecialValueText("No retries")
        self.retries_spin.setSuffix(" times")
        self.retries_spin.setToolTip("Run a failed run again up to this many times")
        self.delay_edit = self._line("retryDelayEdit", format_duration(DEFAULT_DELAY),
                                     "Wait this long before the first retry: 30s, 5m")
        self.backoff_edit = self._line("retryBackoffEdit", f"{DEFAULT_BACKOFF:g}",
                                       "Each later retry waits this many times longer (1: always the same)")
        self.max_edit = self._line("retryMaxEdit", "no limit", "Never wait longer than this between attempts: 10m")
        self.on_failure_check = named(QCheckBox("It &fails", self), "retryOnFailureCheck")
        self.on_timeout_check = named(QCheckBox("It times &out", self), "retryOnTimeoutCheck")
        for check in (self.on_failure_check, self.on_timeout_check):
            check.setChecked(True)
        self.exit_codes_edit = self._line("retryExitCodesEdit", "75, 111",
                                          "Also retry when the job exits with one of these codes")
        when = QHBoxLayout()
        when.addWidget(self.on_failure_check)
        when.addWidget(self.on_timeout_check)
        when.addStretch(1)
        backoff = QHBoxLayout()
        backoff.addWidget(QLabel("then", self))
        backoff.addWidget(self.backoff_edit)
        backoff.addWidget(QLabel("times longer each time", self), 1)
        self._labels: list[QLabel] = []
        form = QFormLayout(self)
        form.addRow(self._label("&Retries", self.retries_spin), self.retries_spin)
        form.addRow(self._label("First a&fter", self.delay_edit), self.delay_edit)
        form.addRow("", backoff)
        form.addRow(self._label("At mo&st", self.max_edit), self.max_edit)
        form.addRow(self._label("Retry when", self.on_failure_check), when)
        form.addRow(self._label("E&xit codes", self.exit_codes_edit), self.exit_codes_edit)
        self.retries_spin.valueChanged.connect(self._retries_changed)
        for signal in (self.delay_edit.textChanged, self.backoff_edit.textChanged, self.max_edit.textChanged,
                       self.on_failure_check.toggled, self.on_timeout_check.toggled,
                       self.exit_codes_edit.textChanged):  # fmt: skip
            signal.connect(self._changed)
        self._retries_changed()

    def _line(self, name: str, placeholder: str, tip: str) -> QLineEdit:
        edit = named(QLineEdit(self), name)
        edit.setPlaceholderText(placeholder)
        edit.setToolTip(tip)
        return edit

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        caption = QLabel(text, self)
        caption.setBuddy(buddy)
        self._labels.append(caption)
        return caption

    def labels(self) -> list[QLabel]:
        return list(self._labels)

    def load(self, retries: int, delay: float, backoff: float, most: float | None, on: tuple[str, ...],
             exit_codes: tuple[int, ...]) -> None:  # fmt: skip
        self.retries_spin.setValue(retries)
        self.delay_edit.setText("" if delay == DEFAULT_DELAY else format_duration(delay))
        self.backoff_edit.setText("" if backoff == DEFAULT_BACKOFF else f"{backoff:g}")
        self.max_edit.setText(format_duration(most) if most is not None else "")
        self.on_failure_check.setChecked("failure" in on)
        self.on_timeout_check.setChecked("timeout" in on)
        self.exit_codes_edit.setText(", ".join(str(code) for code in exit_codes))

    def state(self) -> tuple[object, ...]:
        return (self.retries_spin.value(), self.delay_edit.text(), self.backoff_edit.text(), self.max_edit.text(),
                self.on_failure_check.isChecked(), self.on_timeout_check.isChecked(), self.exit_codes_edit.text())

    def values(self) -> tuple[object, ...]:
        """The fields of RETRY_FIELDS as typed; ValueError("retries: ...") names the box."""
        delay = _duration(self.delay_edit.text(), "first after", DEFAULT_DELAY, zero_ok=True)
        most = _duration(self.max_edit.text(), "at most", None, zero_ok=False)
        text = self.backoff_edit.text().strip()
        try:
            backoff = float(text) if text else DEFAULT_BACKOFF
        except ValueError:
            raise ValueError(f"retries: times longer: {text!r} is not a number (e.g. 2)") from None
        on = tuple(name for name, check in (("failure", self.on_failure_check), ("timeout", self.on_timeout_check))
                   if check.isChecked())  # fmt: skip
        codes = []
        for part in self.exit_codes_edit.text().replace(",", " ").split():
            if not part.isdigit() or not 1 <= int(part) <= 255:
                raise ValueError(f"retries: exit codes: {part!r} is not an exit code from 1 to 255")
            codes.append(int(part))
        return (self.retries_spin.value(), delay, backoff, most, on, tuple(dict.fromkeys(codes)))

    def focus_widgets(self) -> list[QWidget]:
        return [self.retries_spin, self.delay_edit, self.backoff_edit, self.max_edit, self.on_failure_check,
                self.on_timeout_check, self.exit_codes_edit]  # fmt: skip

    def mark(self, problem: str | None) -> None:
        """Frame the box the problem is about."""
        boxes = {"first after": self.delay_edit, "retry_delay": self.delay_edit, "times longer": self.backoff_edit,
                 "retry_backoff": self.backoff_edit, "at most": self.max_edit, "retry_max": self.max_edit,
                 "exit codes": self.exit_codes_edit, "retry_on_exit": self.exit_codes_edit}  # fmt: skip
        for edit in (self.delay_edit, self.backoff_edit, self.max_edit, self.exit_codes_edit):
            words = [key for key, box in boxes.items() if box is edit]
            set_invalid(edit, problem if problem and any(word in problem for word in words) else None)

    def _retries_changed(self, *_args: object) -> None:
        for widget in self.focus_widgets()[1:]:
            widget.setEnabled(self.retries_spin.value() > 0)
        self.edited.emit()

    def _changed(self, *_args: object) -> None:
        self.edited.emit()


def _duration(text: str, what: str, empty: float | None, *, zero_ok: bool) -> float | None:
    cleaned = text.strip().lower()
    if cleaned in ("", "none", "no limit"):
        return empty
    try:
        seconds = parse_duration(cleaned)
    except ValueError as exc:
        raise ValueError(f"retries: {what}: {exc}") from None
    if seconds == 0 and not zero_ok:
        raise ValueError(f"retries: {what}: must be more than 0 seconds")
    return seconds
