"""The chat panel: the conversation, the streaming reply, Send / Stop / Clear.

Chunks of a reply are buffered and painted on a timer (every 40 ms), and only the reply being
streamed is re-rendered, never the whole conversation. Chunks of a stale request are dropped.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QGuiApplication, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.languages import LANGUAGES
from app.core.markdown import CodeBlock, highlight_code, render_markdown, stable_prefix_length
from app.core.tutor.guard import code_blocks, replace_blocks
from app.ui.common.chunks import ChunkBuffer
from app.ui.common.theme import THEME, notice_style

FLUSH_INTERVAL_MS = 40
THINKING = "Thinking…"
HOLDING = "*checking this code…*"
"""Shown instead of a code block while a hints-lesson reply streams (the solution guard)."""
FOLDED = "> **This would solve the exercise for you.** [Show it anyway?](reveal:{index})"
"""Shown instead of a block that passes every check of the lesson."""
PLAIN_LIVE_CHARS = 8000  # a still-growing part longer than this is painted as plain text
WARM_UP_LANGUAGES = tuple(LANGUAGES)  # their Pygments lexers load while the app is idle


class ChatPanel(QWidget):
    """Shows the conversation and takes the learner's questions."""

    sig_send_requested = Signal(str)
    """(text): the learner asked something."""
    sig_stop_requested = Signal()
    """The learner pressed Stop."""
    sig_clear_requested = Signal()
    """The learner cleared the conversation."""
    sig_insert_code_requested = Signal(str)
    """(code): insert this code block into the editor."""
    sig_reveal_requested = Signal(int, int)
    """(message, block): the learner asked to see a folded solution anyway."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._active_id: int | None = None
        self._ready = False
        self._allowed = True
        self._reply_text = ""
        self._chunks = ChunkBuffer()
        self._plain_shown = 0  # characters of the live tail shown as plain text
        self._reply_start = 0
        self._frozen_upto = 0
        self._live_blocks: tuple[CodeBlock, ...] = ()
        self._dirty = False
        self._blocks: dict[int, tuple[CodeBlock, ...]] = {}
        self._message_index = 0
        self._hold_code = False
        self._held: dict[int, tuple[str, QTextCursor, QTextCursor]] = {}
        self._folded: dict[int, set[int]] = {}
        self.flush_count = 0

        self.notice = QLabel(self)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(notice_style())
        self.notice.hide()
        self.view = QTextBrowser(self)
        self.view.setOpenLinks(False)
        self.view.anchorClicked.connect(self._on_view_anchor_clicked)
        self.view.setPlaceholderText("Ask the tutor about your code. Answers appear here.")
        self.input = QPlainTextEdit(self)
        self.input.setPlaceholderText("Ask a question… (Enter sends, Shift+Enter for a new line)")
        self.input.setMaximumHeight(90)
        self.input.installEventFilter(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setToolTip("Send your question (Enter)")
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop the answer (Esc)")
        self.clear_button = QPushButton("Clear", self)
        self.clear_button.setToolTip("Clear the conversation (Ctrl+Shift+L)")
        self.send_button.clicked.connect(self._on_send_clicked)
        self.stop_button.clicked.connect(self.sig_stop_requested)
        self.clear_button.clicked.connect(self._on_clear_clicked)

        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.notice)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.input)
        layout.addLayout(buttons)

        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self._flush)
        self.set_busy(False)
        self.set_ready(False)
        self._warm_languages = list(WARM_UP_LANGUAGES)
        QTimer.singleShot(300, self._warm_up_highlighter)

    @Slot()
    def _warm_up_highlighter(self) -> None:
        """Load Pygments' lexers while idle, one per event-loop turn, so the first code block
        of a streaming reply does not stall the window."""
        if self._warm_languages:
            highlight_code("x = 1", self._warm_languages.pop(0))
            QTimer.singleShot(20, self._warm_up_highlighter)

    # -- state ----------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        """A reply is streaming: enable Stop, disable Send."""
        self.stop_button.setEnabled(busy)
        self.send_button.setEnabled(not busy and self._ready and self._allowed)

    def set_ready(self, ready: bool) -> None:
        """A model is loaded and can answer."""
        self._ready = ready
        self.send_button.setEnabled(ready and self._allowed and not self.stop_button.isEnabled())

    def set_chat_allowed(self, allowed: bool, reason: str = "") -> None:
        """Turn free chat on or off (a lesson's policy); `reason` is shown when off."""
        self._allowed = allowed
        self.input.setEnabled(allowed)
        self.input.setPlaceholderText(
            "Ask a question… (Enter sends, Shift+Enter for a new line)" if allowed else reason
        )
        self.set_ready(self._ready)

    def set_notice(self, text: str) -> None:
        """Show a plain-words notice above the conversation ("" hides it)."""
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    @property
    def active_request(self) -> int | None:
        """The id of the reply streaming now, or None."""
        return self._active_id

    def reply_text(self) -> str:
        """The text of the reply streaming (or last streamed)."""
        self._join_chunks()
        return self._reply_text

    def plain_text(self) -> str:
        """Everything the panel shows, as plain text."""
        return self.view.toPlainText()

    # -- messages -------------------------------------------------------------------------
    def add_user_message(self, text: str) -> None:
        """Show the learner's question."""
        self._append_html(
            f'<p style="margin-top:10px;"><b style="color:{THEME.learner_label};">You</b></p>'
            f"<p>{html.escape(text).replace(chr(10), '<br/>')}</p>"
        )

    def add_info(self, text: str, error: bool = False) -> None:
        """Show a line from the app (an error in red)."""
        colour = THEME.error if error else THEME.muted
        self._append_html(f'<p style="color:{colour};"><i>{html.escape(text)}</i></p>')

    def begin_reply(self, request_id: int, hold_code: bool = False) -> int:
        """Start showing the reply to request `request_id`; later chunks of others are dropped.

        Args:
            request_id: the request the reply answers.
            hold_code: show its code blocks as "checking this code…" until `show_verdict`
                (the solution guard of hints lessons).

        Returns:
            The reply's message number (for `show_verdict` and `code_block`).
        """
        self._flush()
        self._hold_code = hold_code
        self._active_id = request_id
        self._reply_text = ""
        self._chunks.clear()
        self._plain_shown = 0
        self._frozen_upto = 0
        self._live_blocks = ()
        self._message_index += 1
        self._blocks[self._message_index] = ()
        self._append_html(
            f'<p style="margin-top:10px;"><b style="color:{THEME.tutor_label};">Tutor</b></p>'
        )
        cursor = self.view.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock()
        self._reply_start = cursor.position()
        self._reply_origin = cursor.position()
        # Until the first words arrive (the prompt is evaluated: seconds on a slow CPU).
        cursor.insertHtml(f'<i style="color:{THEME.muted};">{THINKING}</i>')
        self._scroll_to_end()
        self._timer.start()
        self.set_busy(True)
        return self._message_index

    @Slot(int, str)
    def append_chunk(self, request_id: int, text: str) -> None:
        """Buffer a piece of the reply (painted by the timer). Stale ids are dropped."""
        if request_id != self._active_id:
            return
        self._chunks.append(text)  # joined once per paint
        self._dirty = True

    def end_reply(self, request_id: int, note: str = "") -> None:
        """The reply to `request_id` ended: paint the rest, add `note` (e.g. "stopped")."""
        if request_id != self._active_id:
            return
        self._dirty = self._dirty or self._plain_shown > 0  # render the plain tail properly
        self._flush(final=True)
        if not self._reply_text:  # nothing came: "Thinking…" goes
            cursor = self.view.textCursor()
            cursor.setPosition(self._reply_start)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        self._timer.stop()
        self._blocks[self._message_index] = (
            self._blocks.get(self._message_index, ()) + self._live_blocks
        )
        self._live_blocks = ()
        self._active_id = None
        if self._hold_code:
            self._held[self._message_index] = (
                self._reply_text,
                self._anchor(self._reply_origin),
                self._anchor(self.view.document().characterCount() - 1),
            )
            self._hold_code = False
        if note:
            self.add_info(note)
        self.set_busy(False)

    def _anchor(self, position: int) -> QTextCursor:
        """A cursor that stays at `position` while text is added after (or at) it."""
        cursor = QTextCursor(self.view.document())
        cursor.setPosition(position)
        cursor.setKeepPositionOnInsert(True)
        return cursor

    def show_verdict(self, message: int, solving: frozenset[int], note: str = "") -> None:
        """The guard judged a held reply: show its code, with the blocks in `solving` folded
        behind "This would solve the exercise for you. Show it anyway?"; `note` (a guard
        that ran out of time) is said under it."""
        if message not in self._held:
            return
        self._folded[message] = set(solving)
        self._render_held(message)
        if note:
            self.add_info(note)

    def reveal(self, message: int, index: int) -> None:
        """Unfold block `index` of `message` (the learner asked to see it)."""
        folded = self._folded.get(message)
        if folded is None or index not in folded:
            return
        folded.discard(index)
        self._render_held(message)

    def folded_blocks(self, message: int) -> frozenset[int]:
        """The blocks of `message` folded as full solutions now."""
        return frozenset(self._folded.get(message, ()))

    def _render_held(self, message: int) -> None:
        text, start, end = self._held[message]
        folded = {i: FOLDED.format(index=i) for i in self._folded.get(message, ())}
        rendered = render_markdown(replace_blocks(text, folded))
        self._blocks[message] = rendered.code_blocks
        cursor = QTextCursor(self.view.document())
        cursor.setPosition(start.position())
        cursor.setPosition(end.position(), QTextCursor.MoveMode.KeepAnchor)
        cursor.insertHtml(self._linked(rendered.html, message) or "&nbsp;")
        end.setPosition(cursor.position())

    def clear(self) -> None:
        """Clear the view (the caller forgets the history)."""
        self._timer.stop()
        self._active_id = None
        self._reply_text = ""
        self._chunks.clear()
        self._plain_shown = 0
        self._live_blocks = ()
        self._blocks.clear()
        self._held.clear()
        self._folded.clear()
        self._hold_code = False
        self.view.clear()
        self.set_busy(False)

    # -- painting -------------------------------------------------------------------------
    def _append_html(self, fragment: str) -> None:
        cursor = self.view.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if not self.view.document().isEmpty():
            cursor.insertBlock()
        cursor.insertHtml(fragment)
        self._scroll_to_end()

    @Slot()
    def _flush(self, final: bool = False) -> None:
        if not self._dirty or self._active_id is None:
            return
        self._dirty = False
        self.flush_count += 1
        # Paragraphs and code blocks that are complete are rendered once and left alone;
        # only the tail still growing is re-rendered, so a flush costs the same late in a
        # long reply as early on.
        self._join_chunks()
        tail = self._reply_text[self._frozen_upto :]
        stable = stable_prefix_length(tail)
        if not stable and not final and len(tail) > PLAIN_LIVE_CHARS and not self._hold_code:
            self._append_plain(tail)  # a long block still open: plain text, new part only
            self._scroll_to_end()
            return
        self._plain_shown = 0
        if stable:
            self._replace_live(tail[:stable])
            self._frozen_upto += stable
            cursor = self.view.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertBlock()
            self._reply_start = cursor.position()
            tail = tail[stable:]
            if not final and len(tail) > PLAIN_LIVE_CHARS and not self._hold_code:
                self._append_plain(tail)
                self._scroll_to_end()
                return
        self._replace_live(tail, keep_blocks=False)
        self._scroll_to_end()

    def _join_chunks(self) -> None:
        if self._chunks:
            self._reply_text += self._chunks.take_text()

    def _append_plain(self, tail: str) -> None:
        """Show the growing `tail` as plain text, adding only what is new since the last
        paint, so a long code block costs the same per paint at 1 MB as at 10 kB. It is
        rendered (and highlighted) once when it is complete."""
        cursor = self.view.textCursor()
        if self._plain_shown == 0:
            cursor.setPosition(self._reply_start)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.insertText(tail)
        else:
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(tail[self._plain_shown :])
        self._plain_shown = len(tail)
        self._live_blocks = ()

    def _replace_live(self, text: str, keep_blocks: bool = True) -> None:
        """Render `text` in place of the live (still growing) part of the reply."""
        known = self._blocks.get(self._message_index, ())
        if self._hold_code:
            text = replace_blocks(text, {b.index: HOLDING for b in code_blocks(text)})
        rendered = render_markdown(text, block_offset=len(known))
        if keep_blocks:
            self._blocks[self._message_index] = known + rendered.code_blocks
        else:
            self._live_blocks = rendered.code_blocks
        body = self._linked(rendered.html, self._message_index)
        cursor = self.view.textCursor()
        cursor.setPosition(self._reply_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        if body:
            cursor.insertHtml(body)
        else:
            cursor.removeSelectedText()

    @staticmethod
    def _linked(body: str, message: int) -> str:
        """The links of rendered HTML, made to name their message."""
        for action in ("copy", "insert", "reveal"):
            body = body.replace(f'href="{action}:', f'href="{action}:{message}:')
        return body

    def add_reply(self, text: str) -> int:
        """Show a whole reply at once (a conversation restored from an earlier session);
        returns its message number."""
        self._message_index += 1
        rendered = render_markdown(text)
        self._blocks[self._message_index] = rendered.code_blocks
        self._append_html(
            f'<p style="margin-top:10px;"><b style="color:{THEME.tutor_label};">Tutor</b></p>'
        )
        cursor = self.view.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock()
        cursor.insertHtml(self._linked(rendered.html, self._message_index))
        self._scroll_to_end()
        return self._message_index

    def _scroll_to_end(self) -> None:
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())

    def code_block(self, message: int, index: int) -> CodeBlock | None:
        """A code block shown in the panel, by message number and position."""
        blocks = self._blocks.get(message, ())
        if message == self._message_index:
            blocks = blocks + self._live_blocks
        return blocks[index] if 0 <= index < len(blocks) else None

    # -- input ----------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter sends; Shift+Enter inserts a new line."""
        if watched is self.input and event.type() == QEvent.Type.KeyPress:
            key_event: QKeyEvent = event  # type: ignore[assignment]
            if key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                key_event.modifiers() & Qt.KeyboardModifier.ShiftModifier
            ):
                self._on_send_clicked()
                return True
        return super().eventFilter(watched, event)

    @Slot()
    def _on_send_clicked(self) -> None:
        text = self.input.toPlainText().strip()
        if not text or not self.send_button.isEnabled():
            return
        self.input.clear()
        self.sig_send_requested.emit(text)

    @Slot()
    def _on_clear_clicked(self) -> None:
        self.sig_clear_requested.emit()

    @Slot(QUrl)
    def _on_view_anchor_clicked(self, url: QUrl) -> None:
        action, _, rest = url.toString().partition(":")
        message, _, index = rest.partition(":")
        if not (message.isdigit() and index.isdigit()):
            return
        if action == "reveal":
            self.sig_reveal_requested.emit(int(message), int(index))
            return
        block = self.code_block(int(message), int(index))
        if block is None:
            return
        if action == "copy":
            QGuiApplication.clipboard().setText(block.code)
        elif action == "insert":
            self.sig_insert_code_requested.emit(block.code)
