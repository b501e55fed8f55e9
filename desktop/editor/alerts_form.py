"""The editor's Alerts tab: who hears about this job's runs beyond the desktop.

E-mail addresses (comma-separated) and webhook URLs (space-separated) for this job; empty boxes
mean the defaults from Settings. What is sent follows the job's Notify choice (never, on failure,
always), like the desktop notification. Readers raise ValueError("alerts: reason").
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QWidget

from desktop.editor.field_marks import set_invalid
from desktop.naming import named
from jobs.alerts.addresses import email_problem, split_list, webhook_problem


class AlertsForm(QWidget):
    """Emits `edited` on any change."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertsForm")
        self.email_edit = named(QLineEdit(self), "alertEmailEdit")
        self.email_edit.setPlaceholderText("the addresses in Settings")
        self.email_edit.setToolTip("E-mail the outcome to these addresses (comma-separated), as Notify says")
        self.webhook_edit = named(QLineEdit(self), "alertWebhookEdit")
        self.webhook_edit.setPlaceholderText("the URL in Settings")
        self.webhook_edit.setToolTip("POST the run (as history --json shows it), signed with the webhook secret, "
                                     "to these URLs (space-separated), as Notify says")  # fmt: skip
        self._labels: list[QLabel] = []
        form = QFormLayout(self)
        form.addRow(self._label("E-mai&l", self.email_edit), self.email_edit)
        form.addRow(self._label("Web&hook", self.webhook_edit), self.webhook_edit)
        note = QLabel("Sent as Notify says (Behaviour); the SMTP server is set in Settings.", self)
        note.setEnabled(False)
        form.addRow("", note)
        for signal in (self.email_edit.textChanged, self.webhook_edit.textChanged):
            signal.connect(self._changed)

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        caption = QLabel(text, self)
        caption.setBuddy(buddy)
        self._labels.append(caption)
        return caption

    def labels(self) -> list[QLabel]:
        return list(self._labels)

    def load(self, email: tuple[str, ...], webhooks: tuple[str, ...]) -> None:
        self.email_edit.setText(", ".join(email))
        self.webhook_edit.setText(" ".join(webhooks))

    def state(self) -> tuple[str, str]:
        return self.email_edit.text(), self.webhook_edit.text()

    def email(self) -> tuple[str, ...]:
        addresses = tuple(dict.fromkeys(split_list(self.email_edit.text())))
        for address in addresses:
            problem = email_problem(address)
            if problem:
                raise ValueError(f"alerts: e-mail: {problem}")
        return addresses

    def webhooks(self) -> tuple[str, ...]:
        urls = tuple(dict.fromkeys(split_list(self.webhook_edit.text())))
        for url in urls:
            problem = webhook_problem(url)
            if problem:
                raise ValueError(f"alerts: webhook: {problem}")
        return urls

    def focus_widgets(self) -> list[QWidget]:
        return [self.email_edit, self.webhook_edit]

    def mark(self, problem: str | None) -> None:
        set_invalid(self.email_edit, problem if problem and "e-mail" in problem else None)
        set_invalid(self.webhook_edit, problem if problem and "webhook" in problem else None)

    def _changed(self, *_args: object) -> None:
        self.edited.emit()
