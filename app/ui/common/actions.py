"""Every command of the app as an `ActionId`, with one shared QAction per id: a menu item and
its toolbar button are the same action, so they are enabled, disabled and relabelled in one
place, and a controller connects to the command without knowing where it is shown."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

StandardKey = QKeySequence.StandardKey


class ActionId(enum.Enum):
    """The app's commands."""

    NEW = "new"
    OPEN = "open"
    SAVE = "save"
    SAVE_AS = "save_as"
    QUIT = "quit"
    UNDO = "undo"
    REDO = "redo"
    CUT = "cut"
    COPY = "copy"
    PASTE = "paste"
    SELECT_ALL = "select_all"
    FIND = "find"
    REPLACE = "replace"
    FIND_NEXT = "find_next"
    FIND_PREVIOUS = "find_previous"
    ZOOM_IN = "zoom_in"
    ZOOM_OUT = "zoom_out"
    ZOOM_RESET = "zoom_reset"
    WORD_WRAP = "word_wrap"
    LESSONS_COLUMN = "lessons_column"
    INLINE_COMPLETION = "inline_completion"
    NEXT_PANEL = "next_panel"
    PREVIOUS_PANEL = "previous_panel"
    EXPLAIN = "explain"
    DEBUG = "debug"
    DOCUMENT = "document"
    ASK_TUTOR = "ask_tutor"
    STOP_ANSWER = "stop_answer"
    CLEAR_CONVERSATION = "clear_conversation"
    EXPORT_CONVERSATION = "export_conversation"
    RUN = "run"
    STOP_PROGRAM = "stop_program"
    CHECK = "check"
    HINT = "hint"
    PREVIOUS_LESSON = "previous_lesson"
    NEXT_LESSON = "next_lesson"
    RESET_LESSON = "reset_lesson"
    OPEN_LESSONS_FOLDER = "open_lessons_folder"
    MODELS = "models"
    OPEN_MODEL = "open_model"
    STARTER_MODEL = "starter_model"
    SHORTCUTS = "shortcuts"
    ABOUT = "about"


@dataclass(frozen=True)
class ActionSpec:
    """How an action is shown: its menu text, shortcut and status tip."""

    text: str
    shortcut: str | StandardKey | None = None
    tip: str = ""
    window_wide: bool = False  # the shortcut works wherever the focus is in the window
    checkable: bool = False  # an on/off switch (a tick in the menu)


SPECS: dict[ActionId, ActionSpec] = {
    ActionId.NEW: ActionSpec("&New", StandardKey.New),
    ActionId.OPEN: ActionSpec("&Open…", StandardKey.Open),
    ActionId.SAVE: ActionSpec("&Save", StandardKey.Save),
    ActionId.SAVE_AS: ActionSpec("Save &As…", "Ctrl+Shift+S"),
    ActionId.QUIT: ActionSpec("&Quit", StandardKey.Quit),
    ActionId.UNDO: ActionSpec("&Undo", StandardKey.Undo),
    ActionId.REDO: ActionSpec("&Redo", StandardKey.Redo),
    ActionId.CUT: ActionSpec("Cu&t", StandardKey.Cut),
    ActionId.COPY: ActionSpec("&Copy", StandardKey.Copy),
    ActionId.PASTE: ActionSpec("&Paste", StandardKey.Paste),
    ActionId.SELECT_ALL: ActionSpec("Select &All", StandardKey.SelectAll),
    ActionId.FIND: ActionSpec("&Find…", StandardKey.Find),
    ActionId.REPLACE: ActionSpec("R&eplace…", "Ctrl+H"),
    ActionId.FIND_NEXT: ActionSpec("Find &Next", "F3"),
    ActionId.FIND_PREVIOUS: ActionSpec("Find &Previous", "Shift+F3"),
    ActionId.ZOOM_IN: ActionSpec("Zoom &In", "Ctrl+="),
    ActionId.ZOOM_OUT: ActionSpec("Zoom &Out", "Ctrl+-"),
    ActionId.ZOOM_RESET: ActionSpec("&Reset Zoom", "Ctrl+0"),
    ActionId.WORD_WRAP: ActionSpec("&Word Wrap", "Alt+Z", "Wrap long lines", checkable=True),
    ActionId.LESSONS_COLUMN: ActionSpec(
        "&Lessons Column", "Ctrl+B", "Show or hide the lessons column", checkable=True
    ),
    ActionId.INLINE_COMPLETION: ActionSpec(
        "Inline &Completion",
        None,
        "Grey code proposals at the cursor (Tab accepts, Esc dismisses, Ctrl+Space asks)",
        checkable=True,
    ),
    ActionId.NEXT_PANEL: ActionSpec("Next &Panel", "Ctrl+Tab", window_wide=True),
    ActionId.PREVIOUS_PANEL: ActionSpec("Pre&vious Panel", "Ctrl+Shift+Tab", window_wide=True),
    ActionId.EXPLAIN: ActionSpec(
        "&Explain", "Ctrl+E", "The tutor explains the selected code (or the whole file)"
    ),
    ActionId.DEBUG: ActionSpec(
        "&Debug", "F8", "The tutor explains why the last Run or Check went wrong"
    ),
    ActionId.DOCUMENT: ActionSpec(
        "D&ocument", "Ctrl+Shift+D", "The tutor proposes comments for the selection or file"
    ),
    ActionId.ASK_TUTOR: ActionSpec("&Ask the Tutor", "Ctrl+L"),
    ActionId.STOP_ANSWER: ActionSpec("&Stop Answer", "Esc", window_wide=True),
    ActionId.CLEAR_CONVERSATION: ActionSpec(
        "&Clear Conversation", "Ctrl+Shift+L", "Clear the conversation and its stored copy"
    ),
    ActionId.EXPORT_CONVERSATION: ActionSpec(
        "E&xport Conversation…", None, "Save the conversation as a Markdown file"
    ),
    ActionId.RUN: ActionSpec("▶ Run", "F5", "Run your program"),
    ActionId.STOP_PROGRAM: ActionSpec("■ Stop", "Shift+F5", "Stop the running program"),
    ActionId.CHECK: ActionSpec("✓ Check", "F6", "Check your code against the lesson"),
    ActionId.HINT: ActionSpec("? Hint", "F7", "Show the next hint"),
    ActionId.PREVIOUS_LESSON: ActionSpec("&Previous Lesson", "Alt+Left"),
    ActionId.NEXT_LESSON: ActionSpec("&Next Lesson", "Alt+Right"),
    ActionId.RESET_LESSON: ActionSpec("R&eset to Starter…"),
    ActionId.OPEN_LESSONS_FOLDER: ActionSpec("&Open Lessons Folder…"),
    ActionId.MODELS: ActionSpec(
        "&Models…", None, "Download, check and choose models (Code Llama and your own)"
    ),
    ActionId.OPEN_MODEL: ActionSpec("&Open Model File…", "Ctrl+Shift+M"),
    ActionId.STARTER_MODEL: ActionSpec("Use the &Starter Model"),
    ActionId.SHORTCUTS: ActionSpec("&Keyboard Shortcuts", "F1"),
    ActionId.ABOUT: ActionSpec("&About Code Tutor"),
}


class Actions(QObject):
    """One QAction per ActionId, owned by the window they act in."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._actions: dict[ActionId, QAction] = {}
        for action_id, spec in SPECS.items():
            action = QAction(spec.text, parent)
            action.setObjectName(action_id.value)
            if isinstance(spec.shortcut, StandardKey):
                action.setShortcuts(spec.shortcut)  # every platform binding (Ctrl+Y, Ctrl+Shift+Z)
            elif spec.shortcut:
                action.setShortcut(QKeySequence(spec.shortcut))
            action.setCheckable(spec.checkable)
            if spec.window_wide:
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            if spec.tip:
                action.setStatusTip(spec.tip)
            shortcut = action.shortcut().toString()
            action.setToolTip(f"{spec.tip or action.text()} ({shortcut})" if shortcut else spec.tip)
            self._actions[action_id] = action

    def __getitem__(self, action_id: ActionId) -> QAction:
        return self._actions[action_id]

    def connect(self, action_id: ActionId, slot: object) -> None:
        """Run `slot` when the action is triggered (menu, button or shortcut)."""
        self._actions[action_id].triggered.connect(slot)

    def trigger(self, action_id: ActionId) -> None:
        """Trigger the action, as the learner would (tests, and other commands)."""
        self._actions[action_id].trigger()

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, what they do) for every action with a shortcut, in menu order."""
        rows = []
        for action_id in SPECS:
            action = self._actions[action_id]
            keys = ", ".join(
                k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()
            )
            if keys:
                rows.append((keys, action.text().replace("&", "").rstrip("…")))
        return rows

    def set_enabled(self, action_id: ActionId, enabled: bool, why_not: str = "") -> None:
        """Enable or disable the action everywhere it is shown; `why_not` becomes its tip."""
        action = self._actions[action_id]
        action.setEnabled(enabled)
        if why_not and not enabled:
            action.setToolTip(why_not)
