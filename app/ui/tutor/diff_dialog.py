"""The Document proposal shown as a diff the learner applies or rejects, and applying it to the
editor as one undo step."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontDatabase,
    QKeySequence,
    QShortcut,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.tutor.document import DocProposal
from app.ui.common.theme import THEME, notice_style
from app.ui.editor.widget import CodeEditor

ADDED_BACK = "#e6ffec"
"""The tint of an added line (a light green that keeps the theme's text readable)."""
REMOVED_BACK = THEME.failure_back
"""The tint of a removed line."""
SIGNS = {"same": " ", "added": "+", "removed": "\u2212"}
"""The sign before each kind of line: nothing, "+", "−"."""

_NEWLINE = re.compile(r"\r\n|\r|\n")

Selection = tuple[int, int, int, int]
"""(first line, its column, last line, its column): lines from 0, columns in characters, the
end exclusive, as QScintilla's getSelection gives them."""


class DiffDialog(QDialog):
    """A proposal as a diff: a title, what it does in plain words, the lines added ("+") and
    removed ("−"), and Apply (Enter, Ctrl+Enter) or Reject (Esc).

    The dialog only asks; the caller applies the proposal (`apply_proposal`) when it is
    accepted.

    Args:
        proposal: the proposal to show.
        title: what it is for ("Comments proposed for lines 3–7 of main.py").
        parent: the window it belongs to.
    """

    def __init__(self, proposal: DocProposal, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.proposal = proposal
        self.setWindowTitle("Document")
        self.title_label = QLabel(title)
        heading = self.title_label.font()
        heading.setBold(True)
        heading.setPointSizeF(heading.pointSizeF() * 1.15)
        self.title_label.setFont(heading)
        self.title_label.setWordWrap(True)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label = QLabel(proposal.summary)
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        if proposal.code_changed:
            self.summary_label.setStyleSheet(notice_style())
        else:
            self.summary_label.setStyleSheet(f"QLabel {{ color:{THEME.muted}; }}")
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.view.setTabStopDistance(self.view.fontMetrics().horizontalAdvance(" ") * 4)
        self.view.setAccessibleName("Proposed changes")
        self.view.setStyleSheet(
            f"QPlainTextEdit {{ background:{THEME.background}; color:{THEME.text}; }}"
        )
        self._fill_view()
        buttons = QDialogButtonBox()
        self.apply_button = QPushButton("Apply")
        self.reject_button = QPushButton("Reject")
        self.apply_button.setToolTip(
            "Put the proposal into the editor (Ctrl+Enter; undo with Ctrl+Z)"
        )
        self.reject_button.setToolTip("Keep your code as it is (Esc)")
        buttons.addButton(self.apply_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.reject_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.apply_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title_label)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self._size_to_diff()
        self.view.setFocus()

    def _fill_view(self) -> None:
        """Write the diff: a line number (the learner's), the sign, the line; tinted rows."""
        proposal = self.proposal
        last = max((line.old_line or 0 for line in proposal.diff), default=0)
        width = len(str(last + proposal.first_line - 1))
        cursor = QTextCursor(self.view.document())
        number = _char_format(THEME.line_number)
        text = _char_format(THEME.text)
        signs = {
            "same": _char_format(THEME.text),
            "added": _char_format(THEME.passed, bold=True),
            "removed": _char_format(THEME.failed, bold=True),
        }
        backs = {"same": None, "added": ADDED_BACK, "removed": REMOVED_BACK}
        for index, line in enumerate(proposal.diff):
            block = QTextBlockFormat()
            if backs[line.kind]:
                block.setBackground(QBrush(QColor(backs[line.kind])))
            if index == 0:
                cursor.setBlockFormat(block)
            else:
                cursor.insertBlock(block)
            shown = "" if line.old_line is None else str(line.old_line + proposal.first_line - 1)
            cursor.insertText(f"{shown:>{width}} ", number)
            cursor.insertText(f"{SIGNS[line.kind]} ", signs[line.kind])
            cursor.insertText(line.text, text)
        self.view.moveCursor(QTextCursor.MoveOperation.Start)
        first_change = next((i for i, line in enumerate(proposal.diff) if line.kind != "same"), 0)
        block = self.view.document().findBlockByNumber(max(first_change - 2, 0))
        self.view.setTextCursor(QTextCursor(block))

    def _size_to_diff(self) -> None:
        metrics = self.view.fontMetrics()
        longest = max((len(line.text.expandtabs(4)) for line in self.proposal.diff), default=0)
        width = metrics.horizontalAdvance("x") * (longest + 10) + 60
        height = metrics.lineSpacing() * (len(self.proposal.diff) + 1) + 160
        self.resize(min(max(width, 520), 1000), min(max(height, 300), 640))

    def diff_lines(self) -> list[str]:
        """The diff as the learner reads it, one string per row ("  3 + # a comment")."""
        return self.view.toPlainText().split("\n")


def _char_format(colour: str, *, bold: bool = False) -> QTextCharFormat:
    form = QTextCharFormat()
    form.setForeground(QBrush(QColor(colour)))
    form.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
    return form


def editor_selection(editor: CodeEditor) -> Selection | None:
    """The editor's selection as (first line, column, last line, column), None when empty.

    Take it when the request is made, with the selected text as the proposal's original.
    """
    if editor.selectionEmpty():
        return None
    raw = editor.text().encode("utf-8")
    start = len(raw[: editor.selectionStart()].decode("utf-8", errors="replace"))
    end = len(raw[: editor.selectionEnd()].decode("utf-8", errors="replace"))
    text = editor.text()
    return (*_line_column(text, start), *_line_column(text, end))


def apply_proposal(editor: CodeEditor, proposal: DocProposal, selection: Selection | None) -> bool:
    """Put the proposal into the editor in place of the selection (or the whole text), as one
    undo step; the new text is left selected.

    Args:
        editor: the learner's editor.
        proposal: the accepted proposal.
        selection: where its original was (see `editor_selection`), or None for the whole text.

    Returns:
        True when applied; False, changing nothing, when the editor's text there is no longer
        the proposal's original (the learner typed meanwhile).
    """
    text = editor.text()
    if selection is None:
        start, end = 0, len(text)
    else:
        start = _offset(text, selection[0], selection[1])
        end = _offset(text, selection[2], selection[3])
        if start is None or end is None or end < start:
            return False
    if text[start:end] != proposal.original:
        return False
    byte_start = len(text[:start].encode("utf-8"))
    byte_end = byte_start + len(proposal.original.encode("utf-8"))
    new = proposal.proposed.encode("utf-8")
    editor.beginUndoAction()
    try:
        editor.setTargetRange(byte_start, byte_end)
        editor.replaceTarget(len(new), proposal.proposed)
    finally:
        editor.endUndoAction()
    editor.setSel(byte_start, byte_start + len(new))
    editor.scrollCaret()
    return True


def _line_starts(text: str) -> list[int]:
    return [0] + [match.end() for match in _NEWLINE.finditer(text)]


def _line_column(text: str, offset: int) -> tuple[int, int]:
    starts = _line_starts(text)
    line = max(i for i, start in enumerate(starts) if start <= offset)
    return line, offset - starts[line]


def _offset(text: str, line: int, column: int) -> int | None:
    """The character offset of (line, column), or None when the text has no such place."""
    starts = _line_starts(text)
    if not 0 <= line < len(starts) or column < 0:
        return None
    end = starts[line + 1] if line + 1 < len(starts) else len(text)
    offset = starts[line] + column
    return offset if offset <= end else None


def select_whole_lines(editor: CodeEditor, first: int, last: int) -> Selection | None:
    """Select lines `first` to `last` (from 1) whole, their line breaks included, and
    return the new selection (Document proposes comments for whole lines)."""
    text = editor.text()
    starts = _line_starts(text)
    if not 1 <= first <= last <= len(starts):
        return editor_selection(editor)
    start = starts[first - 1]
    end = starts[last] if last < len(starts) else len(text)
    editor.setSel(len(text[:start].encode("utf-8")), len(text[:end].encode("utf-8")))
    return editor_selection(editor)
