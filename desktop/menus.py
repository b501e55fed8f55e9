"""Where the window's actions sit: the Job, View and Help menus, the toolbar, the jobs table's
context menu. The actions themselves (and when they are enabled) are `desktop.actions`'.

Window-level commands (show a tab, open the data folder, About) are passed in as the window's
own slots, so this module does not import the window.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QTableView, QToolBar, QWidget

from desktop.actions import JobActions
from desktop.icons import icon
from jobs.paths import DataDir

TAB_KEYS = (("Jobs", "Ctrl+1"), ("Upcoming", "Ctrl+2"), ("Timeline", "Ctrl+3"), ("History", "Ctrl+4"))


def build_menus(window: QMainWindow, a: JobActions, *, show_tab_action: Callable[[], None],
                open_data_folder: Callable[[], None], show_about: Callable[[], None]) -> None:  # fmt: skip
    """The Job, View and Help menus of `window`. `show_tab_action` is a slot that shows the tab
    whose index is the sending action's data."""
    bar = window.menuBar()
    job = bar.addMenu("&Job")
    job.setObjectName("jobMenu")
    for item in (a.new, a.edit, a.duplicate, a.delete, None, a.run_now, a.stop, a.pause, a.resume, a.run_again, a.show_stats, None,
                 a.pause_all, a.resume_all, None, a.import_, a.export, None, a.settings, None, a.quit):  # fmt: skip
        job.addSeparator() if item is None else job.addAction(item)
    view = bar.addMenu("&View")
    view.setObjectName("viewMenu")
    view.addAction(a.find)
    view.addSeparator()
    for index, (name, key) in enumerate(TAB_KEYS):
        action = view.addAction(name)
        action.setObjectName(f"show{name}Action")
        action.setShortcut(QKeySequence(key))
        action.setData(index)
        action.triggered.connect(show_tab_action)
    help_menu = bar.addMenu("&Help")
    help_menu.setObjectName("helpMenu")
    folder = help_menu.addAction(icon("folder"), "Open data folder")
    folder.setObjectName("openDataFolderAction")
    folder.triggered.connect(open_data_folder)
    about = help_menu.addAction("About Jobdesk")
    about.setObjectName("aboutAction")
    about.setMenuRole(QAction.MenuRole.AboutRole)
    about.triggered.connect(show_about)
    for action in (a.find, *view.actions()):
        window.addAction(action)  # shortcuts work with the menu bar hidden too


class FittingToolBar(QToolBar):
    """A toolbar that shows its buttons' text only when all of it fits: below that width
    (~930 px here) it shows icons only, so no button hides behind an overflow chevron. Each
    button keeps its name as tooltip and accessible name."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._full_width = 0  # the width with text beside the icons, measured while shown so

    @property
    def icons_only(self) -> bool:
        return self.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit(event.size().width())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._full_width = 0  # measure again, with text
            self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        super().changeEvent(event)

    def fit(self, width: int) -> None:
        if not self.icons_only:
            self._full_width = self.sizeHint().width()
        wanted = (Qt.ToolButtonStyle.ToolButtonIconOnly if self._full_width > width
                  else Qt.ToolButtonStyle.ToolButtonTextBesideIcon)  # fmt: skip
        if wanted != self.toolButtonStyle():
            self.setToolButtonStyle(wanted)


def build_toolbar(window: QMainWindow, a: JobActions) -> QToolBar:
    bar = FittingToolBar("Main toolbar", window)
    bar.setObjectName("mainToolbar")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for item in (a.new, a.edit, a.delete, None, a.run_now, a.pause, a.resume, None, a.pause_all, a.resume_all,
                 None, a.import_, a.export):  # fmt: skip
        bar.addSeparator() if item is None else bar.addAction(item)
    window.addToolBar(bar)
    return bar


def show_jobs_context_menu(table: QTableView, a: JobActions, pos: QPoint) -> QMenu:
    """The jobs table's context menu at `pos` (viewport coordinates): the job's actions over a
    row, New and Import elsewhere. Returns the (already shown) menu."""
    menu = QMenu(table)
    menu.setObjectName("jobsContextMenu")
    if table.indexAt(pos).isValid():
        for item in (a.run_now, a.stop, None, a.edit, a.duplicate, a.pause, a.resume, a.run_again, None, a.delete,
                     a.show_history, a.show_stats):  # fmt: skip
            menu.addSeparator() if item is None else menu.addAction(item)
    else:
        menu.addAction(a.new)
        menu.addAction(a.import_)
    menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    menu.popup(table.viewport().mapToGlobal(pos))
    return menu


def show_about(parent: QWidget, data_dir: DataDir) -> None:
    """Help → About Jobdesk: the version and where the data lives."""
    from jobs import __version__

    QMessageBox.about(parent, "About Jobdesk",
                      f"<b>Jobdesk {__version__}</b><p>Schedule your own scripts, see what runs next, "
                      f"what ran and why it failed.</p><p>Data: {data_dir.root}</p>")  # fmt: skip
