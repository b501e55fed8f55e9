"""The wake-up digest card's rows: one per job, its name over its missed slots, then three buttons.

A model and a view, not a grid of widgets: a start after Jobdesk was closed a while at 10,000
jobs has ~100 jobs in the digest, and their ~600 labels and buttons took 54-200 ms of the GUI
thread to show, polish and lay out (issue 10). A view paints only the rows in sight, whatever
the number of jobs, and a new digest of other jobs is one model reset.

The buttons are drawn by the style as push buttons (`QStyle.CE_PushButton`) and act on a click
or, with the keyboard, on Space or Enter on the current cell (arrows move between cells).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPalette
from PySide6.QtWidgets import (QAbstractItemView, QFrame, QHeaderView, QStyle, QStyledItemDelegate, QStyleOptionButton,
                               QStyleOptionViewItem, QTableView, QWidget)  # fmt: skip

from jobs import digest_store as store
from jobs.digest_store import DigestEntry, MissedSlot

TOOLTIP_SLOTS = 12  # the newest missed slots a row's tooltip lists
CHOICES = ("run-latest", "run-all", "skip")  # columns 1, 2, 3 (column 0: the job)
LABELS = {"run-latest": "Run latest", "run-all": "Run all missed", "skip": "Skip"}
SLOTS_ROLE = Qt.ItemDataRole.UserRole + 1  # column 0: "4 missed, 07:15 to 09:30"
CELL_GAP = 5  # pixels left and right of a button within its cell
ROW_GAP = 4  # pixels between rows
ActiveIndex = QModelIndex | QPersistentModelIndex


class DigestRowsModel(QAbstractTableModel):
    """The digest's entries, one row each; a button cell is enabled when its choice makes sense
    for the entry and no choice of that job is being carried out."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[DigestEntry] = []
        self._busy: set[str] = set()

    def set_entries(self, entries: list[DigestEntry]) -> None:
        """Show `entries`: the same jobs in the same order update the rows that changed (a
        catch-up reloads the digest every few hundred ms), any other list resets the rows."""
        if [entry.job_id for entry in entries] != [entry.job_id for entry in self.entries]:
            self.beginResetModel()
            self.entries = list(entries)
            self.endResetModel()
            return
        for row, (old, new) in enumerate(zip(self.entries, entries)):
            if old != new:
                self.entries[row] = new
                self.dataChanged.emit(self.index(row, 0), self.index(row, len(CHOICES)))

    def is_busy(self, job_id: str) -> bool:
        return job_id in self._busy

    def set_busy(self, job_id: str, busy: bool) -> None:
        (self._busy.add if busy else self._busy.discard)(job_id)
        row = self.row_of(job_id)
        if row is not None:
            self.dataChanged.emit(self.index(row, 1), self.index(row, len(CHOICES)))

    def row_of(self, job_id: str) -> int | None:
        return next((row for row, entry in enumerate(self.entries) if entry.job_id == job_id), None)

    def choice_index(self, job_id: str, choice: str) -> QModelIndex:
        """The button cell of `choice` in the job's row (invalid if the job has no row)."""
        row = self.row_of(job_id)
        return QModelIndex() if row is None else self.index(row, 1 + CHOICES.index(choice))

    def choice_at(self, index: ActiveIndex) -> tuple[str, str] | None:
        """(job id, choice) of a button cell; None for the job's own cell."""
        if not index.isValid() or index.column() == 0:
            return None
        return self.entries[index.row()].job_id, CHOICES[index.column() - 1]

    def rowCount(self, parent: ActiveIndex = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: ActiveIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 1 + len(CHOICES)

    def flags(self, index: ActiveIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        entry = self.entries[index.row()]
        if index.column() == 0:
            return Qt.ItemFlag.ItemIsEnabled
        _label, enabled, _tip = choice_state(entry, CHOICES[index.column() - 1])
        return Qt.ItemFlag.ItemIsEnabled if enabled and entry.job_id not in self._busy else Qt.ItemFlag.NoItemFlags

    def data(self, index: ActiveIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        if index.column() == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return entry.job_name
            if role == SLOTS_ROLE:
                return store.slot_words(entry)
            if role == Qt.ItemDataRole.ToolTipRole:
                return slots_tooltip(entry)
            if role == Qt.ItemDataRole.AccessibleTextRole:
                return f"{entry.job_name}: {store.slot_words(entry)}"
            return None
        label, _enabled, tip = choice_state(entry, CHOICES[index.column() - 1])
        if role == Qt.ItemDataRole.DisplayRole:
            return label
        if role == Qt.ItemDataRole.ToolTipRole:
            return tip
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{label}: {entry.job_name}"
        return None


class _ButtonCells(QStyledItemDelegate):
    """Paints column 0 as two elided lines and the other columns as push buttons; a click (or
    Space/Enter) on an enabled button emits `chosen(job id, choice)`."""

    chosen = Signal(str, str)

    def __init__(self, view: QTableView) -> None:
        super().__init__(view)
        self._view = view
        self._pressed: QPersistentModelIndex | None = None

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ActiveIndex) -> None:
        rect = QRect(option.rect)
        palette = QPalette(option.palette)
        if index.column() == 0:
            metrics = option.fontMetrics
            width, line = rect.width() - 2, metrics.lineSpacing()
            top = rect.top() + (rect.height() - 2 * line) // 2
            painter.save()
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            name = metrics.elidedText(str(index.data()), Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRect(rect.left(), top, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            slots = metrics.elidedText(str(index.data(SLOTS_ROLE)), Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRect(rect.left(), top + line, width, line), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, slots)
            painter.restore()
            return
        button = self._button_option(option, index)
        self._view.style().drawControl(QStyle.ControlElement.CE_PushButton, button, painter, self._view)

    def _button_option(self, option: QStyleOptionViewItem, index: ActiveIndex) -> QStyleOptionButton:
        state = option.state
        enabled = bool(index.flags() & Qt.ItemFlag.ItemIsEnabled)
        button = QStyleOptionButton()
        button.initFrom(self._view)
        button.rect = _button_rect(option.rect, self._view)
        button.text = str(index.data())
        button.state = QStyle.StateFlag.State_Raised
        if enabled:
            button.state |= QStyle.StateFlag.State_Enabled
            if state & QStyle.StateFlag.State_MouseOver:
                button.state |= QStyle.StateFlag.State_MouseOver
            if self._pressed is not None and self._pressed == index:
                button.state |= QStyle.StateFlag.State_Sunken
        else:
            button.palette.setCurrentColorGroup(QPalette.ColorGroup.Disabled)
        if state & QStyle.StateFlag.State_HasFocus and self._view.hasFocus():
            button.state |= QStyle.StateFlag.State_HasFocus
        return button

    def sizeHint(self, option: QStyleOptionViewItem, index: ActiveIndex) -> QSize:
        if index.column() == 0:
            return QSize(0, 2 * option.fontMetrics.lineSpacing())
        return button_size(self._view, str(index.data()))

    def editorEvent(self, event: QEvent, model: Any, option: QStyleOptionViewItem, index: ActiveIndex) -> bool:
        if index.column() == 0:
            return False
        enabled = bool(index.flags() & Qt.ItemFlag.ItemIsEnabled)
        kind = event.type()
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            assert isinstance(event, QMouseEvent)
            if event.button() == Qt.MouseButton.LeftButton and enabled:
                self._pressed = QPersistentModelIndex(index)
                self._view.viewport().update(option.rect)
            return True
        if kind == QEvent.Type.MouseButtonRelease:
            assert isinstance(event, QMouseEvent)
            was, self._pressed = self._pressed, None
            if was is not None:
                self._view.viewport().update()  # the pressed look goes (a few rows: cheap)
            inside = _button_rect(option.rect, self._view).contains(event.position().toPoint())
            if was == index and inside:
                self.press(index)
            return True
        if kind == QEvent.Type.KeyPress:  # Space (the view sends it here; Enter: DigestRowsView)
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Select):
                self.press(index)
                return True
        return False

    def release(self) -> None:
        if self._pressed is not None:
            self._pressed = None
            self._view.viewport().update()

    def press(self, index: ActiveIndex) -> None:
        """What a click on the button cell `index` does (nothing if it is off)."""
        model = index.model()
        if index.flags() & Qt.ItemFlag.ItemIsEnabled and isinstance(model, DigestRowsModel):
            picked = model.choice_at(index)
            if picked is not None:
                self.chosen.emit(*picked)


class DigestRowsView(QTableView):
    """The rows, without headers, grid or selection, on the card's own background."""

    def __init__(self, model: DigestRowsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.cells = _ButtonCells(self)
        model.modelReset.connect(self.cells.release)
        self.setItemDelegate(self.cells)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setShowGrid(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setMouseTracking(True)  # the button under the mouse is drawn hovered
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setTabKeyNavigation(False)  # Tab leaves the rows; arrows move between cells
        self.viewport().setAutoFillBackground(False)  # the card's background shows through
        self.horizontalHeader().hide()
        self.verticalHeader().hide()
        rows = self.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # one height for all: nothing is measured per row
        rows.setDefaultSectionSize(self.row_height())
        columns = self.horizontalHeader()
        columns.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)  # the name takes what the buttons leave
        for column, choice in enumerate(CHOICES, start=1):
            columns.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            columns.resizeSection(column, button_size(self, LABELS[choice]).width() + 2 * CELL_GAP)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        self.cells.release()  # released away from the button pressed: it is not drawn pressed any more

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter on a button presses it, as on a QPushButton (the view itself only emits
        # `activated` for it, which some styles also emit for a single click).
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().column() > 0:
            self.cells.press(self.currentIndex())
            return
        super().keyPressEvent(event)

    def row_height(self) -> int:
        return max(button_size(self, LABELS["skip"]).height(), 2 * self.fontMetrics().lineSpacing()) + ROW_GAP


def button_size(widget: QWidget, label: str) -> QSize:
    """What the style makes of a push button showing `label` (as QPushButton.sizeHint does)."""
    option = QStyleOptionButton()
    option.initFrom(widget)
    option.text = label
    text = widget.fontMetrics().size(Qt.TextFlag.TextShowMnemonic, label)
    size = widget.style().sizeFromContents(QStyle.ContentsType.CT_PushButton, option, text, widget)
    return size.expandedTo(QSize(80, 0))  # QPushButton's own minimum width for a text button


def _button_rect(cell: QRect, view: QWidget) -> QRect:
    """The button within its cell: full width less the gaps, its natural height, centred."""
    height = button_size(view, LABELS["skip"]).height()
    inner = cell.adjusted(CELL_GAP, 0, -CELL_GAP, 0)
    return QRect(inner.left(), inner.top() + (inner.height() - height) // 2, inner.width(), height)


def choice_state(entry: DigestEntry, choice: str) -> tuple[str, bool, str]:
    """(label, enabled, tooltip) of `choice`'s button for `entry`."""
    if choice == "run-latest":
        if entry.ran_later is not None:
            tip = f"A later slot already ran (run #{entry.ran_later}): running an older one now adds nothing"
        elif not entry.runnable_count:
            tip = "These runs are summed up in one row; they cannot be run one by one"
        else:
            tip = f"Run the job once for its latest missed slot ({entry.last().astimezone():%a %H:%M})"
        return LABELS[choice], entry.can_run_latest, tip
    if choice == "run-all":
        runnable = entry.runnable_count
        return (LABELS[choice], runnable > 0,
                f"Run the job once for each of its {runnable} missed slots, one after another")  # fmt: skip
    return LABELS[choice], True, "Leave them missed; history says you skipped them"


def slots_tooltip(entry: DigestEntry) -> str:
    """The job's name over its newest missed slots and why each was missed (a week away from an
    every-minute job is 10,000 slots: listing them all froze the window ~300 ms per reload)."""
    newest: tuple[MissedSlot, ...] = entry.slots[-TOOLTIP_SLOTS:]
    lines = [f"{slot.scheduled_at.astimezone():%a %d %b %H:%M}: {slot.reason}" for slot in newest]
    earlier = [f"… and {entry.rows - len(newest):,} earlier"] if entry.rows > len(newest) else []
    return "\n".join([entry.job_name, *earlier, *lines])
