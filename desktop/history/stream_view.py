"""`OutputView`: a run's output, with what came from stderr set apart from stdout.

Read-only, monospace, at most `MAX_LINES` lines; new text goes at the end. Text from stderr is
drawn in a red that reads on the palette (dark red on a light base, light red on a dark one)
and, so that it does not depend on seeing colours, every line with stderr text has a bar in the
left margin and the text says "Written to stderr" when the pointer rests on it.

The newest text can be provisional (`jobs`' sidecar of stderr ranges lags the log a little,
desktop.history.log_streams): `add(..., replace=True)` shows it again as the next read splits it.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFontDatabase, QHelpEvent, QPainter, QPaintEvent, QPalette, QResizeEvent, QTextBlock
from PySide6.QtGui import QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import QPlainTextEdit, QToolTip, QWidget

from desktop.formatting import is_dark

MAX_LINES = 5000
STDERR_TIP = "Written to stderr"
STDERR_LINE = 1  # QTextBlock user state: the line has stderr text
_STREAM_PROPERTY = QTextFormat.Property.UserProperty + 1
_MARGIN = 8  # px left of the text for the stderr bars
_STDERR_RGB = ("#b3261e", "#ff8a80")  # on a light base, on a dark base: contrast 6:1 or better

Piece = tuple[str, str]  # (stream, text)


def stderr_colour(palette: QPalette) -> QColor:
    light, dark = _STDERR_RGB
    return QColor(dark if is_dark(palette) else light)


class _StreamMargin(QWidget):
    """The strip left of the text: a bar beside every line that has stderr text."""

    def __init__(self, view: OutputView) -> None:
        super().__init__(view)
        self.setObjectName("runOutputStreamMargin")
        self._view = view
        self.setToolTip("A bar marks lines written to stderr")

    def sizeHint(self) -> QSize:
        return QSize(_MARGIN, 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        view = self._view
        painter = QPainter(self)
        painter.fillRect(event.rect(), view.palette().color(QPalette.ColorRole.Base))
        colour = stderr_colour(view.palette())
        block = view.firstVisibleBlock()
        offset = view.contentOffset()
        while block.isValid():
            geometry = view.blockBoundingGeometry(block).translated(offset)
            if geometry.top() > event.rect().bottom():
                break
            if block.isVisible() and block.userState() == STDERR_LINE:
                painter.fillRect(QRect(2, round(geometry.top()), 3, max(1, round(geometry.height()))), colour)
            block = block.next()
        painter.end()


class OutputView(QPlainTextEdit):
    """Read-only, monospace, at most MAX_LINES lines; stderr set apart (see the module)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("runOutput")
        self.setAccessibleName("Run output")
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setMaximumBlockCount(MAX_LINES)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self._provisional = 0  # characters at the end that the next `add` replaces
        self._formats: dict[str, QTextCharFormat] = {}
        self.margin = _StreamMargin(self)
        self.setViewportMargins(_MARGIN, 0, 0, 0)
        self.updateRequest.connect(self._scroll_margin)
        self._make_formats()

    # --- text ------------------------------------------------------------------------------

    def set_content(self, text: str) -> None:
        """Plain text (stdout), replacing everything."""
        self.set_pieces([("stdout", text)] if text else [])

    def set_pieces(self, pieces: Iterable[Piece], provisional: int = 0) -> None:
        """Replace everything with `pieces`, whose last `provisional` characters may change."""
        self.setPlainText("")
        self._provisional = 0
        self.add(pieces, provisional)
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.ensureCursorVisible()

    def append_text(self, text: str, stream: str = "stdout") -> None:
        """Add `text` (not necessarily whole lines) at the end."""
        self.add([(stream, text)])

    def add(self, pieces: Iterable[Piece], provisional: int | None = None, *, replace: bool = False) -> None:
        """Add `pieces` at the end, first dropping the provisional end shown when `replace`;
        afterwards the last `provisional` characters are the provisional end (None: nothing is).
        Follows the end if the view was at the end."""
        bar = self.verticalScrollBar()
        following = bar.value() >= bar.maximum() - 2
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if replace and self._provisional:
            cursor.movePosition(QTextCursor.MoveOperation.PreviousCharacter, QTextCursor.MoveMode.KeepAnchor,
                                min(self._provisional, cursor.position()))  # fmt: skip
            cursor.removeSelectedText()
            _refresh_line(cursor.block())
        self._insert(cursor, pieces)
        self._provisional = 0 if provisional is None else provisional
        if following:
            bar.setValue(bar.maximum())

    def _insert(self, cursor: QTextCursor, pieces: Iterable[Piece]) -> None:
        for stream, text in pieces:
            start = cursor.position()
            cursor.insertText(text, self._formats.get(stream, self._formats["stdout"]))
            if stream == "stderr" and cursor.position() > start:  # the lines it wrote on, not the next one
                first, last = self.document().findBlock(start), self.document().findBlock(cursor.position() - 1)
                # The first line may be one stdout wrote and stderr only ended ("50%" then "\nerror"):
                # it is a stderr line only if stderr text is on it.
                _refresh_line(first)
                block = first
                while block != last and (block := block.next()).isValid():
                    block.setUserState(STDERR_LINE)

    @property
    def line_cap_reached(self) -> bool:
        return self.document().blockCount() >= MAX_LINES

    def stderr_lines(self) -> list[str]:
        """Per line that has stderr text, that text (for tests and accessibility tools)."""
        lines = []
        block = self.document().firstBlock()
        while block.isValid():
            parts, iterator = [], block.begin()
            while not iterator.atEnd():
                fragment = iterator.fragment()
                if fragment.charFormat().property(_STREAM_PROPERTY) == "stderr":
                    parts.append(fragment.text())
                iterator += 1
            if parts:
                lines.append("".join(parts))
            block = block.next()
        return lines

    # --- looks -----------------------------------------------------------------------------

    def _make_formats(self) -> None:
        stdout = QTextCharFormat()
        stdout.setProperty(_STREAM_PROPERTY, "stdout")
        stdout.setForeground(self.palette().color(QPalette.ColorRole.Text))
        stderr = QTextCharFormat()
        stderr.setProperty(_STREAM_PROPERTY, "stderr")
        stderr.setForeground(stderr_colour(self.palette()))
        stderr.setToolTip(STDERR_TIP)
        self._formats = {"stdout": stdout, "stderr": stderr}

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._make_formats()  # text already shown is recoloured by its panel (it reloads)
            self.margin.update()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        rect = self.contentsRect()
        self.margin.setGeometry(QRect(rect.left(), rect.top(), _MARGIN, rect.height()))

    def _scroll_margin(self, rect: QRect, dy: int) -> None:
        if dy:
            self.margin.scroll(0, dy)
        else:
            self.margin.update(0, rect.y(), self.margin.width(), rect.height())

    def viewportEvent(self, event: QEvent) -> bool:
        """The pointer rests on the text (Qt sends tooltip events to the viewport)."""
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            self._tooltip_at(event.pos(), event.globalPos())
            return True
        return super().viewportEvent(event)

    def _tooltip_at(self, pos: QPoint, global_pos: QPoint) -> None:
        cursor = self.cursorForPosition(pos)
        if not cursor.atBlockEnd():  # the character right of the pointer
            cursor.movePosition(QTextCursor.MoveOperation.NextCharacter)
        on_text = pos.x() <= self.cursorRect(cursor).right() + self.fontMetrics().averageCharWidth()
        if on_text and cursor.charFormat().property(_STREAM_PROPERTY) == "stderr":
            QToolTip.showText(global_pos, STDERR_TIP, self.viewport())
        else:
            QToolTip.hideText()


def _refresh_line(block: QTextBlock) -> None:
    """Mark `block` by what is left in it after its end was removed."""
    iterator = block.begin()
    while not iterator.atEnd():
        if iterator.fragment().charFormat().property(_STREAM_PROPERTY) == "stderr":
            block.setUserState(STDERR_LINE)
            return
        iterator += 1
    block.setUserState(-1)
