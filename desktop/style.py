"""Look and feel: the light or dark palette that follows the system, and the QSettings for UI state.

Colours come from the palette everywhere (no hard-coded black or white text), so a dark palette
is all it takes to go dark. On platforms whose Qt theme does not switch the palette itself (the
plain Fusion style, some Linux desktops), `follow_color_scheme` applies our dark palette when
`QStyleHints.colorScheme()` says Dark, and follows later changes.

Window geometry, splitter positions and column widths live in QSettings (organisation and
application "Jobdesk"), never in the database: they belong to this desktop, not to the jobs.
"""

from __future__ import annotations

from typing import Mapping

from PySide6.QtCore import QByteArray, QObject, QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QHeaderView, QMainWindow, QSplitter, QTabWidget

ORGANISATION = "Jobdesk"
APPLICATION = "Jobdesk"

_DARK = {
    QPalette.ColorRole.Window: "#2b2b2b", QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1e1e1e", QPalette.ColorRole.AlternateBase: "#262626",
    QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#353535",
    QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Highlight: "#3d7ab8", QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.ToolTipBase: "#353535", QPalette.ColorRole.ToolTipText: "#e6e6e6",
    QPalette.ColorRole.PlaceholderText: "#8c8c8c", QPalette.ColorRole.Link: "#8ab4f8",
    QPalette.ColorRole.Light: "#505050", QPalette.ColorRole.Midlight: "#404040",
    QPalette.ColorRole.Mid: "#303030", QPalette.ColorRole.Dark: "#1a1a1a", QPalette.ColorRole.Shadow: "#000000",
}  # fmt: skip


def ui_settings() -> QSettings:
    """The QSettings for window state, in the default format (tests point it at a temp folder)."""
    return QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in _DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7f7f7f"))
    return palette


def light_palette() -> QPalette:
    """The style's own standard palette (light for Fusion)."""
    app = QApplication.instance()
    return app.style().standardPalette() if isinstance(app, QApplication) else QPalette()


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette if palette is not None else QGuiApplication.palette()
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def system_prefers_dark() -> bool | None:
    """True/False when the platform tells its colour scheme (Qt >= 6.5), else None."""
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is None:
        return None
    value = scheme()
    if value == Qt.ColorScheme.Dark:
        return True
    if value == Qt.ColorScheme.Light:
        return False
    return None


class SchemeFollower(QObject):
    """Keeps the application palette in line with the system's light/dark setting."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._ours = False  # the palette in place is one we set
        hints = app.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self.apply)
        self.apply()

    def apply(self, *_args: object) -> None:
        wants_dark = system_prefers_dark()
        if wants_dark and not is_dark(self._app.palette()):
            self._app.setPalette(dark_palette())  # the platform theme did not switch by itself
            self._ours = True
        elif wants_dark is False and self._ours:
            self._app.setPalette(light_palette())
            self._ours = False


def follow_color_scheme(app: QApplication) -> SchemeFollower:
    return SchemeFollower(app)


def save_window_state(window: QMainWindow, tabs: QTabWidget, targets: Mapping[str, QHeaderView | QSplitter]) -> None:
    """Geometry, toolbars, the current tab and each target's `saveState()` (headers, splitters)."""
    settings = ui_settings()
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState())
    settings.setValue("window/tab", tabs.currentIndex())
    for key, target in targets.items():
        settings.setValue(f"window/{key}", target.saveState())
    settings.sync()


def restore_window_state(window: QMainWindow, tabs: QTabWidget, targets: Mapping[str, QHeaderView | QSplitter]) -> None:
    settings = ui_settings()
    for key, restore in (("window/geometry", window.restoreGeometry), ("window/state", window.restoreState)):
        value = settings.value(key)
        if isinstance(value, QByteArray) and not value.isEmpty():
            restore(value)
    for key, target in targets.items():
        value = settings.value(f"window/{key}")
        if isinstance(value, QByteArray) and not value.isEmpty():
            target.restoreState(value)
    tab = settings.value("window/tab", 0, type=int)
    tabs.setCurrentIndex(tab if isinstance(tab, int) and 0 <= tab < tabs.count() else 0)
