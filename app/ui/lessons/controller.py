"""Drives lessons: opening them, autosave, hints, reset, next/previous, progress and time.

Runs on the UI thread. The learner's code is on disk within about a second of the last
keystroke, in the lesson's workspace under the user data folder. Run and Check are the run
controller's (`app.ui.run.controller`); it reports check results here, to be recorded.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.core.filetypes import UnsuitableFileError, read_source_file, save_problem_words
from app.core.lessons import BrokenLesson, Lesson, load_courses
from app.core.lessons.progress import ProgressStore
from app.core.tutor.context import LessonBrief
from app.runner import sandbox
from app.runner.checks import CheckResult
from app.settings import Settings
from app.state import LAST_LESSON_KEY, SessionState
from app.ui.common.actions import ActionId
from app.ui.main_window import MainWindow
from app.ui.run.controller import RunController

AUTOSAVE_DELAY_MS = 1000  # after a pause in typing...
AUTOSAVE_MAX_DELAY_MS = 2000  # ...but never later than this after the first unsaved key
TIME_RECORD_MS = 30_000
EXTRA_DIRS_KEY = "lessons.extra_dirs"


class LessonController(QObject):
    """Connects the lesson browser, lesson panel, editor, output panel and runner."""

    sig_lesson_opened = Signal(object)
    """(Lesson | BrokenLesson): a lesson is now shown."""
    sig_tutor_hint_wanted = Signal()
    """Hint was pressed with no teacher's hint left (or outside a lesson): the tutor writes
    the next one."""
    sig_lesson_done = Signal(str)
    """(key): every check of the lesson passed."""
    sig_autosaved = Signal(str)
    """(path): the learner's file was written to disk."""

    def __init__(
        self,
        window: MainWindow,
        store: ProgressStore,
        settings: Settings,
        state: SessionState,
        roots: list[Path],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._window = window
        self._store = store
        self._settings = settings
        self._state = state
        self._state_problem: str | None = None
        self._roots = list(roots)
        extra = settings.get(EXTRA_DIRS_KEY) or []
        self._roots += [Path(p) for p in extra if Path(p) not in self._roots]
        self._lesson: Lesson | None = None
        self._opened_at = time.monotonic()
        self._save_problem = ""  # why the lesson file could not be saved, while it cannot
        self._document = window.document
        self._view = window
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_DELAY_MS)
        self._autosave.timeout.connect(self.save_now)
        self._autosave_deadline = QTimer(self)  # steady typing never pauses: save anyway
        self._autosave_deadline.setSingleShot(True)
        self._autosave_deadline.setInterval(AUTOSAVE_MAX_DELAY_MS)
        self._autosave_deadline.timeout.connect(self.save_now)
        self._clock = QTimer(self)  # time spent is recorded as it passes, so a crash loses little
        self._clock.setInterval(TIME_RECORD_MS)
        self._clock.timeout.connect(self._account_time)
        self._clock.start()

        w, actions = window, window.actions
        w.lesson_browser.sig_lesson_selected.connect(self.open_lesson)
        w.lesson_browser.sig_open_folder_requested.connect(self.open_folder_dialog)
        w.lesson_panel.sig_hint_requested.connect(self.show_next_hint)
        w.lesson_panel.sig_reset_requested.connect(self.reset_to_starter)
        w.lesson_panel.sig_next_requested.connect(lambda: self.go(1))
        w.lesson_panel.sig_previous_requested.connect(lambda: self.go(-1))
        actions.connect(ActionId.HINT, self.show_next_hint)
        actions.connect(ActionId.NEXT_LESSON, lambda: self.go(1))
        actions.connect(ActionId.PREVIOUS_LESSON, lambda: self.go(-1))
        actions.connect(ActionId.RESET_LESSON, self.reset_to_starter)
        actions.connect(ActionId.OPEN_LESSONS_FOLDER, self.open_folder_dialog)
        w.sig_closing.connect(self.shutdown)
        self._document.sig_free_file_opened.connect(self._on_document_free_file_opened)
        self._document.sig_lesson_save_requested.connect(self.save_now)
        w.editor.sig_text_changed.connect(self._on_editor_text_changed)
        self.run_controller: RunController | None = None
        """The run controller (set by the composition root): stopped and reset on a switch."""

    # -- courses --------------------------------------------------------------------------
    @property
    def lesson(self) -> Lesson | None:
        """The open lesson, or None in free editing."""
        return self._lesson

    @property
    def store(self) -> ProgressStore:
        """Progress and learner files."""
        return self._store

    def reload_courses(self) -> None:
        """Load every course folder again and refresh the browser."""
        courses = []
        seen: dict[str, Path] = {}
        for course in load_courses([r for r in self._roots if r.is_dir()]):
            if course.id in seen:  # progress and files are kept per course folder name
                self._view.show_status(
                    f"Two course folders are named “{course.id}” ({seen[course.id]} and "
                    f"{course.path}); only the first is shown. Rename one of them.",
                    15000,
                )
                continue
            seen[course.id] = course.path
            courses.append(course)
        # Beginners start with Python, so its courses come first; the rest by title.
        courses.sort(key=lambda c: (c.language != "python", c.title.lower()))
        self._window.lesson_browser.set_courses(courses, self._store.all())

    def restore_last_lesson(self) -> bool:
        """Reopen the lesson the learner had open last time (with their code); on the very
        first start, open the first lesson so a beginner can begin at once."""
        browser = self._window.lesson_browser
        key = self._state.get(LAST_LESSON_KEY, "")
        if key and browser.select(key):
            return True
        if not key and not self._store.all():
            first = browser.neighbour(None, 1)
            return bool(first) and browser.select(first)
        return False

    @Slot()
    def open_folder_dialog(self) -> None:
        """Ask for a folder of courses and add it."""
        folder = self._view.choose_folder("Open lessons folder")
        if folder is not None:
            self.add_root(folder)

    def add_root(self, folder: Path) -> None:
        """Add a folder of courses (remembered for next time)."""
        if folder not in self._roots:
            self._roots.append(folder)
            sandbox.hide([folder])  # its lessons' solutions stay hidden from programs
            extra = [str(p) for p in self._roots[1:]]
            try:
                notice = self._settings.set_user(EXTRA_DIRS_KEY, extra)
            except Exception as exc:  # noqa: BLE001 - a locked or unwritable setting
                self._view.show_status(str(exc), 5000)
            else:
                if notice:
                    self._window.chat.add_info(notice, error=True)
        self.reload_courses()

    # -- opening --------------------------------------------------------------------------
    @Slot(object)
    def open_lesson(self, lesson: Lesson | BrokenLesson) -> None:
        """Show `lesson` and load the learner's code for it (not the starter, once edited)."""
        if self._lesson is not None and not self._save_or_ask("switch lessons"):
            self._window.lesson_browser.select(self._lesson.key, emit=False)
            return
        self._account_time()
        if self.run_controller is not None:
            self.run_controller.reset()
        w = self._window
        if isinstance(lesson, BrokenLesson):
            if self._lesson is not None:
                self._lesson = None
                self._document.new_file()  # the lesson's code is saved; typing goes to a new file
            w.lesson_panel.show_broken(lesson)
            self.sig_lesson_opened.emit(lesson)
            return
        try:
            workspace = self._store.workspace_for(lesson)
        except OSError as exc:  # no modal: this can happen at start (a read-only home)
            w.show_save_problem(
                f"Code Tutor cannot create your files for “{lesson.title}” "
                f"({exc.strerror or exc}): nothing can be saved. Set CODETUTOR_HOME to a "
                "folder you can write, or ask your administrator."
            )
            w.lesson_browser.clear_selection()
            return
        workspace = self._readable_workspace(lesson, workspace)
        if workspace is None:  # the learner kept an unreadable file: leave the lesson
            if self._lesson is not None:
                self._lesson = None
                self._document.new_file()
            w.lesson_panel.show_nothing()
            w.lesson_browser.clear_selection()
            return
        self._lesson = lesson
        progress = self._store.mark_opened(lesson.key)
        self._report_progress()
        self._document.load_lesson_file(workspace / lesson.main, lesson.language)
        w.lesson_panel.show_lesson(lesson, progress.hints_used, progress.done)
        w.chat.set_chat_allowed(
            lesson.policy.chat, "Your teacher turned off chat with the tutor for this lesson."
        )
        w.lesson_browser.update_progress(self._store.all())
        problem = self._state.set(LAST_LESSON_KEY, lesson.key)  # a convenience: never raises
        if problem and problem != self._state_problem:
            self._state_problem = problem  # said once, not at every lesson
            w.chat.add_info(problem, error=True)
        self.sig_lesson_opened.emit(lesson)

    def _readable_workspace(self, lesson: Lesson, workspace: Path) -> Path | None:
        """The workspace, once its main file can be shown: a file that became binary or too
        big (a program can overwrite its own main.py) is offered a reset to the starter."""
        try:
            read_source_file(workspace / lesson.main)
        except UnsuitableFileError as exc:
            if not self._view.ask_yes_no(
                "Cannot open your code",
                f"{exc}\n\nReset this lesson to its starter code? The file is kept in a "
                "backup folder, so nothing is lost.",
            ):
                return None
            try:
                return self._store.reset_to_starter(lesson)
            except OSError as err:
                self._view.warn("Cannot reset", f"Could not reset: {err}")
                return None
        return workspace

    @Slot()
    def _account_time(self) -> None:
        now = time.monotonic()
        if self._lesson is not None:
            self._store.add_time(self._lesson.key, now - self._opened_at)
            self._report_progress()
        self._opened_at = now

    @Slot()
    def go(self, step: int) -> None:
        """Open the next (`step`=1) or previous (-1) lesson."""
        browser = self._window.lesson_browser
        key = browser.neighbour(browser.current_key(), step)
        if key:
            browser.select(key)

    @Slot(str)
    def _on_document_free_file_opened(self, name: str) -> None:
        """The editor left the lesson (File ▸ Open / New): stop treating its text as lesson code."""
        if self._lesson is None:
            return
        self.save_now()
        self._account_time()
        self._lesson = None
        self._window.lesson_panel.show_nothing(name)
        self._window.chat.set_chat_allowed(True)
        self._window.lesson_browser.clear_selection()

    @property
    def roots(self) -> list[Path]:
        """The folders of courses shown (built-in first)."""
        return list(self._roots)

    # -- saving ---------------------------------------------------------------------------
    def editing_lesson_file(self) -> bool:
        """True when the editor shows a file of the open lesson's workspace."""
        doc = self._document
        if self._lesson is None or doc.path is None or not doc.lesson_mode:
            return False
        return doc.path.is_relative_to(self._store.workspace_dir(self._lesson))

    def workspace_dir(self, lesson: Lesson) -> Path:
        """Where the learner's files of `lesson` are."""
        return self._store.workspace_dir(lesson)

    @Slot()
    def _on_editor_text_changed(self) -> None:
        if self.editing_lesson_file():
            self._autosave.start()
            if not self._autosave_deadline.isActive():
                self._autosave_deadline.start()

    @Slot()
    def save_now(self) -> bool:
        """Write the learner's lesson file now (atomic); a free file is left to File ▸ Save.

        Returns:
            False when the lesson file has changes that could not be written (the window
            then shows a lasting banner saying why, and the edits stay in the editor).
        """
        self._autosave.stop()
        self._autosave_deadline.stop()
        w, doc = self._window, self._document
        if not self.editing_lesson_file() or doc.path is None or not doc.editor.is_modified():
            return True
        try:
            name = doc.path.relative_to(self._store.workspace_dir(self._lesson)).as_posix()
            path = self._store.save_file(self._lesson, name, doc.editor.text())
        except (OSError, ValueError) as exc:
            self._save_problem = save_problem_words(exc, doc.path)
            w.show_save_problem(self._save_problem)
            return False
        self._save_problem = ""
        w.show_save_problem("")
        doc.editor.mark_saved()
        self.sig_autosaved.emit(str(path))
        return True

    def _save_or_ask(self, what: str) -> bool:
        """Save; when that fails, ask whether to `what` anyway (losing the edits). True: go on."""
        if self.save_now():
            return True
        return self._view.ask_yes_no(
            "Your code is not saved",
            f"{self._save_problem}\n\n{what.capitalize()} anyway? Your latest changes would be "
            "lost. Choose No to stay and use File ▸ Save As… first.",
        )

    def _report_progress(self) -> None:
        """Say (lastingly) when progress.json could not be written."""
        error = self._store.last_error
        self._window.show_save_problem(
            self._save_problem
            or (f"Your progress is not being saved: {error}. Your code is." if error else "")
        )

    @Slot()
    def reset_to_starter(self) -> None:
        """After asking, go back to the starter code; the current code stays recoverable."""
        lesson = self._lesson
        if lesson is None:
            return
        if not self._view.ask_yes_no(
            "Reset to starter",
            "Replace your code with the lesson's starter code?\n\nYour current code is kept "
            "in a backup folder, so nothing is lost.",
        ):
            return
        self.save_now()
        try:
            workspace = self._store.reset_to_starter(lesson)
        except OSError as exc:
            self._view.warn(
                "Cannot reset",
                f"Could not go back to the starter code: {exc}. Your code is unchanged.",
            )
            return
        self._document.load_lesson_file(workspace / lesson.main, lesson.language)
        backups = self._store.backups(lesson)
        if backups:
            self._view.show_status(f"Your previous code is in {backups[-1]}", 8000)

    # -- hints ----------------------------------------------------------------------------
    @Slot()
    def show_next_hint(self) -> None:
        """Show the next hint of the teacher's ladder ("hint k of n"); once they are all
        shown (or outside a lesson), the tutor writes the next one."""
        lesson = self._lesson
        if lesson is None or not lesson.hints:
            self.sig_tutor_hint_wanted.emit()
            return
        used = self._store.get(lesson.key).hints_used
        if used >= len(lesson.hints):
            self.sig_tutor_hint_wanted.emit()
            return
        self._store.record_hint(lesson.key)
        self._report_progress()
        self._window.lesson_panel.add_hint(used + 1, len(lesson.hints), lesson.hints[used])

    # -- checks -------------------------------------------------------------------------
    @Slot(object, object)
    def record_checks(self, lesson: Lesson, results: list[CheckResult]) -> None:
        """Record a Check of `lesson`: the attempt, and the lesson done when all passed."""
        passed = bool(results) and all(r.passed for r in results)
        self._store.record_attempt(lesson.key, passed)
        self._report_progress()
        if passed:
            self._store.mark_done(lesson.key)
            if lesson is self._lesson:
                self._window.lesson_panel.set_done(True)
            self.sig_lesson_done.emit(lesson.key)
        self._window.lesson_browser.update_progress(self._store.all())

    # -- tutor ----------------------------------------------------------------------------
    def lesson_brief(self) -> LessonBrief | None:
        """What the tutor knows of the open lesson; None in free editing."""
        lesson = self._lesson
        if lesson is None:
            return None
        return LessonBrief(
            key=lesson.key,
            title=lesson.title,
            goal=lesson.goal,
            text=lesson.text,
            hints=tuple(lesson.hints),
            hints_shown=self._store.get(lesson.key).hints_used,
            policy=lesson.policy,
        )

    @Slot()
    def shutdown(self) -> None:
        """Save, record time, stop any program."""
        self.save_now()
        self._account_time()
