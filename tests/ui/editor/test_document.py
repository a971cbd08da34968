"""The document controller with a scripted view: opening, saving, and asking before edits
are dropped, without building the whole app."""

from __future__ import annotations

import pytest
from fakes.view import ScriptedView

from app.ui.editor.document import DocumentController
from app.ui.editor.widget import CodeEditor


@pytest.fixture
def editor(qtbot):
    """A real Scintilla editor."""
    widget = CodeEditor()
    qtbot.addWidget(widget)
    return widget


def test_new_file_with_unsaved_edits_asks_and_cancel_keeps_them(editor, tmp_path):
    """File ▸ New over unsaved edits asks Save/Discard/Cancel; Cancel keeps the text."""
    view = ScriptedView(answers=["cancel"])
    doc = DocumentController(editor, view)
    editor.insert_at_cursor("draft = 1")
    doc.new_file()
    assert editor.text() == "draft = 1" and "Unsaved changes" in view.questions[0][0]


def test_save_asks_for_a_name_then_writes_and_titles_the_window(editor, tmp_path, qtbot):
    """Saving a new file asks where, writes it, and the title loses its star."""
    target = tmp_path / "hello.cpp"
    view = ScriptedView(files=[target])
    doc = DocumentController(editor, view)
    editor.insert_at_cursor("int main() {}\n")
    assert doc.title.startswith("*untitled")
    with qtbot.waitSignal(doc.sig_title_changed, timeout=1000) as titled:
        assert doc.save()
    assert target.read_text() == "int main() {}\n"
    assert titled.args == ["hello.cpp — Code Tutor"] and editor.language == "cpp"
    assert view.statuses == ["Saved hello.cpp"]


def test_opening_a_binary_file_warns_and_keeps_the_document(editor, tmp_path):
    """A binary file is refused with a warning; the editor keeps what it had."""
    binary = tmp_path / "image.py"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    view = ScriptedView()
    doc = DocumentController(editor, view)
    editor.set_text("kept")
    assert not doc.open_path(binary)
    assert view.warnings and view.warnings[0][0] == "Cannot open file"
    assert editor.text() == "kept" and doc.path is None


def test_save_as_starts_in_the_home_folder_then_where_the_learner_saved(editor, tmp_path):
    """Save As first offers the home folder, then the folder of the last save."""
    from pathlib import Path

    target = tmp_path / "mine" / "a.py"
    target.parent.mkdir()
    view = ScriptedView(files=[target, None])
    doc = DocumentController(editor, view)
    doc.save_as_dialog()
    doc.load_lesson_file(target, "python")  # now showing a lesson's file
    doc.save_as_dialog()
    assert view.starts == [str(Path.home() / "untitled.py"), str(target.parent / "a.py")]


def test_a_new_file_gets_the_usual_permissions(editor, tmp_path):
    """A file saved for the first time follows the umask (0644 under 022), not 0600."""
    import os

    old = os.umask(0o022)
    try:
        doc = DocumentController(editor, ScriptedView())
        editor.set_text("x = 1\n")
        assert doc.save_to(tmp_path / "new.py")
    finally:
        os.umask(old)
    assert (tmp_path / "new.py").stat().st_mode & 0o777 == 0o644
