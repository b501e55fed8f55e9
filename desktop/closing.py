"""What closing the window does.

With a real system tray the window hides to it (said once, by a tray message). Without one,
closing used to quit, and so stop scheduling, without a word. Now the first close asks:

- "Stop scheduling": Jobdesk quits; jobs do not run until it starts again;
- "Keep running in the background": the window hides and this same process keeps scheduling.

The answer is remembered in QSettings (`CLOSE_KEY`) and can be changed in the Settings dialog.

Why "background" keeps this process instead of handing over to a detached `jobdesk serve`:
nothing stops, so there is no gap in scheduling and runs in progress go on (a handover would
kill their process trees when the window shuts down); the instance lock never changes hands;
command-line calls keep reaching the same instance over its socket; and starting `jobdesk`
again brings this window back through the usual "activate" request, whereas with `serve`
holding the lock the window would refuse to open. The price is the window's memory while
hidden (about 130 MiB against `serve`'s ~60 MiB).
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.style import ui_settings

CLOSE_KEY = "window/closeWithoutTray"
ASK, STOP, BACKGROUND = "ask", "stop", "background"
TRAY, CANCEL = "tray", "cancel"
CHOICES = {
    ASK: "Ask (once)",
    STOP: "Stop scheduling and quit",
    BACKGROUND: "Keep running in the background",
}
QUESTION = "Stop scheduling?"
STOP_TEXT = "Stop scheduling"
BACKGROUND_TEXT = "Keep running in the background"


def close_choice() -> str:
    """The remembered answer (ASK when there is none)."""
    value = ui_settings().value(CLOSE_KEY, ASK)
    return value if value in CHOICES else ASK


def remember_close_choice(choice: str) -> None:
    if choice not in CHOICES:
        raise ValueError(f"unknown close choice {choice!r}")
    settings = ui_settings()
    settings.setValue(CLOSE_KEY, choice)
    settings.sync()


def ask_close_choice(parent: QWidget) -> str | None:
    """Ask what closing should do: STOP, BACKGROUND, or None (cancelled)."""
    box = QMessageBox(QMessageBox.Icon.Question, "Close Jobdesk", QUESTION, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("closeQuestion")
    box.setInformativeText(
        "Jobs will not run until Jobdesk starts again.\n\n"
        "Or keep running in the background: jobs run as scheduled and starting Jobdesk again "
        "brings this window back.\n\nYour answer is remembered; change it in Job ▸ Settings."
    )
    stop = box.addButton(STOP_TEXT, QMessageBox.ButtonRole.DestructiveRole)
    background = box.addButton(BACKGROUND_TEXT, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(background)
    box.exec()
    clicked = box.clickedButton()
    return STOP if clicked is stop else BACKGROUND if clicked is background else None


def close_action(parent: QWidget, *, has_tray: bool) -> str:
    """TRAY (hide to the tray), BACKGROUND (hide, keep scheduling), STOP (quit) or CANCEL.

    Asks the first time when there is no tray, and remembers the answer."""
    if has_tray:
        return TRAY
    choice = close_choice()
    if choice == ASK:
        answer = ask_close_choice(parent)
        if answer is None:
            return CANCEL
        remember_close_choice(answer)
        choice = answer
    return choice
