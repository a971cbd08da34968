"""The lesson panel: hints are Markdown like the lesson text."""

from app.ui.lessons.panel import LessonPanel


def test_a_hint_with_code_and_emphasis_reads_as_text_not_markup(qtbot):
    """A teacher's hint with `code` and **bold** shows without the backticks and stars,
    under its "Hint k of n:" label, and HTML in it stays text."""
    panel = LessonPanel()
    qtbot.addWidget(panel)
    panel.add_hint(1, 2, "Use `print()` **now**, not <b>later</b>.")
    shown = panel.text.toPlainText()
    assert "Hint 1 of 2: Use print() now, not <b>later</b>." in shown
    assert "`" not in shown and "**" not in shown
    assert "monospace" in panel.text.toHtml()
