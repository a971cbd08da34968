"""A scripted View: controllers are tested with it instead of real dialogs."""

from __future__ import annotations

from pathlib import Path


class ScriptedView:
    """Answers the controller's questions from a script and records what it was told.

    Args:
        answers: what `ask_yes_no` / `ask_save_discard_cancel` return, in order.
        files: what the file and folder choosers return, in order (None: cancelled).
    """

    def __init__(self, answers: list | None = None, files: list[Path | None] | None = None):
        self.answers = list(answers or [])
        self.files = list(files or [])
        self.warnings: list[tuple[str, str]] = []
        self.questions: list[tuple[str, str]] = []
        self.statuses: list[str] = []
        self.starts: list[str] = []

    def warn(self, title: str, text: str) -> None:
        """Record the warning."""
        self.warnings.append((title, text))

    def ask_yes_no(self, title: str, text: str) -> bool:
        """The next scripted answer."""
        self.questions.append((title, text))
        return bool(self.answers.pop(0))

    def ask_save_discard_cancel(self, title: str, text: str) -> str:
        """The next scripted answer ("save", "discard" or "cancel")."""
        self.questions.append((title, text))
        return self.answers.pop(0)

    def _next_file(self) -> Path | None:
        return self.files.pop(0) if self.files else None

    def choose_folder(self, title: str) -> Path | None:
        """The next scripted path."""
        return self._next_file()

    def choose_open_file(self, title: str, filters: str, start: str = "") -> Path | None:
        """The next scripted path (`start` is recorded in `starts`)."""
        self.starts.append(start)
        return self._next_file()

    def choose_save_file(self, title: str, start: str, filters: str) -> Path | None:
        """The next scripted path (`start` is recorded in `starts`)."""
        self.starts.append(start)
        return self._next_file()

    def show_status(self, text: str, ms: int = 4000) -> None:
        """Record the status message."""
        self.statuses.append(text)
