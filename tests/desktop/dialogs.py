"""Answering a modal dialog the way a person does: wait for it to show, click one of its buttons.

`answer_next_dialog` arms a timer before the call that opens the dialog (the call blocks in the
dialog's own event loop until a button is clicked) and records what the dialog said.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox


class DialogAnswer:
    def __init__(self, qtbot, button_text: str) -> None:
        self.qtbot = qtbot
        self.button_text = button_text
        self.texts: list[str] = []  # text + informative text of each dialog answered
        self._timer = QTimer(interval=20)
        self._timer.timeout.connect(self._look)
        self._timer.start()

    def _look(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or not box.isVisible():
            return
        self._timer.stop()
        self.texts.append(f"{box.text()}\n{box.informativeText()}")
        buttons = [b for b in box.findChildren(QAbstractButton) if b.text().replace("&", "") == self.button_text]
        assert buttons, f"no button {self.button_text!r} in {[b.text() for b in box.findChildren(QAbstractButton)]}"
        self.qtbot.mouseClick(buttons[0], Qt.MouseButton.LeftButton)

    def stop(self) -> None:
        self._timer.stop()


def answer_next_dialog(qtbot, button_text: str) -> DialogAnswer:
    return DialogAnswer(qtbot, button_text)
