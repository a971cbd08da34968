"""The narrow view protocol controllers talk to (after Mu's `interface`): they ask the view
to warn, ask and choose, and never build dialogs themselves, so a controller can be tested
with a scripted view and without the whole app."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QWidget

Answer = Literal["save", "discard", "cancel"]


class View(Protocol):
    """What a controller may ask of the window."""

    def warn(self, title: str, text: str) -> None:
        """Tell the learner something went wrong (modal)."""
        ...

    def ask_yes_no(self, title: str, text: str) -> bool:
        """Ask a yes/no question; True for yes."""
        ...

    def ask_save_discard_cancel(self, title: str, text: str) -> Answer:
        """Ask what to do with unsaved work."""
        ...

    def choose_folder(self, title: str) -> Path | None:
        """Ask for a folder; None when the learner cancels."""
        ...

    def choose_open_file(self, title: str, filters: str, start: str = "") -> Path | None:
        """Ask for a file to open, starting in the folder `start`; None when cancelled."""
        ...

    def choose_save_file(self, title: str, start: str, filters: str) -> Path | None:
        """Ask for a file name to save to; None when the learner cancels."""
        ...

    def show_status(self, text: str, ms: int = 4000) -> None:
        """Show a passing message in the status bar."""
        ...


class QtView:
    """The View of a real window: Qt's dialogs and the window's status bar.

    A window may be its own view (`class MainWindow(QMainWindow, QtView)`): PySide6 calls
    this initializer without arguments then, and the view is the object itself.
    """

    def __init__(self, window: QWidget | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self._window: QWidget = window if window is not None else self  # type: ignore[assignment]

    def warn(self, title: str, text: str) -> None:
        """A warning box."""
        QMessageBox.warning(self._window, title, text)

    def ask_yes_no(self, title: str, text: str) -> bool:
        """A question box with Yes and No."""
        answer = QMessageBox.question(self._window, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def ask_save_discard_cancel(self, title: str, text: str) -> Answer:
        """A question box with Save, Discard and Cancel."""
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self._window, title, text, buttons.Save | buttons.Discard | buttons.Cancel
        )
        if answer == buttons.Save:
            return "save"
        return "discard" if answer == buttons.Discard else "cancel"

    def choose_folder(self, title: str) -> Path | None:
        """Qt's folder dialog."""
        folder = QFileDialog.getExistingDirectory(self._window, title)
        return Path(folder) if folder else None

    def choose_open_file(self, title: str, filters: str, start: str = "") -> Path | None:
        """Qt's open-file dialog."""
        name, _ = QFileDialog.getOpenFileName(self._window, title, start, filters)
        return Path(name) if name else None

    def choose_save_file(self, title: str, start: str, filters: str) -> Path | None:
        """Qt's save-file dialog."""
        name, _ = QFileDialog.getSaveFileName(self._window, title, start, filters)
        return Path(name) if name else None

    def show_status(self, text: str, ms: int = 4000) -> None:
        """The window's status bar, for `ms` milliseconds."""
        if isinstance(self._window, QMainWindow):
            self._window.statusBar().showMessage(text, ms)
