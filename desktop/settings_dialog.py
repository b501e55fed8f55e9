"""The Settings dialog: the core settings a person may want to change from the window, what
closing the window does, and the alerts' SMTP server, default recipients and webhook secret
(desktop.alerts_settings).

Core settings (runs at once, history retention, output cap) live in the database, shared with
`serve` and the command line; the caller saves what `values()` returns through the service.
The close behaviour is this desktop's own (QSettings, `desktop.closing`).
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.alerts_settings import AlertSettingsBox
from desktop.naming import named
from desktop.closing import CHOICES
from jobs.alerts.config import AlertSettings
from jobs.remote.broker import mask
from jobs.settings import CoreSettings


class SettingsDialog(QDialog):
    FIELDS = (
        ("max_concurrent", "Runs at once (all jobs)", 1, 256, "More runs wait as “queued”"),
        ("retention_days", "Keep history for (days)", 0, 36500, "0 keeps it forever"),
        ("retention_runs", "Keep runs per job", 0, 10_000_000, "0 keeps every run"),
        ("log_cap_mb", "Output kept per run (MiB)", 1, 10_240, "Longer output is cut at the start"),
    )

    def __init__(self, settings: CoreSettings, close_choice: str, parent: QWidget | None = None, *,
                 alerts: AlertSettings | None = None, secrets_file: str = "",
                 webhook_secret: Callable[[], str] | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Jobdesk settings")
        self.form = QFormLayout()
        self.spins: dict[str, QSpinBox] = {}
        for name, label, low, high, tip in self.FIELDS:
            spin = named(QSpinBox(self), f"{name}Spin")
            spin.setRange(low, high)
            spin.setValue(int(getattr(settings, name)))
            spin.setToolTip(tip)
            spin.setAccessibleName(label)
            self.spins[name] = spin
            self.form.addRow(label, spin)
        # The broker is shown masked; saving the masked text unchanged keeps the stored URL.
        self._broker_shown = mask(settings.broker)
        self.broker_edit = named(QLineEdit(self._broker_shown, self), "brokerEdit", "Broker for jobs on other machines")
        self.broker_edit.setPlaceholderText("redis://:PASSWORD@host:6379/0 (empty: none)")
        self.broker_edit.setToolTip("Where jobs that run on a pool of workers are sent (Redis; rediss:// for TLS). "
                                    "Whoever can write to it can run commands on the workers: give it a password.")
        self.form.addRow("Broker (jobs on other machines)", self.broker_edit)
        self.close_combo = named(QComboBox(self), "closeChoiceCombo", "When the window is closed")
        for value, text in CHOICES.items():
            self.close_combo.addItem(text, value)
        self.close_combo.setCurrentIndex(max(0, self.close_combo.findData(close_choice)))
        self.close_combo.setToolTip("Without a system tray: what closing the window does (with a tray it hides there)")
        self.form.addRow("Closing the window", self.close_combo)
        note = QLabel("History retention is applied when Jobdesk starts.", self)
        note.setEnabled(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(note)
        self.alerts_box = (AlertSettingsBox(alerts, secrets_file, self, secret=webhook_secret)
                           if alerts is not None else None)  # fmt: skip
        if self.alerts_box is not None:
            layout.addWidget(self.alerts_box)
        layout.addWidget(self.buttons)

    def values(self) -> dict[str, int]:
        """The core settings as shown, by name."""
        return {name: spin.value() for name, spin in self.spins.items()}

    def alert_changes(self) -> dict[str, str]:
        """The alert settings changed in the dialog, by their `jobdesk config` names."""
        return self.alerts_box.changes() if self.alerts_box is not None else {}

    def broker(self) -> str | None:
        """The broker URL typed, "" to have none, or None when left as shown (unchanged)."""
        text = self.broker_edit.text().strip()
        return None if text == self._broker_shown else text

    def close_choice(self) -> str:
        return str(self.close_combo.currentData())
