"""The Jobs and Upcoming tab pages: their widgets and layout (the window wires them).

Jobs: the filter box, the jobs table and the detail strip under it. Upcoming: the table of the
next fire times, with a line saying why when it is empty.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtWidgets import QLineEdit, QTableView, QVBoxLayout, QWidget

from desktop.job_detail import JobDetailBar
from desktop.naming import named
from desktop.table_helpers import ViewportMessage, setup_table


class JobsPage(QWidget):
    def __init__(self, model: QAbstractItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobsPage")
        self.filter_edit = named(QLineEdit(self), "jobsFilter", "Filter jobs")
        self.filter_edit.setPlaceholderText("Filter by name or tag (Ctrl+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.table = named(QTableView(self), "jobsTable", "jobsTable")
        setup_table(self.table, sortable=True)
        self.table.setModel(model)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.detail = JobDetailBar(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)


class UpcomingPage(QWidget):
    def __init__(self, model: QAbstractItemModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("upcomingPage")
        self.table = named(QTableView(self), "upcomingTable", "upcomingTable")
        setup_table(self.table, sortable=False)
        self.table.setModel(model)
        self.empty = ViewportMessage(self.table, "upcomingEmpty")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.table)
