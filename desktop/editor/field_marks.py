"""Marks for invalid fields and the colours of problem and note lines, derived from the palette.

Qt's palette has no "warning" role, so the warning colour is picked by the lightness of the
window colour: a deep red on light palettes, a soft red on dark ones (both keep a contrast of
at least 4.5:1 with the window colour). An invalid field gets the dynamic property
`invalid=true` and a red frame drawn by a small overlay child. Not a style sheet: a style
sheet on the dialog makes Qt ignore a palette set on the dialog (dark mode turns light).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QWidget

_BASE_TOOLTIP = "jobdeskBaseToolTip"
INVALID_PROPERTY = "invalid"


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def warning_color(palette: QPalette) -> QColor:
    """Red that reads well on the palette's window and base colours."""
    return QColor("#ff8a80") if is_dark(palette) else QColor("#b3261e")


def caution_color(palette: QPalette) -> QColor:
    """Amber for things that do not block saving (a missing working folder)."""
    return QColor("#ffcc66") if is_dark(palette) else QColor("#8a5300")


def note_color(palette: QPalette) -> QColor:
    """Ordinary text colour for neutral hints and DST notes."""
    return palette.color(QPalette.ColorRole.WindowText)


class InvalidFrame(QWidget):
    """A frame in the warning colour over its parent; follows the parent's size, takes no input."""

    def __init__(self, target: QWidget) -> None:
        super().__init__(target)
        self.setObjectName("invalidFrame")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(target.rect())
        target.installEventFilter(self)
        self._target = target

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._target and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._target.rect())
            self.raise_()
        return False

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(warning_color(self.palette()), 2))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 3, 3)
        painter.end()


def set_invalid(widget: QWidget, message: str | None) -> None:
    """Mark `widget` invalid with `message` as its tooltip, or clear the mark when None."""
    if widget.property(_BASE_TOOLTIP) is None:
        widget.setProperty(_BASE_TOOLTIP, widget.toolTip())
    invalid = message is not None
    widget.setProperty(INVALID_PROPERTY, invalid)
    frame = widget.findChild(InvalidFrame, options=Qt.FindChildOption.FindDirectChildrenOnly)
    if invalid and frame is None:
        frame = InvalidFrame(widget)
    if frame is not None:
        frame.setVisible(invalid)
        if invalid:
            frame.raise_()
    base = str(widget.property(_BASE_TOOLTIP) or "")
    widget.setToolTip(message if message is not None else base)


def is_marked(widget: QWidget) -> bool:
    return bool(widget.property(INVALID_PROPERTY))


def lines_html(lines: list[tuple[str, str]], palette: QPalette) -> str:
    """Rich text for message lines; each line is (kind, text) with kind error, hint, caution or note."""
    colours = {
        "error": warning_color(palette),
        "caution": caution_color(palette),
        "hint": note_color(palette),
        "note": note_color(palette),
    }
    marks = {"error": "\u26a0", "caution": "\u26a0", "hint": "\u2192", "note": "\u2139"}
    rows = []
    for kind, text in lines:
        colour = colours[kind].name()
        rows.append(f'<span style="color:{colour}">{marks[kind]}&nbsp;{html.escape(text, quote=False)}</span>')
    return "<br>".join(rows)
