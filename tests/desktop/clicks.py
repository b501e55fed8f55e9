"""Mouse helpers for window tests: click a table row, open a context menu as a right-click does.

QTest's right click selects the row but (offscreen) no platform turns it into a context-menu
event; `open_context_menu` sends the QContextMenuEvent the platform would send.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMenu, QTableView


def shown_table(qtbot, model: QAbstractItemModel) -> QTableView:
    """A shown table over `model` that selects one whole row, as the Jobs table does."""
    view = QTableView()
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setModel(model)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    return view


def row_point(view: QAbstractItemView, index: QModelIndex) -> QPoint:
    return view.visualRect(index).center()


def click_index(qtbot, view: QAbstractItemView, index: QModelIndex, button=Qt.MouseButton.LeftButton) -> None:
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), button, pos=row_point(view, index))


def open_context_menu(qtbot, view: QAbstractItemView, index: QModelIndex, name: str) -> QMenu:
    """Right-click `index` and return the context menu called `name` that opened."""
    click_index(qtbot, view, index, Qt.MouseButton.RightButton)
    pos = row_point(view, index)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    menus = [m for m in QApplication.topLevelWidgets() if isinstance(m, QMenu) and m.objectName() == name and m.isVisible()]
    assert menus, f"no context menu {name!r} opened"
    return menus[-1]


def menu_entries(menu: QMenu) -> dict[str, object]:
    """Visible entries of `menu` by text without mnemonics."""
    return {action.text().replace("&", ""): action for action in menu.actions() if action.text() and action.isVisible()}
