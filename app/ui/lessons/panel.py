"""The lesson panel: the lesson's text and goal, its hint ladder, and lesson actions."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.core.lessons import BrokenLesson, Lesson
from app.core.markdown import render_markdown
from app.ui.common.theme import THEME


class LessonPanel(QWidget):
    """Shows one lesson; its buttons emit intents the lesson controller acts on."""

    sig_hint_requested = Signal()
    """The learner asked for the next hint."""
    sig_reset_requested = Signal()
    """The learner asked to go back to the starter code."""
    sig_previous_requested = Signal()
    """Go to the previous lesson."""
    sig_next_requested = Signal()
    """Go to the next lesson."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Choose a lesson", self)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.title.setWordWrap(True)
        self.status = QLabel("", self)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(False)
        self.hint_button = QPushButton("Hint", self)
        self.hint_button.setToolTip("Show the next hint (F7)")
        self.reset_button = QPushButton("Reset…", self)
        self.reset_button.setToolTip("Go back to the starter code (your current code is kept)")
        self.prev_button = QPushButton("◀ Previous", self)
        self.prev_button.setToolTip("Previous lesson (Alt+Left)")
        self.next_button = QPushButton("Next ▶", self)
        self.next_button.setToolTip("Next lesson (Alt+Right)")
        self.hint_button.clicked.connect(self.sig_hint_requested)
        self.reset_button.clicked.connect(self.sig_reset_requested)
        self.prev_button.clicked.connect(self.sig_previous_requested)
        self.next_button.clicked.connect(self.sig_next_requested)
        buttons = QHBoxLayout()
        for b in (self.prev_button, self.hint_button, self.reset_button, self.next_button):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self._hints: list[str] = []
        self._lesson_html = ""
        self.show_nothing()

    def show_nothing(self, free_file: str = "") -> None:
        """No lesson open; `free_file` names the file the editor shows outside lessons."""
        self.title.setText("Choose a lesson")
        self.status.setText("")
        if free_file:
            self.text.setHtml(
                f"<p>You are editing <b>{html.escape(free_file)}</b>, which is not part of a "
                "lesson: save it with <b>Ctrl+S</b> (it is not saved as you type). Pick a "
                "lesson on the left to go back to the lessons.</p>"
            )
        else:
            self.text.setHtml(
                "<p>Pick a lesson on the left to start. In a lesson, your code is saved as "
                "you type.</p>"
            )
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for b in (self.hint_button, self.reset_button):
            b.setEnabled(on)

    def show_lesson(self, lesson: Lesson, hints_shown: int, done: bool) -> None:
        """Show a lesson's text and the hints the learner already opened."""
        self.title.setText(lesson.title)
        self._lesson_html = (
            f"<p><b>Goal:</b> {html.escape(lesson.goal)}</p>"
            + render_markdown(lesson.text, code_actions=False).html
        )
        self._hints = [
            f"Hint {k} of {len(lesson.hints)}: {lesson.hints[k - 1]}"
            for k in range(1, min(hints_shown, len(lesson.hints)) + 1)
        ]
        self.set_done(done)
        self._enable(True)
        self.hint_button.setEnabled(len(self._hints) < len(lesson.hints))
        self._render()

    def show_broken(self, lesson: BrokenLesson) -> None:
        """Explain why a lesson cannot be opened."""
        self.title.setText(f"{lesson.title} (broken)")
        self.status.setText("This lesson has errors, so it cannot be opened.")
        items = "".join(f"<li>{html.escape(str(e))}</li>" for e in lesson.errors)
        self.text.setHtml(
            f"<p>Tell your teacher about these problems:</p><ul>{items}</ul>"
            "<p>Other lessons still work.</p>"
        )
        self._hints = []
        self._enable(False)

    def set_done(self, done: bool) -> None:
        """Show whether the lesson is done."""
        self.status.setText("✓ Done — well done!" if done else "")

    def add_hint(self, level: int, count: int, text: str) -> None:
        """Show hint `level` of `count` under the lesson text."""
        self._hints.append(f"Hint {level} of {count}: {text}")
        self.hint_button.setEnabled(level < count)
        self._render()
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def hints_text(self) -> list[str]:
        """The hints shown, as "Hint k of n: ..." lines."""
        return list(self._hints)

    def _render(self) -> None:
        hints = "".join(
            f'<table width="100%" cellpadding="4" style="background-color:{THEME.notice_back};'
            f' margin-top:6px;"><tr><td>{_hint_html(h)}</td></tr></table>'
            for h in self._hints
        )
        self.text.setHtml(self._lesson_html + hints)


def _hint_html(hint: str) -> str:
    """A "Hint k of n: text" line as HTML: the label in bold, the text as Markdown (a
    teacher's hint may have `code`, emphasis or a list)."""
    label, _, text = hint.partition(":")
    return render_markdown(f"**{label}:** {text.strip()}", code_actions=False).html
