"""The editor's document: which file it shows, whether that is a lesson's file or a free one,
and opening, saving and asking before unsaved work is dropped.

A lesson's file is saved by the lesson controller (autosave); a free file by File ▸ Save.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from app.core.atomic import atomic_write_text
from app.core.filetypes import UnsuitableFileError, language_for_path, read_source_file
from app.ui.common.view import View
from app.ui.editor.widget import CodeEditor

SOURCE_FILTER = (
    "Source files (*.py *.cpp *.cc *.h *.hpp *.c *.java *.js *.mjs *.ts *.php *.cs *.sh);;"
    "All files (*)"
)


class DocumentController(QObject):
    """Owns the editor's path and lesson-or-free state and the file commands."""

    sig_title_changed = Signal(str)
    """(title): the window title for the document ("*main.py — Code Tutor")."""
    sig_free_file_opened = Signal(str)
    """(file name): the editor is about to show a file that is not a lesson's (new or
    opened); emitted while `path` is still the old one, so a lesson file can be saved."""
    sig_lesson_save_requested = Signal()
    """Write the lesson file now (lesson files are saved automatically, never asked about)."""

    def __init__(self, editor: CodeEditor, view: View, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self._view = view
        self.path: Path | None = None
        self.lesson_mode = False
        self.save_problem = ""
        """Why the lesson file cannot be saved now ("" while it can)."""
        self.last_folder = Path.home()
        """Where File ▸ Open and Save As start: the learner's home, then the last folder used."""
        editor.sig_modification_changed.connect(self._update_title)

    @property
    def title(self) -> str:
        """The window title."""
        name = self.path.name if self.path else "untitled"
        star = "*" if self.editor.is_modified() else ""
        return f"{star}{name} — Code Tutor"

    @Slot()
    def new_file(self) -> None:
        """Start an empty Python file (after offering to save changes)."""
        if not self.maybe_save():
            return
        self._show(None, "python", "", lesson=False)

    def open_path(self, path: str | Path) -> bool:
        """Open `path` in the editor. Returns False (with a message) when it cannot."""
        p = Path(path)
        try:
            text = read_source_file(p)
        except UnsuitableFileError as exc:
            self._view.warn("Cannot open file", str(exc))
            return False
        self._show(p, language_for_path(p), text, lesson=False)
        return True

    def load_lesson_file(self, path: Path, language: str) -> bool:
        """Show a lesson's file (autosaved by the lesson controller)."""
        if not self.lesson_mode and not self.maybe_save():
            return False
        try:
            text = read_source_file(path)
        except UnsuitableFileError as exc:
            self._view.warn("Cannot open lesson file", str(exc))
            return False
        self._show(Path(path), language, text, lesson=True)
        return True

    def _show(self, path: Path | None, language: str, text: str, lesson: bool) -> None:
        self.lesson_mode = lesson
        if not lesson:
            self.sig_free_file_opened.emit(path.name if path else "untitled.py")
        self.path = path
        self.editor.clear_errors()
        self.editor.set_language(language)
        self.editor.set_text(text)
        self._update_title()

    @Slot()
    def open_file_dialog(self) -> None:
        """Ask for a file and open it."""
        if not self.maybe_save():
            return
        path = self._view.choose_open_file("Open file", SOURCE_FILTER, str(self.last_folder))
        if path is not None and self.open_path(path):
            self.last_folder = path.parent

    def save_to(self, path: str | Path) -> bool:
        """Write the editor's text to `path` atomically. False (with a message) on failure;
        the text stays in the editor either way."""
        p = Path(path)
        try:
            atomic_write_text(p, self.editor.text())
        except OSError as exc:
            self._view.warn(
                "Cannot save file",
                f"Could not save “{p}”: {exc.strerror or exc}.\n\nYour code is still in the "
                "editor. Use File ▸ Save As… to save it somewhere you may write, such as your "
                "home folder.",
            )
            return False
        language = language_for_path(p)
        self.path = p
        if language != self.editor.language:
            self.editor.set_language(language)
        self.editor.mark_saved()
        self._update_title()
        self._view.show_status(f"Saved {p.name}", 3000)
        return True

    @Slot()
    def save(self) -> bool:
        """Save to the current file, or ask for a name."""
        if self.path is None:
            return self.save_as_dialog()
        return self.save_to(self.path)

    @Slot()
    def save_as_dialog(self) -> bool:
        """Ask for a file name and save there."""
        if self.path is not None and not self.lesson_mode:
            start = self.path
        else:  # a lesson's file lives in Code Tutor's own folders: start where the learner works
            start = self.last_folder / (self.path.name if self.path else "untitled.py")
        path = self._view.choose_save_file("Save as", str(start), SOURCE_FILTER)
        if path is None or not self.save_to(path):
            return False
        self.last_folder = path.parent
        return True

    def maybe_save(self) -> bool:
        """Offer to save unsaved changes. False when the learner cancels."""
        if self.lesson_mode:
            self.sig_lesson_save_requested.emit()
            if not self.editor.is_modified():
                return True
            return self._save_discard_or_cancel(  # the lesson file could not be written
                "Your code is not saved",
                f"{self.save_problem}\n\nClose anyway? Your latest changes would be lost. "
                "Choose Save to put them in another file first.",
                self.save_as_dialog,
            )
        if not self.editor.is_modified():
            return True
        return self._save_discard_or_cancel(
            "Unsaved changes",
            f"Save your changes to {self.path.name if self.path else 'this new file'}?",
            self.save,
        )

    def _save_discard_or_cancel(self, title: str, text: str, save: object) -> bool:
        """Ask Save / Discard / Cancel; True when the learner may go on (saved or discarded)."""
        answer = self._view.ask_save_discard_cancel(title, text)
        if answer == "save":
            return bool(save())  # type: ignore[operator]
        return answer == "discard"

    @Slot()
    def _update_title(self, *_: object) -> None:
        self.sig_title_changed.emit(self.title)
