"""The main window: lessons on the left, the editor and the program's output in the middle, the
tutor's chat on the right; menus and a toolbar made of the shared actions; the status bar.

It lays out and shows; the controllers (`app.main` wires them) decide. It is also the
controllers' `View` (dialogs and passing messages).
"""

from __future__ import annotations

import html

from PySide6.QtCore import QByteArray, QEvent, QObject, QPoint, QSize, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent, QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.llm.backend import ModelInfo
from app.llm.service import LlmService
from app.ui.common.actions import ActionId, Actions
from app.ui.common.theme import THEME
from app.ui.common.view import QtView
from app.ui.editor.document import DocumentController
from app.ui.editor.find_bar import FindBar
from app.ui.editor.widget import CodeEditor
from app.ui.lessons.browser import LessonBrowser
from app.ui.lessons.panel import LessonPanel
from app.ui.run.output_panel import OutputPanel
from app.ui.status_bar import StatusBar
from app.ui.tutor.chat_panel import ChatPanel

EDITING = (
    ActionId.UNDO,
    ActionId.REDO,
    None,
    ActionId.CUT,
    ActionId.COPY,
    ActionId.PASTE,
    ActionId.SELECT_ALL,
)
"""The editing commands, first in the Edit menu and in the editor's right-click menu."""
MENUS: tuple[tuple[str, tuple[ActionId | None, ...]], ...] = (
    ("&File", (ActionId.NEW, ActionId.OPEN, ActionId.SAVE, ActionId.SAVE_AS, None, ActionId.QUIT)),
    (
        "&Edit",
        (
            *EDITING,
            None,
            ActionId.FIND,
            ActionId.FIND_NEXT,
            ActionId.FIND_PREVIOUS,
            ActionId.REPLACE,
        ),
    ),
    (
        "&View",
        (
            ActionId.ZOOM_IN,
            ActionId.ZOOM_OUT,
            ActionId.ZOOM_RESET,
            ActionId.WORD_WRAP,
            ActionId.LESSONS_COLUMN,
            ActionId.INLINE_COMPLETION,
            None,
            ActionId.NEXT_PANEL,
            ActionId.PREVIOUS_PANEL,
        ),
    ),
    (
        "&Tutor",
        (
            ActionId.EXPLAIN,
            ActionId.HINT,
            ActionId.DEBUG,
            ActionId.DOCUMENT,
            None,
            ActionId.ASK_TUTOR,
            ActionId.STOP_ANSWER,
            None,
            ActionId.CLEAR_CONVERSATION,
            ActionId.EXPORT_CONVERSATION,
        ),
    ),
    (
        "&Lesson",
        (
            ActionId.RUN,
            ActionId.STOP_PROGRAM,
            ActionId.CHECK,
            ActionId.HINT,
            None,
            ActionId.PREVIOUS_LESSON,
            ActionId.NEXT_LESSON,
            ActionId.RESET_LESSON,
            None,
            ActionId.OPEN_LESSONS_FOLDER,
        ),
    ),
    ("&Model", (ActionId.MODELS, ActionId.OPEN_MODEL, ActionId.STARTER_MODEL)),
    ("&Help", (ActionId.SHORTCUTS, ActionId.ABOUT)),
)
MODIFIER_KEYS = (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta)
TOOLBAR = (
    ActionId.RUN,
    ActionId.STOP_PROGRAM,
    ActionId.CHECK,
    ActionId.HINT,
    None,
    ActionId.EXPLAIN,
    ActionId.DEBUG,
    ActionId.DOCUMENT,
    None,
    ActionId.INLINE_COMPLETION,
)
EDITOR_MENU = (
    *EDITING,
    None,
    ActionId.EXPLAIN,
    ActionId.DEBUG,
    ActionId.DOCUMENT,
    ActionId.ASK_TUTOR,
)
"""The editor's right-click menu."""


class FocusFrame(QWidget):
    """A 2 px frame in the focus colour around its child while `focused`: Scintilla paints
    over a style-sheet border, and restyling its parent while it takes the focus is unsafe."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.focused = False

    def set_focused(self, focused: bool) -> None:
        """Draw the frame (True) or not."""
        if focused != self.focused:
            self.focused = focused
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        """The frame, in the margin the child leaves free."""
        super().paintEvent(event)
        if self.focused:
            painter = QPainter(self)
            painter.setPen(QPen(QColor(THEME.focus), 2))
            painter.drawRect(self.rect().adjusted(1, 1, -1, -1))


class MainWindow(QMainWindow, QtView):
    """Lays out the panels, builds the menus from the shared actions, shows the status."""

    sig_model_file_requested = Signal(str)
    """(path): the learner chose a GGUF file to load."""
    sig_closing = Signal()
    """The window is closing: save and stop what runs."""
    sig_closed = Signal()
    """The window accepted the close (the composition root ends the service)."""

    def __init__(self, service: LlmService, chat: ChatPanel | None = None) -> None:
        super().__init__()
        self._service = service
        self.setWindowTitle("Code Tutor")
        self.resize(1440, 860)
        screen = QApplication.primaryScreen()
        if screen is not None:  # a smaller screen (a lab's 1280×800): the window fits on it
            room = screen.availableGeometry()
            if room.width() < 1440 or room.height() < 860:
                self.resize(min(1440, room.width()), min(860, room.height()))
        self.actions = Actions(self)
        self.editor = CodeEditor(self)
        self.document = DocumentController(self.editor, self, self)
        self.find_bar = FindBar(self.editor, self)
        self.chat = chat or ChatPanel(self)
        self.lesson_browser = LessonBrowser(self)
        self.lesson_panel = LessonPanel(self)
        self.output_panel = OutputPanel(self)
        self.save_banner = QLabel(self)  # lasting: shown while the learner's code is not saved
        self.save_banner.setTextFormat(Qt.TextFormat.PlainText)
        self.save_banner.setWordWrap(True)
        self.save_banner.setStyleSheet(
            f"QLabel {{ background: {THEME.failure_back}; color: {THEME.banner_text};"
            f" border: 1px solid {THEME.banner_border}; padding: 6px; font-weight: bold; }}"
        )
        self.save_banner.hide()
        self._lay_out()
        self.status = StatusBar(service, self.editor, self)
        self.setStatusBar(self.status)
        self._build_menus()
        self._connect_view_actions()
        self.document.sig_title_changed.connect(self.setWindowTitle)
        self._zoomed = [  # follow the editor's zoom: projectors in class, low vision
            self.lesson_panel.text,
            self.output_panel.view,
            self.output_panel.input_line,
            self.output_panel.results_list,
            self.output_panel.details_view,
            self.chat.view,
            self.chat.input,
        ]
        self._base_points = [w.font().pointSizeF() for w in self._zoomed]
        self.editor.sig_zoom_changed.connect(self.apply_zoom)
        for widget in self.panels():  # a visible frame around the panel with the focus
            if widget is not self.editor:
                widget.setStyleSheet(
                    f"{type(widget).__name__}:focus {{ border: 2px solid {THEME.focus}; }}"
                )
        # Scintilla paints over a style-sheet border: the editor's frame is its box's.
        self._escape_armed = False
        for widget in (self.editor, self.chat.input):
            widget.installEventFilter(self)
        self._show_editor_focus(False)
        self.actions[ActionId.LESSONS_COLUMN].setChecked(True)
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        self.output_panel.tabs.currentChanged.connect(self._on_output_tab_changed)
        self.chat.sig_insert_code_requested.connect(self.editor.insert_at_cursor)
        service.sig_chat_busy_changed.connect(self._on_service_chat_busy_changed)
        service.sig_model_loaded.connect(self._on_service_model_loaded)
        service.sig_model_failed.connect(self._on_service_model_failed)
        self.document.new_file()
        self._on_service_chat_busy_changed(service.chat_busy)

    def _lay_out(self) -> None:
        editor_box = QWidget(self)
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.setSpacing(0)
        editor_layout.addWidget(self.save_banner)
        self.editor_frame = FocusFrame(editor_box)
        frame_layout = QVBoxLayout(self.editor_frame)
        frame_layout.setContentsMargins(2, 2, 2, 2)
        frame_layout.addWidget(self.editor)
        editor_layout.addWidget(self.editor_frame, 1)
        editor_layout.addWidget(self.find_bar)
        centre = QSplitter(Qt.Orientation.Vertical, self)
        centre.addWidget(editor_box)
        centre.addWidget(self.output_panel)
        centre.setSizes([560, 220])
        left = QSplitter(Qt.Orientation.Vertical, self)
        left.addWidget(self.lesson_browser)
        lesson_area = QWidget(self)  # the lesson text, and the first-run welcome above it
        self._lesson_area = QVBoxLayout(lesson_area)
        self._lesson_area.setContentsMargins(0, 0, 0, 0)
        self._lesson_area.addWidget(self.lesson_panel, 1)
        left.addWidget(lesson_area)
        left.setSizes([260, 520])
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.chat)
        self.splitter.setSizes([330, 640, 470])
        self._lessons_width = 330  # what the lessons column gets back when shown again
        self.splitter.setCollapsible(0, True)  # View ▸ Lessons Column, or drag it shut
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)
        self._splitters = {"main": self.splitter, "left": left, "centre": centre}

    def show_welcome(self, welcome: QWidget) -> None:
        """Put the first-run welcome between the lesson list and the lesson text; it never
        blocks the lessons (the learner can start lesson 1 beside it)."""
        # In a scroll area, so on a small screen it shrinks instead of covering the lesson.
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(welcome)
        welcome.sig_dismissed.connect(scroll.hide)  # type: ignore[attr-defined]
        self._lesson_area.insertWidget(0, scroll, 2)
        self._lesson_area.setStretch(1, 3)
        self.welcome_area = scroll

    def panels(self) -> list[QWidget]:
        """The panels Ctrl+Tab cycles through, left to right."""
        return [
            self.lesson_browser.tree,
            self.lesson_panel.text,
            self.editor,
            self.output_panel.input_line,
            self.chat.input,
        ]

    def focus_panel(self, step: int) -> None:
        """Move the keyboard focus to the next (1) or previous (-1) panel that can take it
        (Ctrl+Tab, Ctrl+Shift+Tab): the way out of the editor and the chat input, where Tab
        types a tab."""
        panels = self.panels()
        focused = QApplication.focusWidget()
        here = next(
            (i for i, w in enumerate(panels) if focused is w or w.isAncestorOf(focused)), -1
        )
        for offset in range(1, len(panels) + 1):
            widget = panels[(here + step * offset) % len(panels)]
            if widget.isEnabled() and widget.isVisible():
                # QWidget's own: Scintilla's widget has a setFocus(bool) of its own.
                QWidget.setFocus(widget, Qt.FocusReason.TabFocusReason)
                return

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Esc then Tab leaves the editor or the chat input for the next panel (as in VS
        Code and Thonny), where Tab alone types a tab; Esc keeps its own meaning (Stop)."""
        kind = event.type()
        if kind in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self._escape_armed = False
            if watched is self.editor:
                self._show_editor_focus(kind == QEvent.Type.FocusIn)
        elif kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            key = event.key()  # type: ignore[attr-defined]
            if key == Qt.Key.Key_Escape:
                self._escape_armed = True
            elif kind == QEvent.Type.KeyPress and key not in MODIFIER_KEYS:
                armed, self._escape_armed = self._escape_armed, False
                mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier  # type: ignore[attr-defined]
                shift = mods == Qt.KeyboardModifier.ShiftModifier
                if armed and key == Qt.Key.Key_Tab and (not mods or shift):
                    self.focus_panel(-1 if shift else 1)
                    return True
                if armed and key == Qt.Key.Key_Backtab:
                    self.focus_panel(-1)
                    return True
        return super().eventFilter(watched, event)

    def _show_editor_focus(self, focused: bool) -> None:
        self.editor_frame.set_focused(focused)

    @Slot(bool)
    def show_lessons_column(self, shown: bool) -> None:
        """Show or hide the lessons column (View ▸ Lessons Column, Ctrl+B): room for the
        editor and the tutor on a small screen."""
        sizes = self.splitter.sizes()
        if shown and sizes[0] == 0:
            width = max(240, self._lessons_width)
            self.splitter.setSizes([width, max(200, sizes[1] - width), sizes[2]])
        elif not shown and sizes[0] > 0:
            self._lessons_width = sizes[0]
            self.splitter.setSizes([0, sizes[1] + sizes[0], sizes[2]])
        self.actions[ActionId.LESSONS_COLUMN].setChecked(shown)

    @Slot(int, int)
    def _on_splitter_moved(self, _pos: int, _index: int) -> None:
        self.actions[ActionId.LESSONS_COLUMN].setChecked(self.splitter.sizes()[0] > 0)

    @Slot(int)
    def _on_output_tab_changed(self, index: int) -> None:
        """The check results need more than the 3 lines a small output panel gives them."""
        if index != 1:
            return
        centre = self._splitters["centre"]
        top, bottom = centre.sizes()
        wanted = min(320, (top + bottom) // 2)
        if bottom < wanted:
            centre.setSizes([top + bottom - wanted, wanted])

    @Slot(int)
    def apply_zoom(self, points: int) -> None:
        """Make the lesson text, output, check results and chat `points` bigger (or smaller)
        than normal, as the editor is."""
        for widget, base in zip(self._zoomed, self._base_points, strict=True):
            font = widget.font()
            font.setPointSizeF(max(4.0, base + points))
            widget.setFont(font)

    def layout_state(self) -> dict[str, str]:
        """The window's size, position, maximised state and splitter positions, as text
        (kept in the session state file, not the settings)."""
        state = {"geometry": bytes(self.saveGeometry().toBase64()).decode("ascii")}
        for name, splitter in self._splitters.items():
            state[f"splitter.{name}"] = bytes(splitter.saveState().toBase64()).decode("ascii")
        return state

    def restore_layout(self, state: object) -> None:
        """Put back what `layout_state` gave; anything unreadable is ignored."""
        if not isinstance(state, dict):
            return
        geometry = state.get("geometry")
        if isinstance(geometry, str):
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))
        for name, splitter in self._splitters.items():
            saved = state.get(f"splitter.{name}")
            if isinstance(saved, str):
                splitter.restoreState(QByteArray.fromBase64(saved.encode("ascii")))
        self.actions[ActionId.LESSONS_COLUMN].setChecked(self.splitter.sizes()[0] > 0)

    def _build_menus(self) -> None:
        for title, items in MENUS:
            menu = self.menuBar().addMenu(title)
            for action_id in items:
                if action_id is None:
                    menu.addSeparator()
                else:
                    menu.addAction(self.actions[action_id])
        bar = QToolBar("Lesson", self)
        bar.setObjectName("lesson-toolbar")
        bar.setIconSize(QSize(16, 16))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action_id in TOOLBAR:
            if action_id is None:
                bar.addSeparator()
            else:
                bar.addAction(self.actions[action_id])
        self.addToolBar(bar)
        self.editor.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.editor.customContextMenuRequested.connect(self._on_editor_context_menu_requested)

    def editor_menu(self) -> QMenu:
        """The editor's right-click menu: editing, then the tutor's actions."""
        menu = QMenu(self)
        for action_id in EDITOR_MENU:
            if action_id is None:
                menu.addSeparator()
            else:
                menu.addAction(self.actions[action_id])
        return menu

    @Slot(QPoint)
    def _on_editor_context_menu_requested(self, position: QPoint) -> None:
        menu = self.editor_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.editor.mapToGlobal(position))

    def _connect_view_actions(self) -> None:
        """The commands that only change what the window shows."""
        a, doc, editor, find = self.actions, self.document, self.editor, self.find_bar
        for action_id, slot in (
            (ActionId.NEW, doc.new_file),
            (ActionId.OPEN, doc.open_file_dialog),
            (ActionId.SAVE, doc.save),
            (ActionId.SAVE_AS, doc.save_as_dialog),
            (ActionId.QUIT, self.close),
            (ActionId.UNDO, editor.undo),
            (ActionId.REDO, editor.redo),
            (ActionId.CUT, lambda: self._edit("cut")),
            (ActionId.COPY, lambda: self._edit("copy")),
            (ActionId.PASTE, lambda: self._edit("paste")),
            (ActionId.SELECT_ALL, lambda: self._edit("selectAll")),
            (ActionId.FIND, find.open_bar),
            (ActionId.REPLACE, find.open_replace),
            (ActionId.FIND_NEXT, find.find_next),
            (ActionId.FIND_PREVIOUS, find.find_previous),
            (ActionId.ZOOM_IN, editor.zoom_in),
            (ActionId.ZOOM_OUT, editor.zoom_out),
            (ActionId.ZOOM_RESET, editor.zoom_reset),
            (ActionId.WORD_WRAP, editor.set_word_wrap),
            (ActionId.LESSONS_COLUMN, self.show_lessons_column),
            (ActionId.NEXT_PANEL, lambda: self.focus_panel(1)),
            (ActionId.PREVIOUS_PANEL, lambda: self.focus_panel(-1)),
            (ActionId.ASK_TUTOR, self._focus_chat),
            (ActionId.STOP_ANSWER, self.chat.sig_stop_requested),
            (ActionId.CLEAR_CONVERSATION, self.chat.sig_clear_requested),
            (ActionId.OPEN_MODEL, self.open_model_dialog),
            (ActionId.SHORTCUTS, self.show_shortcuts),
            (ActionId.ABOUT, self._show_about),
        ):
            a.connect(action_id, slot)

    # -- model ----------------------------------------------------------------------------
    @Slot()
    def open_model_dialog(self) -> None:
        """Ask for a GGUF model file and load it."""
        path = self.choose_open_file("Open model file", "GGUF models (*.gguf);;All files (*)")
        if path is not None:
            self.sig_model_file_requested.emit(str(path))

    # -- status ---------------------------------------------------------------------------
    def show_save_problem(self, text: str) -> None:
        """Show a lasting banner above the editor saying why work is not saved ("" hides it)."""
        self.document.save_problem = text
        self.save_banner.setText(text)
        self.save_banner.setVisible(bool(text))

    @Slot(bool)
    def _on_service_chat_busy_changed(self, busy: bool) -> None:
        self.actions.set_enabled(ActionId.STOP_ANSWER, busy)

    @Slot(object)
    def _on_service_model_loaded(self, info: ModelInfo) -> None:
        if info.notice:
            self.chat.add_info(info.notice)

    @Slot(str, str)
    def _on_service_model_failed(self, kind: str, message: str) -> None:
        self.chat.add_info(message, error=True)
        self.warn(
            "Cannot use the tutor's server" if kind == "server" else "Cannot load model", message
        )

    def _edit(self, command: str) -> None:
        """Cut, copy, paste or select all in the widget with the focus (the editor, the chat,
        the program's input...), as a menu item does in any editor."""
        target = QApplication.focusWidget()
        method = getattr(target, command, None)
        if target is None or not callable(method):
            method = getattr(self.editor, command)
        method()

    @Slot()
    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard Shortcuts (F1): every shortcut, made from the actions themselves."""
        rows = "".join(
            f"<tr><td><b>{html.escape(keys)}</b></td><td>&nbsp;&nbsp;{html.escape(what)}</td></tr>"
            for keys, what in self.actions.shortcut_rows()
        )
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(f"<table>{rows}</table>")
        box.setObjectName("shortcuts-sheet")
        box.open()
        self.shortcuts_box = box

    @Slot()
    def _focus_chat(self) -> None:
        self.chat.input.setFocus()

    @Slot()
    def _show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Code Tutor",
            f"Code Tutor {__version__} — a coding tutor that runs a local model beside a "
            "real editor.\nWorks offline; your code never leaves this computer.",
        )

    def closeEvent(self, event: QCloseEvent) -> None:
        """Offer to save; then tell the controllers (save, stop) and the composition root."""
        if not self.document.maybe_save():
            event.ignore()
            return
        self.sig_closing.emit()
        self.hide()  # a model still loading cannot be interrupted: let it finish out of sight
        self.sig_closed.emit()
        event.accept()
