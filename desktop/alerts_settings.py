"""The Settings dialog's Alerts box: the SMTP server, default recipients and the webhook secret.

What it shows comes from `jobs.alerts.config.AlertSettings`; `changes()` returns the settings
the person changed, by their `jobdesk config` names, for the caller to save through the
service. The SMTP password is never shown: an empty box keeps the stored one (the placeholder
says whether one is stored), typing replaces it. The webhook secret is not shown either; "Copy
secret" puts it on the clipboard for setting up the receiver, and the tooltip names the
user-only file that keeps it.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QSpinBox, QWidget

from desktop.naming import named
from jobs.alerts.config import SECURITIES, AlertSettings

_SECURITY_TEXT = {"starttls": "STARTTLS (port 587)", "ssl": "SSL/TLS (port 465)", "none": "None (port 25)"}


class AlertSettingsBox(QGroupBox):
    def __init__(self, settings: AlertSettings, secrets_file: str, parent: QWidget | None = None, *,
                 secret: Callable[[], str] | None = None) -> None:  # fmt: skip
        """`secret`: gives the webhook secret, making it if needed (JobService.webhook_secret)."""
        super().__init__("Alerts: e-mail and webhooks", parent)
        self._secret = secret or (lambda: settings.webhook_secret)
        self.setObjectName("alertSettingsBox")
        self._settings = settings
        smtp = settings.smtp
        self.host_edit = self._line("smtpHostEdit", smtp.host, "smtp.example.com")
        self.port_spin = named(QSpinBox(self), "smtpPortSpin", "SMTP port")
        self.port_spin.setRange(0, 65535)
        self.port_spin.setSpecialValueText("usual")
        self.port_spin.setValue(smtp.port)
        self.security_combo = named(QComboBox(self), "smtpSecurityCombo", "SMTP security")
        for value in SECURITIES:
            self.security_combo.addItem(_SECURITY_TEXT[value], value)
        self.security_combo.setCurrentIndex(max(0, self.security_combo.findData(smtp.security)))
        self.user_edit = self._line("smtpUserEdit", smtp.user, "(no login)")
        self.password_edit = self._line("smtpPasswordEdit", "", "stored (unchanged)" if smtp.password else "not set")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.sender_edit = self._line("smtpFromEdit", smtp.sender, "jobdesk@example.com")
        self.email_edit = self._line("defaultEmailEdit", ", ".join(settings.email), "for jobs that name no address")
        self.webhook_edit = self._line("defaultWebhookEdit", " ".join(settings.webhooks), "for jobs that name no URL")
        self.copy_secret_button = named(QPushButton("Copy secret", self), "copyWebhookSecret")
        self.copy_secret_button.setToolTip(f"Webhooks are signed (X-Jobdesk-Signature: sha256=HMAC of the body) with "
                                           f"this secret, kept user-only in {secrets_file}")  # fmt: skip
        self.copy_secret_button.clicked.connect(self.copy_secret)
        server = QHBoxLayout()
        server.addWidget(self.host_edit, 1)
        server.addWidget(QLabel("port", self))
        server.addWidget(self.port_spin)
        secret_row = QHBoxLayout()
        secret_row.addWidget(QLabel("stored user-only", self), 1)
        secret_row.addWidget(self.copy_secret_button)
        form = QFormLayout(self)
        form.addRow("SMTP server", server)
        form.addRow("Security", self.security_combo)
        form.addRow("User", self.user_edit)
        form.addRow("Password", self.password_edit)
        form.addRow("From", self.sender_edit)
        form.addRow("Default e-mail", self.email_edit)
        form.addRow("Default webhook", self.webhook_edit)
        form.addRow("Webhook secret", secret_row)

    def _line(self, name: str, text: str, placeholder: str) -> QLineEdit:
        edit = named(QLineEdit(text, self), name, name)
        edit.setPlaceholderText(placeholder)
        return edit

    def changes(self) -> dict[str, str]:
        """The settings changed here, by name (`smtp.host`, ...), as text to validate and save."""
        smtp = self._settings.smtp
        shown = {
            "smtp.host": (self.host_edit.text().strip(), smtp.host),
            "smtp.port": (str(self.port_spin.value()), str(smtp.port)),
            "smtp.security": (str(self.security_combo.currentData()), smtp.security),
            "smtp.user": (self.user_edit.text().strip(), smtp.user),
            "smtp.from": (self.sender_edit.text().strip(), smtp.sender),
            "alert_email": (self.email_edit.text().strip(), ", ".join(self._settings.email)),
            "alert_webhook": (self.webhook_edit.text().strip(), " ".join(self._settings.webhooks)),
        }
        out = {name: new for name, (new, old) in shown.items() if new != old}
        if self.password_edit.text():
            out["smtp.password"] = self.password_edit.text()
        return out

    def copy_secret(self) -> None:
        QGuiApplication.clipboard().setText(self._secret())
