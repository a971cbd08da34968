"""The main window: editor and find bar on the left, the tutor's chat on the right,
menus with shortcuts, and a status bar (model, GPU/CPU, state, last reply's speed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.core.atomic import atomic_write_text
from app.core.filetypes import (
    LANGUAGE_NAMES,
    UnsuitableFileError,
    language_for_path,
    read_source_file,
)
from app.llm.backend import ModelInfo, StreamStats
from app.llm.service import LlmService, LlmState
from app.ui.editor.find_bar import FindBar
from app.ui.editor.widget import CodeEditor
from app.ui.lessons.browser import LessonBrowser
from app.ui.lessons.panel import LessonPanel
from app.ui.run.output_panel import OutputPanel
from app.ui.tutor.chat_panel import ChatPanel

SOURCE_FILTER = (
    "Source files (*.py *.cpp *.cc *.h *.hpp *.c *.java *.js *.mjs *.ts *.php *.cs *.sh);;"
    "All files (*)"
)


class MainWindow(QMainWindow):
    """Lays out the panels and owns the file and view actions."""

    sig_model_file_requested = Signal(str)
    """(path): the learner chose a GGUF file to load."""
    sig_starter_model_requested = Signal()
    """The learner asked for the built-in starter model."""
    sig_run_requested = Signal()
    """Run the current file (F5)."""
    sig_stop_run_requested = Signal()
    """Stop the running program (Shift+F5)."""
    sig_check_requested = Signal()
    """Check the lesson (F6)."""
    sig_hint_requested = Signal()
    """Show the next hint (F7)."""
    sig_next_lesson_requested = Signal()
    """Go to the next lesson."""
    sig_previous_lesson_requested = Signal()
    """Go to the previous lesson."""
    sig_reset_requested = Signal()
    """Reset the lesson to its starter code."""
    sig_open_lessons_folder_requested = Signal()
    """Add a folder of courses."""
    sig_lesson_save_requested = Signal()
    """Write the lesson file now (lesson files are saved automatically, never asked about)."""
    sig_closing = Signal()
    """The window is closing: save and stop what runs."""
    sig_free_file_opened = Signal()
    """The editor now holds a file that is not a lesson's (new or opened)."""

    def __init__(self, service: LlmService, chat: ChatPanel | None = None) -> None:
        super().__init__()
        self._service = service
        self.path: Path | None = None
        self.lesson_mode = False
        self.setWindowTitle("Code Tutor")
        self.resize(1440, 860)

        self.editor = CodeEditor(self)
        self.find_bar = FindBar(self.editor, self)
        self.chat = chat or ChatPanel(self)
        self.lesson_browser = LessonBrowser(self)
        self.lesson_panel = LessonPanel(self)
        self.output_panel = OutputPanel(self)
        editor_box = QWidget(self)
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.setSpacing(0)
        self.save_banner = QLabel(self)  # lasting: shown while the learner's code is not saved
        self.save_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.save_banner.setWordWrap(True)
        self.save_banner.setStyleSheet(
            "QLabel { background: #ffebe9; color: #82071e; border: 1px solid #ff8182;"
            " padding: 6px; font-weight: bold; }"
        )
        self.save_banner.hide()
        editor_layout.addWidget(self.save_banner)
        editor_layout.addWidget(self.editor, 1)
        editor_layout.addWidget(self.find_bar)
        centre = QSplitter(Qt.Orientation.Vertical, self)
        centre.addWidget(editor_box)
        centre.addWidget(self.output_panel)
        centre.setSizes([560, 220])
        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self.lesson_browser)
        left.addWidget(self.lesson_panel)
        left.setSizes([260, 520])
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.chat)
        self.splitter.setSizes([330, 640, 470])
        self.setCentralWidget(self.splitter)

        self.model_label = QLabel("No model", self)
        self.model_label.setTextFormat(Qt.TextFormat.PlainText)
        self.device_label = QLabel("", self)
        self.device_label.setTextFormat(Qt.TextFormat.PlainText)
        self.state_label = QLabel("", self)
        self.state_label.setTextFormat(Qt.TextFormat.PlainText)
        self.speed_label = QLabel("", self)
        self.speed_label.setTextFormat(Qt.TextFormat.PlainText)
        self.position_label = QLabel("", self)
        self.position_label.setTextFormat(Qt.TextFormat.PlainText)
        self.speed_label.setMinimumWidth(90)
        bar = self.statusBar()
        bar.addWidget(self.position_label)
        for w in (self.model_label, self.device_label, self.state_label, self.speed_label):
            bar.addPermanentWidget(w)

        self._build_menus()
        self.editor.sig_modification_changed.connect(self._update_title)
        self.editor.updateUi.connect(self._on_editor_update_ui)
        self.chat.sig_insert_code_requested.connect(self.editor.insert_at_cursor)
        service.sig_state_changed.connect(self._on_service_state_changed)
        service.sig_model_loaded.connect(self._on_service_model_loaded)
        service.sig_model_failed.connect(self._on_service_model_failed)
        service.sig_generation_finished.connect(self._on_service_generation_finished)
        self.new_file()
        self._on_service_state_changed(service.state)

    # -- menus ----------------------------------------------------------------------------
    def _action(self, menu, text: str, shortcut, slot, tip: str = "") -> QAction:  # noqa: ANN001
        action = QAction(text, self)
        if isinstance(shortcut, QKeySequence.StandardKey):
            action.setShortcuts(shortcut)  # every platform binding (Ctrl+Y and Ctrl+Shift+Z)
        elif shortcut:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        m = self.menuBar()
        file = m.addMenu("&File")
        self._action(file, "&New", QKeySequence.StandardKey.New, self.new_file)
        self._action(file, "&Open…", QKeySequence.StandardKey.Open, self.open_file_dialog)
        self._action(file, "&Save", QKeySequence.StandardKey.Save, self.save)
        self._action(file, "Save &As…", "Ctrl+Shift+S", self.save_as_dialog)
        file.addSeparator()
        self._action(file, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        edit = m.addMenu("&Edit")
        self._action(edit, "&Undo", QKeySequence.StandardKey.Undo, self.editor.undo)
        self._action(edit, "&Redo", QKeySequence.StandardKey.Redo, self.editor.redo)
        edit.addSeparator()
        self._action(edit, "&Find…", QKeySequence.StandardKey.Find, self.find_bar.open_bar)
        self._action(edit, "Find &Next", "F3", self.find_bar.find_next)
        self._action(edit, "Find &Previous", "Shift+F3", self.find_bar.find_previous)
        view = m.addMenu("&View")
        self._action(view, "Zoom &In", "Ctrl+=", self.editor.zoom_in)
        self._action(view, "Zoom &Out", "Ctrl+-", self.editor.zoom_out)
        self._action(view, "&Reset Zoom", "Ctrl+0", self.editor.zoom_reset)
        tutor = m.addMenu("&Tutor")
        self._action(tutor, "&Ask the Tutor", "Ctrl+L", self._focus_chat)
        self.stop_action = self._action(tutor, "&Stop Answer", "Esc", self.chat.sig_stop_requested)
        self.stop_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self._action(tutor, "&Clear Conversation", "Ctrl+Shift+L", self.chat.sig_clear_requested)
        lesson = m.addMenu("&Lesson")
        self.run_action = self._action(lesson, "&Run", "F5", self.sig_run_requested)
        self.stop_run_action = self._action(
            lesson, "&Stop Program", "Shift+F5", self.sig_stop_run_requested
        )
        self.check_action = self._action(lesson, "&Check", "F6", self.sig_check_requested)
        self.hint_action = self._action(lesson, "Next &Hint", "F7", self.sig_hint_requested)
        lesson.addSeparator()
        self._action(lesson, "&Previous Lesson", "Alt+Left", self.sig_previous_lesson_requested)
        self._action(lesson, "&Next Lesson", "Alt+Right", self.sig_next_lesson_requested)
        self._action(lesson, "R&eset to Starter…", None, self.sig_reset_requested)
        lesson.addSeparator()
        self._action(lesson, "&Open Lessons Folder…", None, self.sig_open_lessons_folder_requested)
        bar = QToolBar("Lesson", self)
        bar.setObjectName("lesson-toolbar")
        bar.setIconSize(QSize(16, 16))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.run_action.setText("▶ Run")
        self.stop_run_action.setText("■ Stop")
        self.check_action.setText("✓ Check")
        self.hint_action.setText("? Hint")
        for action in (self.run_action, self.stop_run_action, self.check_action, self.hint_action):
            action.setToolTip(f"{action.text()} ({action.shortcut().toString()})")
            bar.addAction(action)
        self.addToolBar(bar)
        model = m.addMenu("&Model")
        self._action(model, "&Open Model File…", "Ctrl+Shift+M", self.open_model_dialog)
        self._action(model, "Use the &Starter Model", None, self.sig_starter_model_requested)
        help_menu = m.addMenu("&Help")
        self._action(help_menu, "&About Code Tutor", None, self._show_about)

    # -- files ----------------------------------------------------------------------------
    @Slot()
    def new_file(self) -> None:
        """Start an empty Python file (after offering to save changes)."""
        if not self._maybe_save():
            return
        self.lesson_mode = False
        self.sig_free_file_opened.emit()
        self.path = None
        self.editor.clear_errors()
        self.editor.set_language("python")
        self.editor.set_text("")
        self._update_title()

    def open_path(self, path: str | Path) -> bool:
        """Open `path` in the editor. Returns False (with a message) when it cannot."""
        p = Path(path)
        try:
            text = read_source_file(p)
        except UnsuitableFileError as exc:
            self._warn("Cannot open file", str(exc))
            return False
        self.lesson_mode = False
        self.sig_free_file_opened.emit()
        self.path = p
        self.editor.clear_errors()
        self.editor.set_language(language_for_path(p))
        self.editor.set_text(text)
        self._update_title()
        return True

    def load_lesson_file(self, path: Path, language: str) -> bool:
        """Show a lesson's file (autosaved by the lesson controller)."""
        if not self.lesson_mode and not self._maybe_save():
            return False
        try:
            text = read_source_file(path)
        except UnsuitableFileError as exc:
            self._warn("Cannot open lesson file", str(exc))
            return False
        self.lesson_mode = True
        self.path = Path(path)
        self.editor.clear_errors()
        self.editor.set_language(language)
        self.editor.set_text(text)
        self._update_title()
        return True

    @Slot()
    def open_file_dialog(self) -> None:
        """Ask for a file and open it."""
        if not self._maybe_save():
            return
        name, _ = QFileDialog.getOpenFileName(self, "Open file", "", SOURCE_FILTER)
        if name:
            self.open_path(name)

    def save_to(self, path: str | Path) -> bool:
        """Write the editor's text to `path` atomically. False (with a message) on failure;
        the text stays in the editor either way."""
        p = Path(path)
        try:
            atomic_write_text(p, self.editor.text())
        except OSError as exc:
            self._warn(
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
        self.statusBar().showMessage(f"Saved {p.name}", 3000)
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
        start = str(self.path) if self.path else "untitled.py"
        name, _ = QFileDialog.getSaveFileName(self, "Save as", start, SOURCE_FILTER)
        return self.save_to(name) if name else False

    def _maybe_save(self) -> bool:
        """Offer to save unsaved changes. False when the learner cancels."""
        if self.lesson_mode:
            self.sig_lesson_save_requested.emit()
            if not self.editor.is_modified():
                return True
            return self._save_discard_or_cancel(  # the lesson file could not be written
                "Your code is not saved",
                f"{self.save_banner.text()}\n\nClose anyway? Your latest changes would be lost. "
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

    def _save_discard_or_cancel(self, title: str, text: str, save: Callable[[], bool]) -> bool:
        """Ask Save / Discard / Cancel; True when the learner may go on (saved or discarded)."""
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            return save()
        return answer == QMessageBox.StandardButton.Discard

    # -- model ----------------------------------------------------------------------------
    @Slot()
    def open_model_dialog(self) -> None:
        """Ask for a GGUF model file and load it."""
        name, _ = QFileDialog.getOpenFileName(
            self, "Open model file", "", "GGUF models (*.gguf);;All files (*)"
        )
        if name:
            self.sig_model_file_requested.emit(name)

    # -- status ---------------------------------------------------------------------------
    def show_save_problem(self, text: str) -> None:
        """Show a lasting banner above the editor saying why work is not saved ("" hides it)."""
        self.save_banner.setText(text)
        self.save_banner.setVisible(bool(text))

    def _warn(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)

    @Slot()
    def _update_title(self, *_: object) -> None:
        name = self.path.name if self.path else "untitled"
        star = "*" if self.editor.is_modified() else ""
        self.setWindowTitle(f"{star}{name} — Code Tutor")

    @Slot(int)
    def _on_editor_update_ui(self, _updated: int) -> None:
        lang = LANGUAGE_NAMES.get(self.editor.language, self.editor.language)
        self.position_label.setText(f"Line {self.editor.cursor_line()} · {lang}")

    @Slot(object)
    def _on_service_state_changed(self, state: LlmState) -> None:
        self.state_label.setText(state.value)
        self.stop_action.setEnabled(state is LlmState.GENERATING)

    @Slot(object)
    def _on_service_model_loaded(self, info: ModelInfo) -> None:
        self.model_label.setText(info.name)
        self.device_label.setText(info.device)
        self.statusBar().showMessage(f"Loaded {info.name} in {info.load_seconds:.1f} s", 4000)
        if info.notice:
            self.chat.add_info(info.notice)

    @Slot(str, str)
    def _on_service_model_failed(self, _kind: str, message: str) -> None:
        self.model_label.setText("No model")
        self.device_label.setText("")
        self.chat.add_info(message, error=True)
        self._warn("Cannot load model", message)

    @Slot(int, object)
    def _on_service_generation_finished(self, _request_id: int, stats: StreamStats) -> None:
        if stats.tokens:
            self.speed_label.setText(f"{stats.tokens_per_s:.0f} tokens/s")

    @Slot()
    def _focus_chat(self) -> None:
        self.chat.input.setFocus()

    @Slot()
    def _show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Code Tutor",
            "Code Tutor — a coding tutor that runs a local model beside a real editor.\n"
            "Works offline; your code never leaves this computer.",
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        """Offer to save, then stop the tutor and end its thread."""
        if not self._maybe_save():
            event.ignore()
            return
        self.sig_closing.emit()
        self.hide()  # a model still loading cannot be interrupted: let it finish out of sight
        self._service.shutdown(timeout_ms=1000)
        event.accept()
