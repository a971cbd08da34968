"""The code editor: Scintilla (pyside6-scintilla) with Lexilla highlighting.

Every Scintilla call in the app lives in this module, so swapping the widget touches one file.
Positions in Scintilla are byte offsets in UTF-8; this class speaks str to its callers.
"""

from __future__ import annotations

import lexilla
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QFontDatabase
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
ANNOTATION_BOXED = 2


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
        self._annotation_style = self.allocateExtendedStyles(1)
        self.annotationSetStyleOffset(self._annotation_style)
        self.annotationSetVisible(ANNOTATION_BOXED)
        self._error_lines: list[int] = []
        self._apply_base_style()
        self.charAdded.connect(self._on_char_added)
        self.savePointChanged.connect(self._on_save_point_changed)
        self.modified.connect(self._on_scintilla_modified)
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
        if spec is None:
            self.setILexer(0)
            return
        lexer = lexilla.create_lexer(spec.lexer)
        for index, words in spec.keywords.items():
            lexer.word_list_set(index, words)
        if spec.lexer == "cpp":
            lexer.property_set("lexer.cpp.track.preprocessor", "0")
        styles = [(s, lexer.tags_of_style(s)) for s in range(lexer.named_styles())]
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
        self._update_margin()

    def _update_margin(self) -> None:
        digits = max(3, len(str(self.lineCount())) + 1)
        width = self.textWidth(STYLE_LINENUMBER, "9" * digits)
        self.setMarginWidthN(MARGIN_LINE_NUMBERS, width + 4)

    # -- errors ---------------------------------------------------------------------------
    def show_error(self, line: int, message: str) -> None:
        """Mark `line` (from 1) as the error line: a red dot and the message under it."""
        index = max(0, min(line - 1, self.lineCount() - 1))
        self.markerAdd(index, MARKER_ERROR)
        self.annotationSetText(index, message)
        self.annotationSetStyle(index, 0)
        self._error_lines.append(index + 1)
        self.gotoLine(index)

    def clear_errors(self) -> None:
        """Remove every error marker and annotation."""
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
    def _on_scintilla_modified(self, mtype: int, *_args: object) -> None:
        if mtype & 0x3:  # SC_MOD_INSERTTEXT | SC_MOD_DELETETEXT
            self._update_margin()
            self.sig_text_changed.emit()

    @Slot(int)
    def _on_zoom(self, _level: int) -> None:
        self._update_margin()
        self.sig_zoom_changed.emit(self.zoom())


def colour_to_qcolor(bgr: int) -> QColor:
    """A Scintilla 0xBBGGRR colour as a QColor (for tests that read styles back)."""
    return QColor(bgr & 0xFF, (bgr >> 8) & 0xFF, (bgr >> 16) & 0xFF)
