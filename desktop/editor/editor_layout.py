"""The job editor's widgets and layout, built onto the dialog (like Designer's `setupUi`).

Left column: the job (name, description, tags), its command (line, working folder,
environment) and its behaviour (timeout, overlap, missed runs, notifications, pause). Right
column: the schedule (time zone, Cron/Interval/Date tabs, words and next runs). Below: the
problems and notes, "Run now", OK and Cancel. Tab order follows that reading order.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.editor.command_field import CommandField
from desktop.editor.cron_editor import CronEditor
from desktop.editor.date_editor import DateEditor
from desktop.editor.env_table import EnvTable
from desktop.editor.interval_editor import IntervalEditor
from desktop.editor.policy_form import PolicyForm
from desktop.editor.schedule_preview import SchedulePreview
from desktop.editor.timezone_combo import TimezoneCombo
from jobs import triggers


def build_editor(dialog: Any) -> None:
    """Create the editor's widgets as attributes of `dialog` and lay them out."""
    labels: list[QLabel] = []
    dialog.name_edit = named(QLineEdit(dialog), "nameEdit")
    dialog.name_edit.setPlaceholderText("Daily sales report")
    dialog.description_edit = named(QPlainTextEdit(dialog), "descriptionEdit")
    dialog.description_edit.setTabChangesFocus(True)
    dialog.description_edit.setPlaceholderText("What the job does, for whoever reads this later")
    dialog.description_edit.setFixedHeight(dialog.fontMetrics().lineSpacing() * 2 + 12)
    dialog.tags_edit = named(QLineEdit(dialog), "tagsEdit")
    dialog.tags_edit.setPlaceholderText("reports, finance (comma-separated)")
    job_form = QFormLayout()
    job_form.addRow(label(dialog, labels, "&Name", dialog.name_edit), dialog.name_edit)
    job_form.addRow(label(dialog, labels, "&Description", dialog.description_edit), dialog.description_edit)
    job_form.addRow(label(dialog, labels, "Ta&gs", dialog.tags_edit), dialog.tags_edit)

    dialog.command_field = CommandField(dialog)
    dialog.cwd_edit = named(QLineEdit(dialog), "cwdEdit")
    dialog.cwd_edit.setPlaceholderText("Jobdesk's own folder")
    dialog.cwd_edit.setToolTip("The folder the command starts in")
    dialog.cwd_button = named(QToolButton(dialog), "cwdButton")
    dialog.cwd_button.setText("Folder…")
    dialog.cwd_button.setToolTip("Choose the working folder")
    cwd_row = QHBoxLayout()
    cwd_row.addWidget(dialog.cwd_edit, 1)
    cwd_row.addWidget(dialog.cwd_button)
    dialog.env_table = EnvTable(dialog)
    command_form = QFormLayout()
    command_form.addRow(label(dialog, labels, "&Command", dialog.command_field.line_edit), dialog.command_field)
    command_form.addRow(label(dialog, labels, "&Working folder", dialog.cwd_edit), cwd_row)
    command_form.addRow(label(dialog, labels, "&Environment", dialog.env_table.view), dialog.env_table)

    dialog.policy_form = PolicyForm(dialog)

    dialog.timezone_combo = TimezoneCombo(triggers.local_timezone_name(), dialog)
    dialog.trigger_tabs = named(QTabWidget(dialog), "triggerTabs")
    dialog.cron_editor = CronEditor(dialog)
    dialog.interval_editor = IntervalEditor(dialog)
    dialog.date_editor = DateEditor(dialog)
    dialog.trigger_tabs.addTab(dialog.cron_editor, "Cr&on")
    dialog.trigger_tabs.addTab(dialog.interval_editor, "&Interval")
    dialog.trigger_tabs.addTab(dialog.date_editor, "D&ate")
    dialog.preview = SchedulePreview(dialog)
    zone_row = QFormLayout()
    zone_label = QLabel("Time &zone", dialog)
    zone_label.setBuddy(dialog.timezone_combo)
    zone_row.addRow(zone_label, dialog.timezone_combo)

    dialog.validation_label = named(QLabel(dialog), "validationMessage")
    dialog.validation_label.setWordWrap(True)
    dialog.validation_label.setTextFormat(Qt.TextFormat.RichText)
    dialog.validation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    dialog.validation_label.setMinimumHeight(dialog.fontMetrics().lineSpacing() * 2 + 4)
    dialog.validation_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

    dialog.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, dialog)
    dialog.ok_button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    named(dialog.ok_button, "okButton")
    dialog.ok_button.setDefault(True)
    cancel = named(dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), "cancelButton")
    cancel.setAutoDefault(False)
    dialog.run_button = named(QPushButton("R&un now", dialog), "runNowButton")
    dialog.run_button.setAutoDefault(False)
    dialog.run_button.setToolTip("Run the job once now, as the scheduler would, with these settings")

    left = QVBoxLayout()
    left.addWidget(group(dialog, "Job", job_form, "jobGroup"))
    left.addWidget(group(dialog, "Command", command_form, "commandGroup"))
    left.addWidget(group(dialog, "Behaviour", dialog.policy_form, "behaviourGroup"))
    left.addStretch(1)
    schedule = QVBoxLayout()
    schedule.addLayout(zone_row)
    schedule.addWidget(dialog.trigger_tabs)
    schedule.addWidget(dialog.preview, 1)
    right = QVBoxLayout()
    right.addWidget(group(dialog, "Schedule", schedule, "scheduleGroup"), 1)
    columns = QHBoxLayout()
    columns.addLayout(left, 11)
    columns.addLayout(right, 10)
    layout = QVBoxLayout(dialog)
    layout.addLayout(columns, 1)
    layout.addWidget(dialog.validation_label)
    bottom = QHBoxLayout()
    bottom.addWidget(dialog.run_button)
    bottom.addStretch(1)
    bottom.addWidget(dialog.buttons)
    layout.addLayout(bottom)
    align_labels([*labels, *dialog.policy_form.labels()])
    set_tab_order(dialog)
    dialog.resize(dialog.sizeHint().expandedTo(dialog.minimumSizeHint()).width() + 40, dialog.sizeHint().height())


def set_tab_order(dialog: Any) -> None:
    chain: list[QWidget] = [dialog.name_edit, dialog.description_edit, dialog.tags_edit,
                            *dialog.command_field.focus_widgets(), dialog.cwd_edit, dialog.cwd_button,
                            dialog.env_table.view, dialog.env_table.add_button, dialog.env_table.remove_button,
                            *dialog.policy_form.focus_widgets(), dialog.timezone_combo, dialog.trigger_tabs,
                            *dialog.cron_editor.focus_widgets(), *dialog.interval_editor.focus_widgets(),
                            *dialog.date_editor.focus_widgets(), dialog.ok_button,
                            dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel), dialog.run_button]  # fmt: skip
    for first, second in zip(chain, chain[1:]):
        QWidget.setTabOrder(first, second)


def named(widget: Any, name: str) -> Any:
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


def group(dialog: QWidget, title: str, content: Any, name: str) -> QGroupBox:
    box = QGroupBox(title, dialog)
    box.setObjectName(name)
    if isinstance(content, QWidget):
        layout = QVBoxLayout(box)
        layout.addWidget(content)
    else:
        box.setLayout(content)
    return box
