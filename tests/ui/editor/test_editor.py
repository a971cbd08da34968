"""The Scintilla code editor: highlighting, auto-indent, find, zoom, undo."""

import pytest
from PySide6.QtCore import Qt

from app.ui.editor.widget import CodeEditor

SAMPLES = {
    "python": ('def f():\n    s = "hi"  # note\n', "def", '"hi"', "# note"),
    "cpp": ('int main() { const char* s = "x"; // c\n}\n', "int", '"x"', "// c"),
    "javascript": ('let s = "x"; // c\n', "let", '"x"', "// c"),
    "java": ('public class A { String s = "x"; // c\n}\n', "public", '"x"', "// c"),
    "bash": ('if true; then echo "x"; fi # c\n', "if", '"x"', "# c"),
    "php": ('<?php\nfunction f() { $s = "x"; // c\n}\n', "function", '"x"', "// c"),
}


@pytest.fixture
def editor(qtbot):
    """A shown CodeEditor."""
    e = CodeEditor()
    e.resize(600, 300)
    qtbot.addWidget(e)
    e.show()
    return e


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_keyword_string_and_comment_styles_differ(editor, language):
    """Lexilla gives keywords, strings and comments three different styles."""
    code, keyword, string, comment = SAMPLES[language]
    editor.set_language(language)
    editor.set_text(code)
    styles = [editor.style_at(code.index(token)) for token in (keyword, string, comment)]
    assert len(set(styles)) == 3, styles
    assert 0 not in styles


def test_plain_text_has_no_highlighting(editor):
    """Files of unknown type are shown unstyled."""
    editor.set_language("text")
    editor.set_text("def x # y")
    assert editor.style_at(0) == editor.style_at(6) == 0


def test_auto_indent_after_block_opener(editor, qtbot):
    """Enter after a line ending in ':' indents the next line one level deeper."""
    editor.set_language("python")
    editor.set_text("    if x:")
    editor.gotoPos(len("    if x:"))
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.keyClicks(editor, "y = 1")
    assert editor.text() == "    if x:\n        y = 1"


def test_undo_redo_and_modified_flag(editor, qtbot):
    """Typing marks the text modified; undo restores it; redo brings the edit back."""
    editor.set_text("a")
    assert not editor.is_modified()
    editor.gotoPos(1)
    qtbot.keyClicks(editor, "bc")
    assert editor.text() == "abc" and editor.is_modified()
    editor.undo()
    assert editor.text() == "a"
    editor.redo()
    assert editor.text() == "abc"


def test_find_wraps_and_respects_case(editor):
    """Find selects the next match, wraps around, and honours Match case."""
    editor.set_text("Apple apple APPLE")
    assert editor.find("apple") and editor.selectionStart() == 0
    assert editor.find("apple") and editor.selectionStart() == 6
    assert editor.find("apple", match_case=True) and editor.selectionStart() == 6
    assert editor.find("apple", match_case=True) and editor.selectionStart() == 6  # wrapped
    assert not editor.find("pear")
    assert editor.find("APPLE", forward=False)


def test_replace_and_replace_all_through_the_find_bar(editor, qtbot):
    """Ctrl+H's bar replaces one match at a time or all at once, and Replace all is one
    undo step."""
    from app.ui.editor.find_bar import FindBar

    bar = FindBar(editor)
    qtbot.addWidget(bar)
    editor.set_text("total = total + total_count\n")
    bar.open_replace()
    assert bar.replace_row.isVisible()
    bar.field.setText("total")
    bar.replace_field.setText("sum")
    assert bar.find_next() and bar.replace_next()
    assert editor.text() == "sum = total + total_count\n"
    assert bar.replace_all() == 2 and bar.status.text() == "Replaced 2"
    assert editor.text() == "sum = sum + sum_count\n"
    editor.undo()
    assert editor.text() == "sum = total + total_count\n"
    bar.open_bar()
    assert not bar.replace_row.isVisible()


def test_zoom_in_out_and_reset(editor):
    """Zoom changes the text size within limits and resets to normal."""
    editor.zoom_in()
    editor.zoom_in()
    assert editor.zoom_level() == 2
    editor.zoom_out()
    assert editor.zoom_level() == 1
    editor.zoom_reset()
    assert editor.zoom_level() == 0


def test_unicode_text_round_trips(editor):
    """Non-ASCII text goes in and comes out unchanged."""
    editor.set_text("print('héllo wörld ✓')\n")
    assert editor.text() == "print('héllo wörld ✓')\n"
    editor.insert_at_cursor("# ünï\n")
    assert editor.text().startswith("# ünï\n")


def test_redo_has_every_platform_shortcut(qtbot):
    """Redo answers to both Ctrl+Y and Ctrl+Shift+Z, as the README says."""
    from app.main import build_app
    from app.settings import Settings

    parts = build_app(Settings())
    qtbot.addWidget(parts.window)
    redo = next(
        a
        for m in parts.window.menuBar().actions()
        for a in m.menu().actions()
        if a.text() == "&Redo"
    )
    keys = {k.toString() for k in redo.shortcuts()}
    assert {"Ctrl+Y", "Ctrl+Shift+Z"} <= keys
    parts.service.shutdown()


def test_word_wrap_switches_on_and_off(editor):
    """View ▸ Word Wrap wraps long lines; off again, they scroll sideways."""
    editor.set_word_wrap(True)
    assert editor.word_wrap()
    editor.set_word_wrap(False)
    assert not editor.word_wrap()
