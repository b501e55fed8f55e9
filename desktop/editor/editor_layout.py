"""The job editor's widgets and layout: `EditorLayout(dialog)`, kept by the dialog as `ui` (like a
Designer form's `setupUi`, but a typed object instead of attributes stuck onto the dialog).

Left column: the job (name, description, tags), its command (line, working folder,
environment) and its behaviour (timeout, overlap, missed runs, notifications, pause). Right
column: the schedule (time zone, Cron/Interval/Date/After tabs, words and next runs), then the
Conditions and Alerts tabs (desktop.editor.conditions_form, desktop.editor.alerts_form). Below:
the problems and notes, "Run now", OK and Cancel. Tab order follows that reading order.
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.editor.after_editor import AfterEditor
from desktop.editor.command_field import CommandField
from desktop.editor.cron_editor import CronEditor
from desktop.editor.date_editor import DateEditor
from desktop.editor.env_table import EnvTable
from desktop.editor.interval_editor import IntervalEditor
from desktop.editor.alerts_form import AlertsForm
from desktop.editor.conditions_form import ConditionsForm
from desktop.editor.outputs_form import OutputsForm
from desktop.editor.policy_form import PolicyForm
from desktop.editor.retry_form import RetryForm
from desktop.editor.run_with_combo import RunWithCombo
from desktop.editor.schedule_preview import SchedulePreview
from desktop.editor.timezone_combo import TimezoneCombo
from jobs import triggers


class EditorLayout:
    """The editor's widgets, built onto `dialog` and laid out (the dialog keeps it as `ui`)."""

    def __init__(self, dialog: QDialog) -> None:
        self.dialog = dialog
        self._build(dialog)

    def _build(self, dialog: QDialog) -> None:
        labels: list[QLabel] = []
        self.name_edit = named(QLineEdit(dialog), "nameEdit")
        self.name_edit.setPlaceholderText("Daily sales report")
        self.description_edit = named(QPlainTextEdit(dialog), "descriptionEdit")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setPlaceholderText("What the job does, for whoever reads this later")
        self.description_edit.setFixedHeight(dialog.fontMetrics().lineSpacing() * 2 + 12)
        self.tags_edit = named(QLineEdit(dialog), "tagsEdit")
        self.tags_edit.setPlaceholderText("reports, finance (comma-separated)")
        job_form = QFormLayout()
        job_form.addRow(label(dialog, labels, "&Name", self.name_edit), self.name_edit)
        job_form.addRow(label(dialog, labels, "&Description", self.description_edit), self.description_edit)
        job_form.addRow(label(dialog, labels, "Ta&gs", self.tags_edit), self.tags_edit)

        self.command_field = CommandField(dialog)
        self.cwd_edit = named(QLineEdit(dialog), "cwdEdit")
        self.cwd_edit.setPlaceholderText("Jobdesk's own folder")
        self.cwd_edit.setToolTip("The folder the command starts in")
        self.cwd_button = named(QToolButton(dialog), "cwdButton")
        self.cwd_button.setText("Folder…")
        self.cwd_button.setToolTip("Choose the working folder")
        cwd_row = QHBoxLayout()
        cwd_row.addWidget(self.cwd_edit, 1)
        cwd_row.addWidget(self.cwd_button)
        self.env_table = EnvTable(dialog)
        self.run_with_combo = RunWithCombo(dialog)  # finds interpreters on a worker thread
        command_form = QFormLayout()
        command_form.addRow(label(dialog, labels, "&Command", self.command_field.line_edit), self.command_field)
        command_form.addRow(label(dialog, labels, "Run wit&h", self.run_with_combo), self.run_with_combo)
        command_form.addRow(label(dialog, labels, "&Working folder", self.cwd_edit), cwd_row)
        command_form.addRow(label(dialog, labels, "&Environment", self.env_table.view), self.env_table)

        self.policy_form = PolicyForm(dialog)

        self.timezone_combo = TimezoneCombo(triggers.local_timezone_name(), dialog)
        self.trigger_tabs = named(QTabWidget(dialog), "triggerTabs")
        self.cron_editor = CronEditor(dialog)
        self.interval_editor = IntervalEditor(dialog)
        self.date_editor = DateEditor(dialog)
        self.trigger_tabs.addTab(self.cron_editor, "Cr&on")
        self.trigger_tabs.addTab(self.interval_editor, "&Interval")
        self.trigger_tabs.addTab(self.date_editor, "D&ate")
        self.after_editor = AfterEditor(dialog)
        self.trigger_tabs.addTab(self.after_editor, "Af&ter")
        self.preview = SchedulePreview(dialog)
        self.conditions_form = ConditionsForm(dialog)
        self.alerts_form = AlertsForm(dialog)
        self.more_tabs = named(QTabWidget(dialog), "conditionsAlertsTabs")
        self.more_tabs.addTab(self.conditions_form, "Conditions")
        self.more_tabs.addTab(self.alerts_form, "Alerts")
        self.retry_form = RetryForm(dialog)
        self.more_tabs.addTab(self.retry_form, "Retries")
        self.outputs_form = OutputsForm(dialog)  # expected outputs (jobs.expected_outputs)
        self.more_tabs.addTab(self.outputs_form, "Outputs")
        zone_row = QFormLayout()
        zone_label = QLabel("Time &zone", dialog)
        zone_label.setBuddy(self.timezone_combo)
        zone_row.addRow(zone_label, self.timezone_combo)

        self.validation_label = named(QLabel(dialog), "validationMessage")
        self.validation_label.setWordWrap(True)
        self.validation_label.setTextFormat(Qt.TextFormat.RichText)
        self.validation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.validation_label.setMinimumHeight(dialog.fontMetrics().lineSpacing() * 2 + 4)
        self.validation_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
        self.ok_button = named(self.buttons.button(QDialogButtonBox.StandardButton.Ok), "okButton")
        self.ok_button.setDefault(True)
        self.cancel_button = named(self.buttons.button(QDialogButtonBox.StandardButton.Cancel), "cancelButton")
        self.cancel_button.setAutoDefault(False)
        self.run_button = named(QPushButton("R&un now", dialog), "runNowButton")
        self.run_button.setAutoDefault(False)
        self.run_button.setToolTip("Run the job once now, as the scheduler would, with these settings")

        left = QVBoxLayout()
        left.addWidget(group(dialog, "Job", job_form, "jobGroup"))
        left.addWidget(group(dialog, "Command", command_form, "commandGroup"))
        left.addWidget(group(dialog, "Behaviour", self.policy_form, "behaviourGroup"))
        left.addStretch(1)
        schedule = QVBoxLayout()
        schedule.addLayout(zone_row)
        schedule.addWidget(self.trigger_tabs)
        schedule.addWidget(self.preview, 1)
        right = QVBoxLayout()
        right.addWidget(group(dialog, "Schedule", schedule, "scheduleGroup"), 1)
        right.addWidget(self.more_tabs)
        columns = QHBoxLayout()
        columns.addLayout(left, 11)
        columns.addLayout(right, 10)
        layout = QVBoxLayout(dialog)
        layout.addLayout(columns, 1)
        layout.addWidget(self.validation_label)
        bottom = QHBoxLayout()
        bottom.addWidget(self.run_button)
        bottom.addStretch(1)
        bottom.addWidget(self.buttons)
        layout.addLayout(bottom)
        align_labels([*labels, *self.policy_form.labels()])
        self._set_tab_order()
        dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSizeHint()).width() + 40, dialog.sizeHint().height())


    def trigger_editor(self) -> CronEditor | IntervalEditor | DateEditor | AfterEditor:
        """The schedule tab shown now."""
        editors = (self.cron_editor, self.interval_editor, self.date_editor, self.after_editor)
        return editors[max(0, self.trigger_tabs.currentIndex())]

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [self.name_edit, self.description_edit, self.tags_edit,
                                *self.command_field.focus_widgets(), self.run_with_combo, self.cwd_edit, self.cwd_button,
                                self.env_table.view, self.env_table.add_button, self.env_table.remove_button,
                                *self.policy_form.focus_widgets(), self.timezone_combo, self.trigger_tabs,
                                *self.cron_editor.focus_widgets(), *self.interval_editor.focus_widgets(),
                                *self.date_editor.focus_widgets(), *self.after_editor.focus_widgets(), self.more_tabs,
                                *self.conditions_form.focus_widgets(), *self.alerts_form.focus_widgets(),
                                *self.retry_form.focus_widgets(),
                                *self.outputs_form.focus_widgets(),
                                self.ok_button, self.cancel_button,
                                self.run_button]  # fmt: skip
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)


W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    widget.setObjectName(name)
    widget.setAccessibleName(name)
    return widget


def label(parent: QWidget, labels: list[QLabel], text: str, buddy: QWidget) -> QLabel:
    """A form label for `buddy` (its mnemonic focuses it), remembered in `labels`."""
    caption = QLabel(text, parent)
    caption.setBuddy(buddy)
    labels.append(caption)
    return caption


def align_labels(labels: list[QLabel]) -> None:
    """One label width for the forms of the left column, so their fields line up."""
    width = max(caption.sizeHint().width() for caption in labels)
    for caption in labels:
        caption.setMinimumWidth(width)


def group(dialog: QWidget, title: str, content: QWidget | QLayout, name: str) -> QGroupBox:
    box = QGroupBox(title, dialog)
    box.setObjectName(name)
    if isinstance(content, QWidget):
        layout = QVBoxLayout(box)
        layout.addWidget(content)
    else:
        box.setLayout(content)
    return box
