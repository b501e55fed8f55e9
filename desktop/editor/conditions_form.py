"""The editor's Conditions tab: what a due run waits for, and for how long at most.

"On AC power" and "A network connection" are the `ac-power` and `network` conditions; "Server
answers" takes one or more HOST:PORT (a TCP connection must succeed: `network:HOST:PORT`);
"Give up after" is the job's `condition_deadline` (empty: the run waits as long as it takes).
Readers raise ValueError("conditions: reason") as the other editor forms do.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QWidget

from desktop.editor.field_marks import set_invalid
from desktop.editor.policy_form import read_duration
from desktop.naming import named
from jobs.alerts.addresses import split_list
from jobs.conditions.requirements import AC_POWER, NETWORK, parse_requirement
from jobs.durations import format_duration


class ConditionsForm(QWidget):
    """Emits `edited` on any change."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conditionsForm")
        self.ac_power_check = named(QCheckBox("On AC &power", self), "acPowerCheck")
        self.ac_power_check.setToolTip("Wait while the computer runs on battery")
        self.network_check = named(QCheckBox("A networ&k connection", self), "networkCheck")
        self.network_check.setToolTip("Wait while the system says it has no network (a route; not a promise that "
                                      "a given server answers: name it below for that)")  # fmt: skip
        self.servers_edit = named(QLineEdit(self), "serversEdit")
        self.servers_edit.setPlaceholderText("db.example.com:5432 (optional)")
        self.servers_edit.setToolTip("Wait until a TCP connection to each HOST:PORT succeeds (checked every few seconds)")
        self.deadline_edit = named(QLineEdit(self), "conditionDeadlineEdit")
        self.deadline_edit.setPlaceholderText("never")
        self.deadline_edit.setToolTip("A run that waited this long ends as missed and notifies: 30m, 6h "
                                      "(empty: it waits as long as it takes)")  # fmt: skip
        checks = QHBoxLayout()
        checks.addWidget(self.ac_power_check)
        checks.addWidget(self.network_check)
        checks.addStretch(1)
        self._labels: list[QLabel] = []
        form = QFormLayout(self)
        form.addRow(self._label("Wait for", self.ac_power_check), checks)
        form.addRow(self._label("&Server answers", self.servers_edit), self.servers_edit)
        form.addRow(self._label("Gi&ve up after", self.deadline_edit), self.deadline_edit)
        for signal in (self.ac_power_check.toggled, self.network_check.toggled, self.servers_edit.textChanged,
                       self.deadline_edit.textChanged):  # fmt: skip
            signal.connect(self._changed)

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        caption = QLabel(text, self)
        caption.setBuddy(buddy)
        self._labels.append(caption)
        return caption

    def labels(self) -> list[QLabel]:
        return list(self._labels)

    def load(self, requires: tuple[str, ...], deadline: float | None) -> None:
        servers = []
        self.ac_power_check.setChecked(AC_POWER in requires)
        self.network_check.setChecked(NETWORK in requires)
        for text in requires:
            if text.startswith(NETWORK + ":"):
                servers.append(text[len(NETWORK) + 1:])
        self.servers_edit.setText(" ".join(servers))
        self.deadline_edit.setText(format_duration(deadline) if deadline is not None else "")

    def state(self) -> tuple[bool, bool, str, str]:
        return (self.ac_power_check.isChecked(), self.network_check.isChecked(), self.servers_edit.text(),
                self.deadline_edit.text())  # fmt: skip

    def requires(self) -> tuple[str, ...]:
        out = [AC_POWER] if self.ac_power_check.isChecked() else []
        if self.network_check.isChecked():
            out.append(NETWORK)
        for server in split_list(self.servers_edit.text()):
            try:
                out.append(parse_requirement(f"{NETWORK}:{server}").text)
            except ValueError as exc:
                raise ValueError(f"conditions: server {server!r}: {str(exc).split(': ', 1)[-1]}") from None
        return tuple(dict.fromkeys(out))

    def condition_deadline(self) -> float | None:
        text = self.deadline_edit.text().strip().lower()
        if text in ("", "never", "none"):
            return None
        try:
            return read_duration(text, "timeout", zero_ok=False)
        except ValueError as exc:
            raise ValueError(f"conditions: give up after: {str(exc).split(': ', 1)[-1]}") from None

    def focus_widgets(self) -> list[QWidget]:
        return [self.ac_power_check, self.network_check, self.servers_edit, self.deadline_edit]

    def mark(self, problem: str | None) -> None:
        """Frame the box the problem is about (servers or the deadline)."""
        set_invalid(self.servers_edit, problem if problem and "server" in problem else None)
        set_invalid(self.deadline_edit, problem if problem and ("give up" in problem or "deadline" in problem) else None)

    def _changed(self, *_args: object) -> None:
        self.edited.emit()
