"""The Cron tab: a 5-field expression, a picker per field and a presets menu.

The expression line (`cronEdit`) and the five field pickers rewrite each other: typing in the
line splits it into the fields, editing a field joins the fields back into the line. The
pickers are editable combos whose lists hold common values ("Monday to Friday (1-5)");
choosing one writes only the value. Presets take their time from the time box at the top of
the presets menu. Standard cron numbering: weekday 0 and 7 are Sunday.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QTime, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QTimeEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from desktop.editor.field_marks import set_invalid
from jobs.model import CronSpec

WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")  # fmt: skip

# (object name, label, triggers' field name, [(list text, value)])
FIELDS: tuple[tuple[str, str, str, list[tuple[str, str]]], ...] = (
    ("cronMinuteField", "Minute", "minute", [
        ("every minute", "*"), ("on the hour", "0"), ("at :15", "15"), ("at :30", "30"), ("at :45", "45"),
        ("every 5 minutes", "*/5"), ("every 10 minutes", "*/10"), ("every 15 minutes", "*/15"),
        ("every 30 minutes", "*/30"),
    ]),
    ("cronHourField", "Hour", "hour", [
        ("every hour", "*"), ("every 2 hours", "*/2"), ("every 3 hours", "*/3"), ("every 6 hours", "*/6"),
        ("9 to 17", "9-17"), *((f"{hour:02d} h", str(hour)) for hour in range(24)),
    ]),
    ("cronDayField", "Day", "day of month", [
        ("every day", "*"), ("1st and 15th", "1,15"), *((f"day {day}", str(day)) for day in range(1, 32)),
    ]),
    ("cronMonthField", "Month", "month", [
        ("every month", "*"), ("quarterly", "1,4,7,10"), *((name, str(i)) for i, name in enumerate(MONTHS, 1)),
    ]),
    ("cronWeekdayField", "Weekday", "day of week", [
        ("every day", "*"), ("Monday to Friday", "1-5"), ("weekend", "6,0"),
        *((name, str(i)) for i, name in ((i % 7, WEEKDAYS[i % 7]) for i in range(1, 8))),
    ]),
)  # fmt: skip
FIELD_NAMES = tuple(field for _, _, field, _ in FIELDS)
DEFAULT_EXPRESSION = "0 9 * * 1-5"


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


class CronFieldCombo(QComboBox):
    """An editable combo for one field; list entries show words, choosing one writes its value."""

    value_edited = Signal()

    def __init__(self, object_name: str, choices: list[tuple[str, str]], parent=None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAccessibleName(object_name)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setCompleter(None)  # type: ignore[arg-type]  # None is allowed (stubs say no); inline completion would turn "1" into "1st and 15th"
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(5)
        self.setMaxVisibleItems(14)
        for text, value in choices:
            self.addItem(f"{text}  ({value})", value)
        self.view().setMinimumWidth(self.view().sizeHintForColumn(0) + 24)
        self.setCurrentIndex(-1)
        line = self.lineEdit()
        assert line is not None  # editable
        line.textEdited.connect(self._typed)
        self.activated.connect(self._chosen)

    def value(self) -> str:
        return self.currentText().strip()

    def set_value(self, value: str) -> None:
        index = self.findData(value)
        if index != self.currentIndex():
            self.setCurrentIndex(index)
        self.setEditText(value)

    def _typed(self, _text: str) -> None:
        self.value_edited.emit()

    def _chosen(self, index: int) -> None:
        self.setEditText(str(self.itemData(index)))
        self.value_edited.emit()


class CronEditor(QWidget):
    """Emits `edited` whenever the expression changes through any of its controls."""

    edited = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("cronEditor")
        self.expression_edit = QLineEdit(self)
        self.expression_edit.setObjectName("cronEdit")
        self.expression_edit.setAccessibleName("cronEdit")
        self.expression_edit.setPlaceholderText("minute hour day month weekday, like 30 7 * * 1-5")
        self.expression_edit.setToolTip(
            "Standard cron: minute hour day-of-month month day-of-week.\n"
            "* = every, 1-5 = a range, */15 = a step, 1,15 = a list; weekday 0 and 7 are Sunday."
        )
        self.presets_button = QToolButton(self)
        self.presets_button.setObjectName("cronPresetsButton")
        self.presets_button.setAccessibleName("cronPresetsButton")
        self.presets_button.setText("Presets")
        self.presets_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._build_presets_menu()

        self.field_combos: dict[str, CronFieldCombo] = {}
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        for column, (object_name, label, field, choices) in enumerate(FIELDS):
            combo = CronFieldCombo(object_name, choices, self)
            caption = QLabel(label, self)
            caption.setBuddy(combo)
            grid.addWidget(caption, 0, column)
            grid.addWidget(combo, 1, column)
            grid.setColumnStretch(column, 1)
            combo.value_edited.connect(self._field_edited)
            self.field_combos[field] = combo

        top = QHBoxLayout()
        top.addWidget(self.expression_edit, 1)
        top.addWidget(self.presets_button)
        syntax = QLabel(
            "* every \u00b7 1-5 a range \u00b7 */15 a step \u00b7 1,15 a list \u00b7 weekday 0 and 7 are Sunday", self
        )
        syntax.setObjectName("cronSyntaxHint")
        syntax.setWordWrap(True)
        syntax.setEnabled(False)  # secondary text colour in both palettes
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addWidget(syntax)
        layout.addStretch(1)
        self._blank_field: str | None = None
        self._from_fields = False  # the line is being rewritten from the pickers
        # textChanged, not textEdited: text set without typing (accessibility tools, scripts)
        # must be checked too, or a stale error stays and OK stays disabled.
        self.expression_edit.textChanged.connect(self._expression_changed)
        self.set_expression(DEFAULT_EXPRESSION)

    # --- public API ---------------------------------------------------------------------------
    def expression(self) -> str:
        return " ".join(self.expression_edit.text().split())

    def set_expression(self, expression: str) -> None:
        self._blank_field = None
        if self.expression_edit.text() == expression:
            self._split_into_fields(expression)  # setText would not signal a change
        self.expression_edit.setText(expression)
        self._sync_preset_time()

    def problem(self) -> tuple[str, str] | None:
        """(field, message) while a field picker is empty; the expression is not rewritten then."""
        if self._blank_field is None:
            return None
        return self._blank_field, "is empty: type a value, or * for every one"

    def spec(self, timezone: str) -> CronSpec:
        return CronSpec(self.expression(), timezone)

    def state(self) -> str:
        return self.expression_edit.text()

    def focus_widgets(self) -> list[QWidget]:
        return [self.expression_edit, self.presets_button, *self.field_combos.values()]

    def mark(self, field: str | None, message: str | None) -> None:
        """Frame the line and, when the problem is one field's, that field's picker."""
        set_invalid(self.expression_edit, message)
        for name, combo in self.field_combos.items():
            set_invalid(combo, message if message and field == name else None)

    def preset_actions(self) -> dict[str, QAction]:
        return dict(self._preset_actions)

    def apply_preset(self, kind: str, value: int | None = None) -> None:
        """Rewrite the expression: kind is hourly, daily, weekdays, weekly (value 0-6) or monthly (1-31)."""
        at = self.preset_time.time()
        minute, hour = at.minute(), at.hour()
        fields = {
            "hourly": (minute, "*", "*", "*", "*"),
            "daily": (minute, hour, "*", "*", "*"),
            "weekdays": (minute, hour, "*", "*", "1-5"),
            "weekly": (minute, hour, "*", "*", value),
            "monthly": (minute, hour, value, "*", "*"),
        }[kind]
        expression = " ".join(str(field) for field in fields)
        self.set_expression(expression)
        self.edited.emit()

    # --- presets ------------------------------------------------------------------------------
    def _build_presets_menu(self) -> None:
        menu = QMenu(self.presets_button)
        menu.setObjectName("cronPresetsMenu")
        time_row = QWidget(menu)
        row = QHBoxLayout(time_row)
        row.setContentsMargins(8, 4, 8, 4)
        self.preset_time = QTimeEdit(QTime(9, 0), time_row)
        self.preset_time.setObjectName("cronPresetTime")
        self.preset_time.setAccessibleName("cronPresetTime")
        self.preset_time.setDisplayFormat("HH:mm")
        caption = QLabel("Time for the presets:", time_row)
        caption.setBuddy(self.preset_time)
        row.addWidget(caption)
        row.addWidget(self.preset_time)
        time_action = QWidgetAction(menu)
        time_action.setDefaultWidget(time_row)
        menu.addAction(time_action)
        menu.addSeparator()

        self._preset_actions: dict[str, QAction] = {}
        for kind in ("hourly", "daily", "weekdays"):
            self._add_preset(menu, kind, None, f"preset_{kind}")
        weekly = menu.addMenu("Weekly on")
        weekly.setObjectName("cronPresetsWeekly")
        for day in (1, 2, 3, 4, 5, 6, 0):
            self._add_preset(weekly, "weekly", day, f"preset_weekly_{day}")
        monthly = menu.addMenu("Monthly on")
        monthly.setObjectName("cronPresetsMonthly")
        for day in range(1, 32):
            self._add_preset(monthly, "monthly", day, f"preset_monthly_{day}")
        menu.aboutToShow.connect(self._retitle_presets)
        self.preset_time.timeChanged.connect(self._retitle_presets)
        self.presets_button.setMenu(menu)
        self._retitle_presets()

    def _add_preset(self, menu: QMenu, kind: str, value: int | None, key: str) -> None:
        action = QAction(menu)
        action.setObjectName(key)
        action.setData((kind, value))
        action.triggered.connect(self._preset_triggered)
        menu.addAction(action)
        self._preset_actions[key] = action

    def _preset_triggered(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            kind, value = action.data()
            self.apply_preset(kind, value)

    def _retitle_presets(self) -> None:
        at = self.preset_time.time().toString("HH:mm")
        minute = f":{self.preset_time.time().minute():02d}"
        for action in self._preset_actions.values():
            kind, value = action.data()
            if kind == "hourly":
                text = f"Every hour at {minute}"
            elif kind == "daily":
                text = f"Daily at {at}"
            elif kind == "weekdays":
                text = f"Weekdays (Monday to Friday) at {at}"
            elif kind == "weekly":
                text = f"{WEEKDAYS[value]} at {at}"
            else:
                text = f"The {_ordinal(value)} at {at}"
            action.setText(text)

    def _sync_preset_time(self) -> None:
        """Start the presets' time at the expression's own time when it has a single one."""
        minute, hour = (self.field_combos[name].value() for name in ("minute", "hour"))
        if re.fullmatch(r"\d{1,2}", minute) and re.fullmatch(r"\d{1,2}", hour):
            at = QTime(int(hour), int(minute))
            if at.isValid():
                self.preset_time.setTime(at)

    # --- keeping the line and the fields in step -------------------------------------------
    def _split_into_fields(self, expression: str) -> None:
        parts = expression.split()
        if len(parts) > 5:  # keep every character: the extra ones land in the last field
            parts = [*parts[:4], " ".join(parts[4:])]
        parts += [""] * (5 - len(parts))
        if expression.strip().startswith("@"):
            parts = [""] * 5
        for name, part in zip(FIELD_NAMES, parts):
            self.field_combos[name].set_value(part)

    def _expression_changed(self, text: str) -> None:
        if self._from_fields:
            return  # the pickers wrote it: they already show it (and one is being typed in)
        self._blank_field = None
        self._split_into_fields(text)
        self.edited.emit()

    def _field_edited(self) -> None:
        # An emptied picker must not turn into "*" (every minute!): the line keeps its last
        # full expression and `problem()` names the empty field until it has a value again.
        values = [self.field_combos[name].value() for name in FIELD_NAMES]
        self._blank_field = next((name for name, value in zip(FIELD_NAMES, values) if not value), None)
        if self._blank_field is None:
            self._from_fields = True
            try:
                self.expression_edit.setText(" ".join(values))
            finally:
                self._from_fields = False
        self.edited.emit()
