"""The code editor: Scintilla (pyside6-scintilla) with Lexilla highlighting.

Every Scintilla call in the app lives in this module, so swapping the widget touches one file.
Positions in Scintilla are byte offsets in UTF-8; this class speaks str to its callers.

Ghost text (an inline completion's proposal) is drawn, never inserted: its first line is painted
over the text area at the caret (the rest of the caret's line moved right of it), the lines after
it are an annotation under the caret's line. The document, undo, saving and `text()` never see it.
"""

from __future__ import annotations

import math

import lexilla
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QInputMethodEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import QWidget
from pyside6_scintilla import ScintillaEdit

from app.ui.common.theme import THEME, rgb
from app.ui.editor.languages import LEXERS, style_for_tags

STYLE_DEFAULT = 32
STYLE_LINENUMBER = 33
SCFIND_MATCHCASE = 4
SC_WRAP_NONE = 0
SC_WRAP_WORD = 1
SC_MARGIN_NUMBER = 1
MARGIN_LINE_NUMBERS = 0
MARGIN_SYMBOLS = 1
ELEMENT_CARET_LINE_BACK = 50
ZOOM_MIN, ZOOM_MAX = -8, 20
MARKER_ERROR = 0
SC_MARK_CIRCLE = 0
ANNOTATION_STANDARD = 1
ANNOTATION_BOXED = 2
# Annotation styles, relative to the editor's annotation style offset.
ANNOTATION_ERROR, ANNOTATION_GHOST, ANNOTATION_GHOST_REST = 0, 1, 2
MODIFIER_KEYS = (Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt, Qt.Key.Key_Meta)
EDITING_KEYS = (
    Qt.Key.Key_Return,
    Qt.Key.Key_Enter,
    Qt.Key.Key_Backspace,
    Qt.Key.Key_Delete,
    Qt.Key.Key_Tab,
)
GHOST_KEYS = (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Escape)
NO_MODS = Qt.KeyboardModifier.NoModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def _bgr(rgb: int) -> int:
    """Scintilla colours are 0xBBGGRR."""
    return ((rgb & 0xFF) << 16) | (rgb & 0xFF00) | ((rgb >> 16) & 0xFF)


class CodeEditor(ScintillaEdit):
    """A source editor: line numbers, current-line highlight, highlighting, auto-indent, find."""

    sig_modification_changed = Signal(bool)
    """(modified): the text now differs from (or again matches) the last save."""
    sig_text_changed = Signal()
    """The text changed (typing, undo, paste, set_text)."""
    sig_zoom_changed = Signal(int)
    """(points): the zoom changed; the other panels follow it."""
    sig_typed = Signal()
    """The learner changed the text at the keyboard: typed, deleted, broke a line (not a paste,
    an undo, or an edit by the program)."""
    sig_completion_requested = Signal()
    """Ctrl+Space: the learner asked for a completion at the caret."""
    sig_ghost_accepted = Signal(str)
    """(text): the learner accepted ghost text (Tab: all of it, Shift+Tab: its first line);
    it is in the document now, the caret after it."""
    sig_ghost_painted = Signal()
    """Ghost text given to `show_ghost` was painted for the first time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._language = "text"
        self._font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
        self._font_size = 11
        self.setUseTabs(False)
        self.setTabWidth(4)
        self.setIndent(4)
        self.setMarginTypeN(MARGIN_LINE_NUMBERS, SC_MARGIN_NUMBER)
        self.setMarginWidthN(MARGIN_SYMBOLS, 4)
        self.setCaretLineVisible(True)
        self.setCaretLineVisibleAlways(True)
        self.setCaretLineBack(_bgr(rgb(THEME.caret_line)))
        self.setScrollWidthTracking(True)
        self.setScrollWidth(1)
        self.setMarginLeft(4)
        self.markerDefine(MARKER_ERROR, SC_MARK_CIRCLE)
        self.markerSetFore(MARKER_ERROR, _bgr(rgb(THEME.error)))
        self.markerSetBack(MARKER_ERROR, _bgr(rgb(THEME.error_strong)))
        self.setMarginMaskN(MARGIN_SYMBOLS, 1 << MARKER_ERROR)
        self.setMarginWidthN(MARGIN_SYMBOLS, 14)
        self._annotation_style = self.allocateExtendedStyles(3)  # error, ghost, ghost's rest
        self.annotationSetStyleOffset(self._annotation_style)
        self.annotationSetVisible(ANNOTATION_BOXED)
        self._error_lines: list[int] = []
        self._comment_styles: frozenset[int] = frozenset()
        self._string_styles: frozenset[int] = frozenset()
        self._open_string_styles: frozenset[int] = frozenset()  # unterminated at the line end
        self._ghost = ""
        self._ghost_pos = -1  # byte position of the caret the ghost text was shown at
        self._ghost_line = -1
        self._ghost_annotation = ""  # what the ghost put under its line ("" for one line)
        self._saved_annotation: tuple[str, int] | None = None  # an error message it covered
        self._ghost_painted = False
        self._in_key = False  # a key or input method event is being handled
        self._edits = 0  # text insertions and deletions so far
        self._apply_base_style()
        self.charAdded.connect(self._on_char_added)
        self.savePointChanged.connect(self._on_save_point_changed)
        self.modified.connect(self._on_scintilla_modified)
        self.updateUi.connect(self._on_update_ui)
        self.zoom.connect(self._on_zoom)

    # -- text -----------------------------------------------------------------------------
    def text(self) -> str:
        """The whole text."""
        return bytes(self.getText(self.textLength())).decode("utf-8", errors="replace")

    def set_text(self, text: str, *, keep_undo: bool = False) -> None:
        """Replace the whole text; marks it unmodified and (by default) clears undo."""
        self.setText(text)
        if not keep_undo:
            self.emptyUndoBuffer()
        self.setSavePoint()
        self.gotoPos(0)

    def selected_text(self) -> str:
        """The selection, or "" when nothing is selected."""
        if self.selectionEmpty():
            return ""
        return bytes(self.getSelText()).decode("utf-8", errors="replace").rstrip("\x00")

    def insert_at_cursor(self, text: str) -> None:
        """Insert `text` at the caret (replacing any selection), as one undo step."""
        self.beginUndoAction()
        self.replaceSel(text)
        self.endUndoAction()
        self.focus()

    def focus(self) -> None:
        """Give the editor keyboard focus (Scintilla's own setFocus(bool) shadows QWidget's)."""
        QWidget.setFocus(self, Qt.FocusReason.OtherFocusReason)

    def is_modified(self) -> bool:
        """True when the text differs from the last save."""
        return bool(self.modify())

    def mark_saved(self) -> None:
        """Record the current text as saved."""
        self.setSavePoint()

    def cursor_line(self) -> int:
        """The caret's line, from 1."""
        return self.lineFromPosition(self.currentPos()) + 1

    # -- language -------------------------------------------------------------------------
    @property
    def language(self) -> str:
        """The language id highlighting uses ("python", "cpp", ..., or "text")."""
        return self._language

    def set_language(self, language: str) -> None:
        """Highlight as `language` (an id from app.core.filetypes); "text" turns it off."""
        self._language = language
        spec = LEXERS.get(language)
        self._apply_base_style()
        self._classify_styles([])
        if spec is None:
            self.setILexer(0)
            return
        lexer = lexilla.create_lexer(spec.lexer)
        for index, words in spec.keywords.items():
            lexer.word_list_set(index, words)
        if spec.lexer == "cpp":
            lexer.property_set("lexer.cpp.track.preprocessor", "0")
        styles = [(s, lexer.tags_of_style(s)) for s in range(lexer.named_styles())]
        self._classify_styles(styles)
        self.setILexer(lexer.detach())
        for style, tags in styles:
            look = style_for_tags(tags)
            if look is None:
                continue
            colour, bold, italic = look
            self.styleSetFore(style, _bgr(colour))
            self.styleSetBold(style, bold)
            self.styleSetItalic(style, italic)
        self.colourise(0, -1)

    def style_at(self, char_index: int) -> int:
        """The style number at a character index (for tests and tooling)."""
        byte_pos = len(self.text()[:char_index].encode("utf-8"))
        self.colourise(0, -1)
        return self.styleAt(byte_pos)

    def _apply_base_style(self) -> None:
        self.styleSetFont(STYLE_DEFAULT, self._font)
        self.styleSetSize(STYLE_DEFAULT, self._font_size)
        self.styleSetFore(STYLE_DEFAULT, _bgr(rgb(THEME.text)))
        self.styleSetBack(STYLE_DEFAULT, _bgr(rgb(THEME.background)))
        self.styleClearAll()
        self.styleSetFore(STYLE_LINENUMBER, _bgr(rgb(THEME.line_number)))
        self.styleSetBack(STYLE_LINENUMBER, _bgr(rgb(THEME.margin_back)))
        if hasattr(self, "_annotation_style"):
            style = self._annotation_style
            self.styleSetFont(style, self._font)
            self.styleSetSize(style, max(self._font_size - 1, 8))
            self.styleSetFore(style, _bgr(rgb(THEME.error_line_text)))
            self.styleSetBack(style, _bgr(rgb(THEME.error_line_back)))
            for extra, italic, colour in (
                (ANNOTATION_GHOST, True, THEME.line_number),
                (ANNOTATION_GHOST_REST, False, THEME.text),
            ):
                self.styleSetFont(style + extra, self._font)
                self.styleSetSize(style + extra, self._font_size)
                self.styleSetItalic(style + extra, italic)
                self.styleSetFore(style + extra, _bgr(rgb(colour)))
                self.styleSetBack(style + extra, _bgr(rgb(THEME.background)))
        self._update_margin()

    def _update_margin(self) -> None:
        digits = max(3, len(str(self.lineCount())) + 1)
        width = self.textWidth(STYLE_LINENUMBER, "9" * digits)
        self.setMarginWidthN(MARGIN_LINE_NUMBERS, width + 4)

    # -- errors ---------------------------------------------------------------------------
    def show_error(self, line: int, message: str) -> None:
        """Mark `line` (from 1) as the error line: a red dot and the message under it."""
        self.clear_ghost()
        index = max(0, min(line - 1, self.lineCount() - 1))
        self.markerAdd(index, MARKER_ERROR)
        self.annotationSetText(index, message)
        self.annotationSetStyle(index, 0)
        self._error_lines.append(index + 1)
        self.gotoLine(index)

    def clear_errors(self) -> None:
        """Remove every error marker and annotation."""
        self.clear_ghost()
        self.markerDeleteAll(MARKER_ERROR)
        self.annotationClearAll()
        self._error_lines.clear()

    def error_lines(self) -> list[int]:
        """The lines (from 1) that carry an error marker."""
        lines = []
        for index in range(self.lineCount()):
            if self.markerGet(index) & (1 << MARKER_ERROR):
                lines.append(index + 1)
        return lines

    def annotation(self, line: int) -> str:
        """The annotation text under `line` (from 1), "" if none."""
        return bytes(self.annotationText(line - 1)).decode("utf-8", errors="replace")

    # -- the caret's surroundings (inline completion) ---------------------------------------
    def text_around_cursor(
        self,
        max_before: int,
        max_after: int,
        lines_before: int,
        lines_after: int,
        line_step: int = 1,
        byte_step: int = 1,
    ) -> tuple[str, str]:
        r"""The text before and after the caret, cheaply even in a huge file.

        Before it: from the start of a line at most `lines_before` lines up, moved down to a
        line number that is a multiple of `line_step`, and at most `max_before` bytes (cut at
        a multiple of `byte_step`); after it: up to the end of the line `lines_after` down, at
        most `max_after` bytes. A character cut in two at an edge is left out; line ends are
        "\n". The steps keep the window's start put while the learner types.
        """
        pos = self.currentPos()
        line = self.lineFromPosition(pos)
        first = -(-max(0, line - lines_before) // line_step) * line_step
        cut = -(-max(0, pos - max_before) // byte_step) * byte_step
        start = min(pos, max(self.positionFromLine(min(first, line)), cut))
        last = min(self.lineCount() - 1, line + lines_after)
        end = min(self.lineEndPosition(last), pos + max_after)
        before = bytes(self.textRange(start, pos)).decode("utf-8", errors="ignore")
        after = bytes(self.textRange(pos, end)).decode("utf-8", errors="ignore")
        return _lf(before), _lf(after)

    def cursor_in_string_or_comment(self) -> bool:
        """Whether the caret stands inside a string or a comment (by the lexer's styles)."""
        pos = self.currentPos()
        if pos == 0 or not (self._comment_styles or self._string_styles):
            return False
        if self.endStyled() <= pos:
            self.colourise(self.endStyled(), min(self.textLength(), pos + 1))
        before = self.styleAt(self.positionBefore(pos))
        if before in self._comment_styles or before in self._open_string_styles:
            return True
        return before in self._string_styles and self.styleAt(pos) == before

    def _classify_styles(self, styles: list[tuple[int, str]]) -> None:
        """Remember which of the lexer's styles are comments and strings (from their tags)."""
        words = [(style, set(tags.split())) for style, tags in styles]
        self._comment_styles = frozenset(s for s, w in words if "comment" in w)
        self._string_styles = frozenset(s for s, w in words if w & {"string", "regex"})
        self._open_string_styles = frozenset(s for s, w in words if "string" in w and "error" in w)

    # -- ghost text -------------------------------------------------------------------------
    @property
    def ghost_text(self) -> str:
        """The ghost text showing at the caret ("" when none); never part of `text()`."""
        return self._ghost

    def show_ghost(self, text: str) -> None:
        """Show `text` at the caret as ghost text: grey italic, not in the document, undo or
        any file. Tab accepts it, Shift+Tab its first line, Esc dismisses it; typing its next
        characters keeps the rest; any other key, a click or an edit drops it. Empty or
        white-space-only text, or a selection, shows nothing."""
        self.clear_ghost()
        text = _lf(text)
        if not text.strip() or not self.selectionEmpty():
            return
        pos = self.currentPos()
        self._ghost, self._ghost_pos = text, pos
        self._ghost_line = self.lineFromPosition(pos)
        self._ghost_painted = False
        _first, newline, more = text.partition("\n")
        if newline:  # the lines after the first: an annotation under the caret's line
            rest = self._rest_of_line(pos)
            body = self._expand_tabs(more) + rest
            styles = chr(ANNOTATION_GHOST) * len(self._expand_tabs(more).encode()) + chr(
                ANNOTATION_GHOST_REST
            ) * len(rest.encode())
            old = self.annotation(self._ghost_line + 1)
            if old:  # an error message under the line stays, under the ghost text
                self._saved_annotation = (old, self.annotationStyle(self._ghost_line))
                body += "\n" + old
                styles += chr(self._saved_annotation[1]) * len(("\n" + old).encode())
            self.annotationSetVisible(ANNOTATION_STANDARD)  # no box: it is not a message
            self.annotationSetText(self._ghost_line, body)
            self.annotationSetStyles(self._ghost_line, styles)  # str: bytes fail (binding)
            self._ghost_annotation = body
        self.viewport().update()

    def clear_ghost(self) -> None:
        """Remove the ghost text, if any (the document is untouched)."""
        if not self._ghost:
            return
        line, ours = self._ghost_line, self._ghost_annotation
        self._ghost, self._ghost_pos, self._ghost_line, self._ghost_annotation = "", -1, -1, ""
        if ours and 0 <= line < self.lineCount() and self.annotation(line + 1) == ours:
            saved, self._saved_annotation = self._saved_annotation, None
            self.annotationSetText(line, saved[0] if saved else None)
            if saved:
                self.annotationSetStyle(line, saved[1])
        self._saved_annotation = None
        self.annotationSetVisible(ANNOTATION_BOXED)
        self.viewport().update()

    def accept_ghost(self, whole: bool = True) -> str:
        """Insert the ghost text (all of it, or only its first line) at the caret as one undo
        step, the caret after it; what is left of it stays ghost text.

        Returns:
            The text inserted ("" when no ghost text showed).
        """
        text, pos = self._ghost, self._ghost_pos
        if not text:
            return ""
        cut = len(text) if whole else text.find("\n", 1)
        part, left = (text, "") if cut < 0 else (text[:cut], text[cut:])
        self.clear_ghost()
        data = part.replace("\n", ("\r\n", "\r", "\n")[self.eOLMode()])
        self.beginUndoAction()
        self.insertText(pos, data)
        self.endUndoAction()
        self.gotoPos(pos + len(data.encode("utf-8")))
        self.show_ghost(left)
        self.sig_ghost_accepted.emit(part)
        return part

    def _rest_of_line(self, pos: int) -> str:
        end = self.lineEndPosition(self.lineFromPosition(pos))
        return bytes(self.textRange(pos, end)).decode("utf-8", errors="replace")

    def _paint_styled(self, painter: QPainter, font: QFont, pos: int, at: QPointF) -> None:
        """Draw the caret's line from `pos` at `at` in its own colours, up to the right edge."""
        end = min(self.lineEndPosition(self.lineFromPosition(pos)), pos + 512)
        x, right = at.x(), self.viewport().width()
        while pos < end and x < right:
            style, stop = self.styleAt(pos), pos + 1
            while stop < end and self.styleAt(stop) == style:
                stop += 1
            run = self._expand_tabs(bytes(self.textRange(pos, stop)).decode("utf-8", "replace"))
            look = QFont(font)
            look.setBold(self.styleBold(style))
            look.setItalic(self.styleItalic(style))
            painter.setFont(look)
            painter.setPen(colour_to_qcolor(self.styleFore(style)))
            painter.drawText(QPointF(x, at.y()), run)
            x += QFontMetricsF(look).horizontalAdvance(run)
            pos = stop

    def _expand_tabs(self, text: str) -> str:
        return text.expandtabs(self.tabWidth() or 4)

    def _paint_ghost(self) -> None:
        """Draw the ghost text's first line at the caret; the rest of the caret's line moves
        after it (or, when more lines follow, after the annotation's last line)."""
        pos, line = self._ghost_pos, self._ghost_line
        first, newline, _more = self._ghost.partition("\n")
        x, y = self.pointXFromPosition(pos), self.pointYFromPosition(pos)
        right, height = self.viewport().width(), self.textHeight(line)
        left = sum(self.marginWidthN(m) for m in range(5))
        font = QFont(self._font)
        font.setPointSizeF(max(1.0, self._font_size + self.zoom()))
        italic = QFont(font)
        italic.setItalic(True)
        first = self._expand_tabs(first)
        baseline = y + math.floor(QFontMetricsF(font).ascent())  # where Scintilla puts it
        painter = QPainter(self.viewport())
        painter.setClipRect(QRectF(left, y, right - left, height))
        if self.lineEndPosition(line) > pos:  # the rest of the line: cover it where
            back = THEME.caret_line if self.caretLineVisible() else THEME.background
            end = self.pointXFromPosition(self.lineEndPosition(line)) + 2  # Scintilla drew it
            if self.wrapCount(line) > 1:
                end = right  # the line is wrapped: cover this row to the edge
            painter.fillRect(QRectF(x + self.caretWidth(), y, end - x, height), QColor(back))
            if not newline:
                left = x + QFontMetricsF(italic).horizontalAdvance(first)
                self._paint_styled(painter, font, pos, QPointF(left, baseline))
        painter.setFont(italic)
        painter.setPen(QColor(THEME.line_number))
        painter.drawText(QPointF(x, baseline), first)
        painter.end()

    # -- find -----------------------------------------------------------------------------
    def find(self, needle: str, *, forward: bool = True, match_case: bool = False) -> bool:
        """Select the next (or previous) match of `needle`, wrapping around.

        Returns:
            True when found (the match is selected and scrolled into view).
        """
        if not needle:
            return False
        data = needle.encode("utf-8")
        self.setSearchFlags(SCFIND_MATCHCASE if match_case else 0)
        length = self.textLength()
        if forward:
            start = self.selectionEnd()
            ranges = [(start, length), (0, start)]
        else:
            start = self.selectionStart()
            ranges = [(start, 0), (length, start)]
        for a, b in ranges:
            self.setTargetRange(a, b)
            if self.searchInTarget(len(data), needle) >= 0:
                self.setSel(self.targetStart(), self.targetEnd())
                self.scrollCaret()
                return True
        return False

    def replace_selection_if_match(
        self, needle: str, replacement: str, *, match_case: bool = False
    ) -> bool:
        """Replace the selection when it is a match of `needle` (one undo step)."""
        selected = self.selected_text()
        same = selected == needle if match_case else selected.lower() == needle.lower()
        if not needle or not same:
            return False
        self.beginUndoAction()
        self.replaceSel(replacement)
        self.endUndoAction()
        return True

    def replace_all(self, needle: str, replacement: str, *, match_case: bool = False) -> int:
        """Replace every match of `needle`, as one undo step. Returns how many."""
        if not needle:
            return 0
        data, new = needle.encode("utf-8"), replacement.encode("utf-8")
        self.setSearchFlags(SCFIND_MATCHCASE if match_case else 0)
        count, position = 0, 0
        self.beginUndoAction()
        try:
            while True:
                self.setTargetRange(position, self.textLength())
                if self.searchInTarget(len(data), needle) < 0:
                    break
                self.replaceTarget(len(new), replacement)
                position = self.targetEnd()
                count += 1
        finally:
            self.endUndoAction()
        return count

    # -- zoom -----------------------------------------------------------------------------
    def zoom_in(self) -> None:
        """Make the text bigger."""
        if self.zoom() < ZOOM_MAX:
            self.zoomIn()

    def zoom_out(self) -> None:
        """Make the text smaller."""
        if self.zoom() > ZOOM_MIN:
            self.zoomOut()

    def zoom_reset(self) -> None:
        """Back to the normal text size."""
        self.setZoom(0)

    def set_word_wrap(self, on: bool) -> None:
        """Wrap long lines at the window's edge (View ▸ Word Wrap) or scroll sideways."""
        self.setWrapMode(SC_WRAP_WORD if on else SC_WRAP_NONE)

    def word_wrap(self) -> bool:
        """Long lines are wrapped."""
        return self.wrapMode() != SC_WRAP_NONE

    def zoom_level(self) -> int:
        """Points added to (or taken from) the normal size."""
        return self.zoom()

    # -- Qt events ----------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        """While ghost text shows, Tab, Shift+Tab and Esc are the editor's, not a shortcut's
        (Esc also stops the tutor's answer, window-wide)."""
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and self._ghost
            and isinstance(event, QKeyEvent)
            and event.key() in GHOST_KEYS
            and _mods(event) in (NO_MODS, SHIFT)
        ):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ghost text's keys (Tab, Shift+Tab, Esc, typing through), Ctrl+Space, and typing."""
        key, mods = event.key(), _mods(event)
        if key in MODIFIER_KEYS:  # Shift on its way to Shift+Tab keeps the ghost text
            super().keyPressEvent(event)
            return
        if self._ghost and (self.currentPos() != self._ghost_pos or not self.selectionEmpty()):
            self.clear_ghost()  # the caret moved since (Scintilla tells at its next paint)
        if self._ghost and (key, mods) in (
            (Qt.Key.Key_Tab, NO_MODS),
            (Qt.Key.Key_Backtab, SHIFT),
            (Qt.Key.Key_Tab, SHIFT),
            (Qt.Key.Key_Escape, NO_MODS),
        ):
            if key == Qt.Key.Key_Escape:
                self.clear_ghost()
            else:
                self.accept_ghost(whole=key == Qt.Key.Key_Tab and mods == NO_MODS)
            event.accept()
            return
        if key == Qt.Key.Key_Space and mods in (
            Qt.KeyboardModifier.ControlModifier,
            Qt.KeyboardModifier.MetaModifier,  # the Control key on macOS
        ):
            self.sig_completion_requested.emit()
            event.accept()
            return
        typing = (event.text().isprintable() and bool(event.text())) or key in EDITING_KEYS
        self._key_edit(lambda: super(CodeEditor, self).keyPressEvent(event), typing)

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        """Text from an input method (accents, CJK) types like keys do."""
        self._key_edit(lambda: super(CodeEditor, self).inputMethodEvent(event), True)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click drops the ghost text."""
        self.clear_ghost()
        super().mousePressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        """Leaving the editor drops the ghost text."""
        self.clear_ghost()
        super().focusOutEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        """Scintilla's painting, then the ghost text's first line over it."""
        super().paintEvent(event)
        if not self._ghost:
            return
        self._paint_ghost()
        if not self._ghost_painted:
            self._ghost_painted = True
            self.sig_ghost_painted.emit()

    def _key_edit(self, handle: object, typing: bool) -> None:
        """Let Scintilla handle a key; ghost text the learner typed the start of keeps its
        rest, any other key drops it; `typing` keys that changed the text emit sig_typed."""
        ghost, anchor = self._ghost, self._ghost_pos
        length, edits = self.textLength(), self._edits
        self._in_key = True
        try:
            handle()  # type: ignore[operator]
        finally:
            self._in_key = False
        if ghost:
            pos, kept = self.currentPos(), ""
            grown = self.textLength() - length
            if self._edits != edits and self.selectionEmpty() and pos - anchor == grown > 0:
                typed = _lf(bytes(self.textRange(anchor, pos)).decode("utf-8", errors="replace"))
                if ghost.startswith(typed):
                    kept = ghost[len(typed) :]
            self.show_ghost(kept)  # "" clears it
        if typing and self._edits != edits:
            self.sig_typed.emit()

    # -- slots ----------------------------------------------------------------------------
    @Slot(int)
    def _on_char_added(self, ch: int) -> None:
        if ch not in (10, 13):
            return
        line = self.lineFromPosition(self.currentPos())
        if line == 0:
            return
        prev = line - 1
        indent = self.lineIndentation(prev)
        prev_text = bytes(self.getLine(prev)).decode("utf-8", errors="replace").rstrip()
        if "#" in prev_text and self._language in ("python", "bash"):
            prev_text = prev_text.split("#", 1)[0].rstrip()
        spec = LEXERS.get(self._language)
        if spec and prev_text.endswith(spec.block_openers):
            indent += self.indent() or self.tabWidth()
        if indent:
            self.setLineIndentation(line, indent)
            self.gotoPos(self.lineIndentPosition(line))

    @Slot(bool)
    def _on_save_point_changed(self, dirty: bool) -> None:
        self.sig_modification_changed.emit(dirty)

    @Slot(int, int, int, int, bytes, int, int, int)
    def _on_scintilla_modified(
        self, mtype: int, position: int, _length: int, lines_added: int, *_args: object
    ) -> None:
        if mtype & 0x3:  # SC_MOD_INSERTTEXT | SC_MOD_DELETETEXT
            self._edits += 1
            if self._ghost and lines_added and self.lineFromPosition(position) < self._ghost_line:
                self._ghost_line += lines_added  # its annotation moved with its line
            if self._ghost and not self._in_key:
                self.clear_ghost()  # undo, paste, set_text...: the proposal no longer fits
            self._update_margin()
            self.sig_text_changed.emit()

    @Slot(int)
    def _on_update_ui(self, _updated: int) -> None:
        moved = self.currentPos() != self._ghost_pos or not self.selectionEmpty()
        if self._ghost and not self._in_key and moved:
            self.clear_ghost()  # the caret moved (a click, the find bar...)

    @Slot(int)
    def _on_zoom(self, _level: int) -> None:
        self._update_margin()
        self.sig_zoom_changed.emit(self.zoom())


def _lf(text: str) -> str:
    r"""`text` with "\n" line ends."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _mods(event: QKeyEvent) -> Qt.KeyboardModifier:
    """The event's modifiers, without the keypad's."""
    return event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier


def colour_to_qcolor(bgr: int) -> QColor:
    """A Scintilla 0xBBGGRR colour as a QColor (for tests that read styles back)."""
    return QColor(bgr & 0xFF, (bgr >> 8) & 0xFF, (bgr >> 16) & 0xFF)
