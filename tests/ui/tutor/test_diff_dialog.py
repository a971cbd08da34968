"""The Document diff dialog and applying its proposal to the real editor, as one undo step."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QDialog

from app.core.tutor.document import proposal_from_reply
from app.ui.common.theme import THEME
from app.ui.editor.widget import CodeEditor
from app.ui.tutor.diff_dialog import (
    ADDED_BACK,
    REMOVED_BACK,
    DiffDialog,
    apply_proposal,
    editor_selection,
)

CODE = "import math\n\ndef circle(r):\n    return math.pi * r * r\n\nprint(circle(2))\n"
LINES_3_4 = "def circle(r):\n    return math.pi * r * r\n"
DOCUMENTED = (
    "def circle(r):\n"
    '    """The area of a circle of radius r."""\n'
    "    # pi times r squared\n"
    "    return math.pi * r * r"
)


def reply_with(code: str) -> str:
    """A tutor reply with `code` in a Python block."""
    return f"Here you are:\n\n```python\n{code}\n```\n"


@pytest.fixture
def editor(qtbot):
    """A shown CodeEditor holding CODE."""
    e = CodeEditor()
    e.set_language("python")
    e.set_text(CODE)
    e.resize(600, 300)
    qtbot.addWidget(e)
    e.show()
    return e


def select_lines(editor: CodeEditor, first: int, last: int) -> None:
    """Select whole lines `first`..`last` (from 1), their final newline included."""
    editor.setSel(editor.positionFromLine(first - 1), editor.positionFromLine(last))


def shown(qtbot, proposal, title="Comments proposed for lines 3–4 of main.py") -> DiffDialog:
    """The dialog for `proposal`, shown (not modal, so the test can press its keys)."""
    dialog = DiffDialog(proposal, title)
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog


def test_apply_on_a_selection_replaces_only_its_lines_and_one_undo_restores(editor, qtbot):
    """Apply puts the comments into the selected lines only; one Ctrl+Z gives the code back."""
    select_lines(editor, 3, 4)
    selection = editor_selection(editor)
    assert selection == (2, 0, 4, 0)
    proposal = proposal_from_reply(reply_with(DOCUMENTED), editor.selected_text(), "python")
    dialog = shown(qtbot, proposal)
    qtbot.mouseClick(dialog.apply_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert apply_proposal(editor, proposal, selection)
    assert editor.text() == CODE.replace(
        "    return",
        '    """The area of a circle of radius r."""\n    # pi times r squared\n    return',
    )
    assert editor.selected_text() == proposal.proposed
    editor.undo()
    assert editor.text() == CODE


def test_apply_on_the_whole_file(editor, qtbot):
    """With no selection the proposal replaces the whole text, still one undo step."""
    whole = CODE.replace("print(", "# Show the area of a circle of radius 2.\nprint(")
    proposal = proposal_from_reply(reply_with(whole), editor.text(), "python")
    assert apply_proposal(editor, proposal, None)
    assert editor.text() == whole
    editor.undo()
    assert editor.text() == CODE
    assert not editor.is_modified()


def test_reject_and_escape_leave_the_code_alone(editor, qtbot):
    """Reject (the button or Esc) closes the dialog rejected; the editor is unchanged."""
    proposal = proposal_from_reply(reply_with(DOCUMENTED), editor.text(), "python")
    dialog = shown(qtbot, proposal)
    qtbot.mouseClick(dialog.reject_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()
    dialog = shown(qtbot, proposal)
    qtbot.keyClick(dialog.view, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()
    assert editor.text() == CODE


def test_keyboard_applies_with_ctrl_enter_and_enter(editor, qtbot):
    """Ctrl+Enter anywhere, or Enter on the focused diff, accepts: Apply is the default."""
    proposal = proposal_from_reply(reply_with(DOCUMENTED), editor.text(), "python")
    dialog = shown(qtbot, proposal)
    assert dialog.apply_button.isDefault()
    qtbot.keyClick(dialog.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    dialog = shown(qtbot, proposal)
    dialog.view.setFocus()
    qtbot.keyClick(dialog.view, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_long_diff_scrolls_by_keyboard_and_tab_reaches_the_buttons(qtbot):
    """The diff has the focus: Page Down scrolls it, Tab goes on to Apply and Reject."""
    original = "".join(f"x{i} = {i}\n" for i in range(80))
    documented = "\n".join(f"# the number {i}\nx{i} = {i}" for i in range(80))
    proposal = proposal_from_reply(reply_with(documented), original, "python")
    dialog = shown(qtbot, proposal)
    assert dialog.focusWidget() is dialog.view
    before = dialog.view.verticalScrollBar().value()
    qtbot.keyClick(dialog.view, Qt.Key.Key_PageDown)
    assert dialog.view.verticalScrollBar().value() > before
    qtbot.keyClick(dialog.view, Qt.Key.Key_Tab)
    assert dialog.focusWidget() in (dialog.apply_button, dialog.reject_button)


def test_stale_proposal_is_refused_and_nothing_typed_is_lost(editor, qtbot):
    """When the learner typed in the lines meanwhile, Apply refuses and keeps their text."""
    select_lines(editor, 3, 4)
    selection = editor_selection(editor)
    proposal = proposal_from_reply(reply_with(DOCUMENTED), editor.selected_text(), "python")
    editor.gotoPos(editor.positionFromLine(3) + len("    return"))
    qtbot.keyClicks(editor, " 2 *")
    typed = editor.text()
    assert not apply_proposal(editor, proposal, selection)
    assert editor.text() == typed
    editor.set_text("print('new file')\n")
    assert not apply_proposal(editor, proposal, None)
    assert not apply_proposal(editor, proposal, (40, 0, 41, 0))
    assert editor.text() == "print('new file')\n"


def test_diff_shows_added_lines_green_with_plus_and_removed_red_with_minus(qtbot):
    """Each row shows the learner's line number, + or −, and its tint."""
    proposal = proposal_from_reply(
        reply_with("x = 1  # start\ny = 2"), "x = 1\ny = 2\n", "python", first_line=7
    )
    dialog = shown(qtbot, proposal)
    assert dialog.diff_lines() == ["7 − x = 1", "  + x = 1  # start", "8   y = 2"]
    document = dialog.view.document()
    backs = [document.findBlockByNumber(i).blockFormat().background() for i in range(3)]
    assert backs[0].color().name() == REMOVED_BACK
    assert backs[1].color().name() == ADDED_BACK
    assert backs[2].style() == Qt.BrushStyle.NoBrush
    assert dialog.view.isReadOnly()
    assert QFontInfo(dialog.view.font()).fixedPitch()


def test_comment_only_summary_is_plain_and_code_change_is_a_warning(qtbot):
    """A comment-only proposal says what it adds; a code change is a visible warning."""
    comments = proposal_from_reply(reply_with(DOCUMENTED), LINES_3_4, "python", first_line=3)
    dialog = shown(qtbot, comments)
    assert dialog.title_label.text() == "Comments proposed for lines 3–4 of main.py"
    assert dialog.summary_label.text() == "Adds 2 comment lines."
    assert THEME.notice_back not in dialog.summary_label.styleSheet()
    dialog.grab().save("/tmp/diff_dialog_comments.png")

    changing = proposal_from_reply(
        reply_with(DOCUMENTED.replace("r * r", "r ** 2")), LINES_3_4, "python", first_line=3
    )
    dialog = shown(qtbot, changing)
    assert dialog.summary_label.text().startswith(
        "Careful: this also changes your code on line 4, not only comments."
    )
    assert THEME.notice_back in dialog.summary_label.styleSheet()
    assert dialog.summary_label.isVisible()
    dialog.grab().save("/tmp/diff_dialog.png")
