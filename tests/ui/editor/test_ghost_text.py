"""Ghost text in the real Scintilla editor: drawn at the caret, never part of the document;
Tab, Shift+Tab, Esc, typing through, and what saving and a killed app keep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from app_child import APP_CHILD_PREAMBLE
from fakes.backends import ScriptedBackend
from fakes.view import ScriptedView
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from app.core.models import ModelSpec
from app.llm.backend import ChatMessage, GenerationParams
from app.main import build_app
from app.settings import Settings
from app.ui.editor.document import DocumentController
from app.ui.editor.widget import CodeEditor

SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def editor(qtbot):
    """A shown Python editor."""
    e = CodeEditor()
    e.resize(600, 300)
    e.set_language("python")
    qtbot.addWidget(e)
    e.show()
    qtbot.waitExposed(e)
    return e


def _caret_after(editor: CodeEditor, text: str, before: str) -> None:
    """Set `text` and put the caret right after the first `before` in it."""
    editor.set_text(text)
    editor.gotoPos(len(text[: text.index(before) + len(before)].encode("utf-8")))


def _changed_columns(a: QImage, b: QImage, top: int, bottom: int) -> list[int]:
    """The x of every column where the two grabs differ between rows top and bottom."""
    return [
        x
        for x in range(a.width())
        if any(a.pixel(x, y) != b.pixel(x, y) for y in range(top, bottom))
    ]


def _grab(editor: CodeEditor) -> QImage:
    editor.setCaretPeriod(0)  # a blinking caret would differ between two grabs
    return editor.grab().toImage()


def test_ghost_text_is_drawn_at_the_caret_and_is_no_part_of_the_document(editor):
    """Ghost text shows right of the caret, but the text, the modified flag and undo are as
    before."""
    _caret_after(editor, "def add(a, b):\n    return\n", "return")
    editor.setCaretPeriod(0)
    before = _grab(editor)
    editor.show_ghost(" a + b")
    after = _grab(editor)
    y, height = editor.pointYFromPosition(editor.currentPos()), editor.textHeight(1)
    changed = _changed_columns(before, after, y, y + height)
    caret_x = editor.pointXFromPosition(editor.currentPos())
    assert changed and caret_x - 1 <= min(changed) and max(changed) > caret_x + 20
    assert _changed_columns(before, after, 0, y) == []  # the line above is untouched
    assert editor.ghost_text == " a + b"
    assert editor.text() == "def add(a, b):\n    return\n"
    assert not editor.is_modified() and not editor.canUndo()


def test_tab_accepts_the_whole_proposal_as_one_undo_step(editor, qtbot):
    """Tab inserts every line of the ghost text; one undo takes all of it back."""
    _caret_after(editor, "def add(a, b):\n    \n", "    ")
    editor.show_ghost("total = a + b\n    return total")
    assert editor.annotation(2) == "    return total"  # the second line shows under the caret's
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.text() == "def add(a, b):\n    total = a + b\n    return total\n"
    assert editor.ghost_text == "" and editor.annotation(2) == ""
    assert editor.cursor_line() == 3 and editor.currentPos() == editor.lineEndPosition(2)
    editor.undo()
    assert editor.text() == "def add(a, b):\n    \n"


def test_shift_tab_accepts_the_first_line_and_keeps_the_rest_as_ghost_text(editor, qtbot):
    """Shift+Tab inserts the first line only; the next Shift+Tab the next line; Tab the rest."""
    _caret_after(editor, "x = [\n", "[")
    editor.show_ghost("1,\n    2,\n    3,\n]")
    qtbot.keyClick(editor, Qt.Key.Key_Backtab, SHIFT)
    assert editor.text() == "x = [1,\n" and editor.ghost_text == "\n    2,\n    3,\n]"
    qtbot.keyClick(editor, Qt.Key.Key_Tab, SHIFT)  # some platforms send Tab with Shift
    assert editor.text() == "x = [1,\n    2,\n" and editor.ghost_text == "\n    3,\n]"
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.text() == "x = [1,\n    2,\n    3,\n]\n" and editor.ghost_text == ""


def test_esc_dismisses_the_ghost_text_and_changes_nothing(editor, qtbot):
    """Esc takes the ghost text away; the text and the caret stay as they were."""
    _caret_after(editor, "print()\n", "print(")
    editor.show_ghost('"hi"')
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert editor.ghost_text == "" and editor.text() == "print()\n"
    assert editor.currentPos() == len("print(")


def test_typing_the_start_of_the_ghost_text_keeps_its_rest(editor, qtbot):
    """Typing the characters the ghost text starts with keeps the rest showing, also across
    Enter (with its auto-indent); typing all of it leaves none."""
    _caret_after(editor, "def f(a):\n", "(a):")
    editor.show_ghost("\n    return a + 1")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # auto-indent types the 4 spaces too
    assert editor.ghost_text == "return a + 1" and editor.text() == "def f(a):\n    \n"
    qtbot.keyClicks(editor, "return a")
    assert editor.ghost_text == " + 1"
    qtbot.keyClicks(editor, " + 1")
    assert editor.ghost_text == "" and editor.text() == "def f(a):\n    return a + 1\n"


def test_typing_something_else_or_moving_the_caret_drops_the_ghost_text(editor, qtbot):
    """A different character, an arrow key or a click takes the ghost text away."""
    _caret_after(editor, "total = \nnext_line = 2\n", "= ")
    editor.show_ghost("a + b")
    qtbot.keyClicks(editor, "x")
    assert editor.ghost_text == "" and editor.text() == "total = x\nnext_line = 2\n"
    editor.show_ghost(" + y")
    qtbot.keyClick(editor, Qt.Key.Key_Left)
    assert editor.ghost_text == ""
    editor.gotoPos(editor.lineEndPosition(0))
    editor.show_ghost(" + y")
    line_two = QPoint(
        editor.pointXFromPosition(editor.positionFromLine(1)) + 5,
        editor.pointYFromPosition(editor.positionFromLine(1)) + 5,
    )
    qtbot.mouseClick(editor.viewport(), Qt.MouseButton.LeftButton, pos=line_two)
    assert editor.ghost_text == "" and editor.cursor_line() == 2
    editor.show_ghost("ghost")
    editor.undo()  # any edit that is not typing (undo, paste, a program's) drops it too
    assert editor.ghost_text == ""


def test_without_ghost_text_tab_shift_tab_and_esc_work_as_before(editor, qtbot):
    """Tab indents, Shift+Tab dedents and Esc leaves the text alone when no ghost text shows."""
    editor.set_text("x = 1\n")
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.text() == "    x = 1\n"
    qtbot.keyClick(editor, Qt.Key.Key_Backtab, SHIFT)
    assert editor.text() == "x = 1\n"
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert editor.text() == "x = 1\n"


def test_empty_or_white_space_ghost_text_shows_nothing(editor):
    """A proposal of nothing, or only blanks and line breaks, shows no ghost text."""
    _caret_after(editor, "x = \n", "= ")
    for text in ("", "   ", "\n\n  \n", "\t"):
        editor.show_ghost(text)
        assert editor.ghost_text == "" and editor.annotation(1) == ""


def test_ghost_text_after_a_non_ascii_name_is_placed_and_inserted_at_the_caret(editor, qtbot):
    """After "naïve_" (7 bytes, 6 characters) the ghost text starts at the caret and Tab
    inserts it there."""
    _caret_after(editor, "naïve_\nother = 1\n", "naïve_")
    before = _grab(editor)
    editor.show_ghost("count = 1")
    after = _grab(editor)
    y, height = editor.pointYFromPosition(editor.currentPos()), editor.textHeight(0)
    changed = _changed_columns(before, after, y, y + height)
    caret_x = editor.pointXFromPosition(editor.currentPos())
    one_char = editor.textWidth(32, "m")
    assert caret_x - 1 <= min(changed) < caret_x + one_char // 2
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.text() == "naïve_count = 1\nother = 1\n"
    assert editor.currentPos() == len("naïve_count = 1".encode())


def test_the_rest_of_the_line_shows_after_the_ghost_text(editor, qtbot, tmp_path):
    """Mid-line, the text right of the caret moves right of the ghost text (as Tab would put
    it); after a multi-line proposal it ends the last ghost line."""
    _caret_after(editor, "print()\nfor x in range():\n", "print(")
    editor.show_ghost('"hi"')
    after_print = _grab(editor)
    _caret_after(editor, 'print("hi")\nfor x in range():\n', "print(")
    typed = _grab(editor)
    y = editor.pointYFromPosition(0)
    # only the ghost text's own letters differ (italic grey against upright green)
    changed = _changed_columns(after_print, typed, y, y + editor.textHeight(0))
    close_paren_x = editor.pointXFromPosition(len('print("hi"'))
    assert changed and max(changed) < close_paren_x
    _caret_after(editor, "for x in range():\n", "range(")
    editor.show_ghost("len(items)):\n    print(x")
    assert editor.annotation(1) == "    print(x):"
    editor.grab().save(str(tmp_path / "ghost.png"))  # to look at by hand


def test_saving_while_ghost_text_shows_writes_only_the_learners_code(editor, tmp_path):
    """File ▸ Save with ghost text showing writes the text without it; the ghost stays."""
    target = tmp_path / "main.py"
    doc = DocumentController(editor, ScriptedView())
    _caret_after(editor, "def add(a, b):\n    return\n", "return")
    editor.insert_at_cursor(" a")
    editor.show_ghost(" + b\n# done")
    assert editor.is_modified()
    assert doc.save_to(target)
    assert target.read_text() == "def add(a, b):\n    return a\n"
    assert editor.ghost_text == " + b\n# done" and not editor.is_modified()


def test_an_error_message_under_the_line_stays_under_the_ghost_text(editor):
    """Ghost lines go above an error message on the same line; the message is back as it
    was when the ghost text goes."""
    _caret_after(editor, "x = y\n", "x = y")
    editor.show_error(1, "NameError: name 'y' is not defined")
    editor.gotoPos(len("x = y"))
    editor.show_ghost("\nprint(x)")
    assert editor.annotation(1) == "print(x)\nNameError: name 'y' is not defined"
    editor.clear_ghost()
    assert editor.annotation(1) == "NameError: name 'y' is not defined"
    assert editor.error_lines() == [1]


SPEC = ModelSpec(Path("scripted.gguf"), "Scripted model")


def test_esc_with_ghost_text_only_dismisses_it_and_the_tutors_answer_goes_on(qtbot):
    """In the window, Esc over ghost text dismisses it and does not stop the streaming answer;
    the next Esc stops it."""
    backend = ScriptedBackend(" ".join(["word"] * 50), paced=True)
    parts = build_app(Settings(), backend=backend)
    qtbot.addWidget(parts.window)
    parts.window.ask_save_discard_cancel = lambda _title, _text: "discard"
    w = parts.window
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=3000)
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=5000):
        parts.service.load_model(SPEC)
    try:
        chat = parts.service.send_chat([ChatMessage("user", "Hi")], GenerationParams())
        w.editor.set_text("x = ")
        w.editor.gotoPos(4)
        w.editor.focus()
        qtbot.waitUntil(w.editor.hasFocus, timeout=3000)
        w.editor.show_ghost("1")
        qtbot.keyClick(w.editor, Qt.Key.Key_Escape)
        assert w.editor.ghost_text == "" and not chat.cancelled
        qtbot.keyClick(w.editor, Qt.Key.Key_Escape)
        assert chat.cancelled and w.editor.text() == "x = "
    finally:
        backend.run_free()
        w.editor.set_text("")
        parts.service.shutdown()


LESSON = "python-basics/02-input"
CHILD = (
    APP_CHILD_PREAMBLE
    + r"""
from PySide6.QtCore import Qt

editor = parts.window.editor

def start():
    editor.gotoPos(editor.textLength())
    QTest.keyClick(editor, Qt.Key.Key_Return)
    QTest.keyClicks(editor, "answer = 42")
    editor.show_ghost("  # GHOST_TEXT_NEVER_SAVED\nprint(answer)")

def saved(path):
    print("SAVED", path, repr(editor.ghost_text), flush=True)

parts.lessons.sig_autosaved.connect(saved)
QTimer.singleShot(100, start)
app.exec()
"""
)


@pytest.mark.slow
def test_a_killed_app_never_has_ghost_text_in_the_lesson_file(tmp_path):
    """The app autosaves while ghost text shows and is killed: the file has the typed code
    and not the ghost text."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CODETUTOR_HOME=str(tmp_path))
    env["CODETUTOR_SITE_CONFIG"] = str(tmp_path / "site")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, LESSON], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    word, path, ghost = line.split(" ", 2)
    assert word == "SAVED" and "GHOST_TEXT_NEVER_SAVED" in ghost  # it showed while saving
    text = Path(path).read_text()
    assert text.endswith("\nanswer = 42") and "GHOST" not in text and "print(answer)" not in text
