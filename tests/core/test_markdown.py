"""Markdown rendering of tutor replies."""

from app.core.markdown import render_markdown, stable_prefix_length


def test_code_blocks_are_highlighted_and_listed():
    """A fenced block is highlighted, gets Copy/Insert links and is returned with its code."""
    r = render_markdown("Look:\n\n```python\ndef f():\n    return 1\n```\n")
    assert r.code_blocks[0].language == "python"
    assert r.code_blocks[0].code == "def f():\n    return 1"
    assert 'href="copy:0"' in r.html and 'href="insert:0"' in r.html
    assert "<span" in r.html  # Pygments styled the keyword


def test_inline_formatting_and_escaping():
    """Bold, italics, inline code and lists render; HTML in the text is escaped."""
    r = render_markdown("# Title\n**bold** *it* `x<y`\n\n- one\n- two\n\n<script>")
    assert "<b>bold</b>" in r.html and "<i>it</i>" in r.html
    assert "x&lt;y" in r.html and "&lt;script&gt;" in r.html
    assert r.html.count("<li>") == 2


def test_unclosed_fence_renders_as_code_while_streaming():
    """A reply cut mid-code-block (still streaming) shows the partial code as a block."""
    r = render_markdown("```js\nlet a = 1")
    assert r.code_blocks[0].code == "let a = 1"


def test_stable_prefix_stops_before_open_code_block():
    """Only text before the last blank line outside a fence is stable."""
    text = "Para one.\n\nPara two\n```python\nx = 1\n\ny = 2\n"
    assert text[: stable_prefix_length(text)] == "Para one.\n\n"
    closed = "```python\nx = 1\n```\nmore"
    assert closed[: stable_prefix_length(closed)] == "```python\nx = 1\n```\n"


def test_block_offset_numbers_links_after_earlier_blocks():
    """Blocks rendered after earlier ones get globally unique link numbers."""
    r = render_markdown("```\na\n```", block_offset=3)
    assert 'href="copy:3"' in r.html


def test_commonmark_soft_breaks_lists_quotes_and_tables():
    """A soft line break is a space, a list item's continuation line stays in the item, a
    block quote is a quote (no literal "> "), and a table is a table."""
    text = (
        "So far your programs\nalways printed.\n\n"
        "- item one\n  continues here\n- two\n\n"
        "> **Note:** quoted\n> line two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n"
    )
    out = render_markdown(text).html
    assert "<br" not in out and "programs\nalways" in out
    assert "<li>item one\ncontinues here</li>" in out
    assert "<blockquote>" in out and "&gt;" not in out and "<b>Note:</b> quoted" in out
    assert "<table" in out and "<td>2</td>" in out
