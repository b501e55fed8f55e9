"""Environment overrides of a job: a NAME/VALUE table with add and remove buttons.

Rows are held by `EnvModel` (a QAbstractTableModel); a name the runner could not set (empty,
containing "=" or a NUL character) or given twice is flagged in the table and reported by
`EnvTable.problems()` with the exact reason.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.editor.field_marks import set_invalid, warning_color

_Index = QModelIndex | QPersistentModelIndex
HEADERS = ("Name", "Value")


def name_problem(name: str) -> str | None:
    """Why `name` cannot be an environment variable name, or None when it can."""
    if not name:
        return "the name is empty"
    if "=" in name:
        return f"{name!r} is not a valid variable name: it must not contain '='"
    if "\0" in name:
        return f"{name!r} is not a valid variable name: it must not contain a NUL character"
    if name != name.strip():
        return f"{name!r} is not a valid variable name: it starts or ends with a space"
    return None


class EnvModel(QAbstractTableModel):
    """Editable rows of [name, value]; fully blank rows are ignored."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[list[str]] = []
        self.warning = warning_color(QPalette())  # set by the view's owner when its palette changes

    # --- Qt model API ---------------------------------------------------------------------
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 2

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEditable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        text = self._rows[index.row()][index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return text
        problem = self.row_problem(index.row()) if index.column() == 0 else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return problem or text or None
        if role == Qt.ItemDataRole.ForegroundRole and problem:
            return self.warning
        if role == Qt.ItemDataRole.AccessibleDescriptionRole and problem:
            return problem
        return None

    def setData(self, index: _Index, value, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        text = str(value)
        if self._rows[index.row()][index.column()] == text:
            return False
        self._rows[index.row()][index.column()] = text
        # A name change can make another row a duplicate (or no longer one).
        self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 1))
        return True

    # --- our API --------------------------------------------------------------------------
    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple((name, value) for name, value in self._rows if name or value)

    def set_pairs(self, pairs: tuple[tuple[str, str], ...] | list[tuple[str, str]]) -> None:
        self.beginResetModel()
        self._rows = [[name, value] for name, value in pairs]
        self.endResetModel()

    def append_row(self, name: str = "", value: str = "") -> int:
        row = len(self._rows)
        self.beginInsertRows(QModelIndex(), row, row)
        self._rows.append([name, value])
        self.endInsertRows()
        return row

    def remove_rows(self, rows: list[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            if 0 <= row < len(self._rows):
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._rows[row]
                self.endRemoveRows()
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 1))

    def row_problem(self, row: int) -> str | None:
        name, value = self._rows[row]
        if not name and not value:
            return None
        problem = name_problem(name)
        if problem:
            return problem
        if any(other[0] == name for other in self._rows[:row]):
            return f"{name!r} is given twice"
        return None

    def problems(self) -> list[str]:
        out = []
        for row in range(len(self._rows)):
            problem = self.row_problem(row)
            if problem:
                out.append(f"environment row {row + 1}: {problem}")
        return out


class EnvTable(QWidget):
    """The table plus its add/remove buttons. Emits `changed` after every edit."""

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.model = EnvModel(self)
        self.view = QTableView(self)
        self.view.setObjectName("envTable")
        self.view.setAccessibleName("envTable")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.view.setTabKeyNavigation(False)  # Tab leaves the table; arrows move inside it
        self.view.verticalHeader().setVisible(False)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # Value stretches
        self.view.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.resizeSection(0, 160)
        rows_height = self.view.verticalHeader().defaultSectionSize()
        self.view.setMinimumHeight(rows_height * 2 + header.sizeHint().height() + 4)
        self.view.setMaximumHeight(rows_height * 4 + header.sizeHint().height() + 4)
        self.view.setToolTip("Variables set for the job's process, on top of Jobdesk's own environment")

        self.add_button = QToolButton(self)
        self.add_button.setObjectName("envAddButton")
        self.add_button.setAccessibleName("envAddButton")
        self.add_button.setText("Add")
        self.add_button.setToolTip("Add a variable")
        self.remove_button = QToolButton(self)
        self.remove_button.setObjectName("envRemoveButton")
        self.remove_button.setAccessibleName("envRemoveButton")
        self.remove_button.setText("Remove")
        self.remove_button.setToolTip("Remove the selected variables")
        self.remove_button.setEnabled(False)

        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

        self.add_button.clicked.connect(self.add_row)
        self.remove_button.clicked.connect(self.remove_selected)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        for signal in (self.model.dataChanged, self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset):
            signal.connect(self._model_changed)

    def pairs(self) -> tuple[tuple[str, str], ...]:
        return self.model.pairs()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.model.warning = warning_color(self.palette())
        super().changeEvent(event)

    def set_pairs(self, pairs) -> None:
        self.model.set_pairs(pairs)

    def problems(self) -> list[str]:
        return self.model.problems()

    def add_row(self) -> None:
        row = self.model.append_row()
        index = self.model.index(row, 0)
        self.view.setCurrentIndex(index)
        self.view.edit(index)

    def remove_selected(self) -> None:
        rows = [index.row() for index in self.view.selectionModel().selectedRows()]
        if not rows and self.view.currentIndex().isValid():
            rows = [self.view.currentIndex().row()]
        self.model.remove_rows(rows)

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self.view.selectionModel().hasSelection())

    def _model_changed(self) -> None:
        problems = self.problems()
        set_invalid(self.view, "\n".join(problems) if problems else None)
        self.changed.emit()
