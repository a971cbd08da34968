"""Inline completion's pure parts: the window round the cursor, and shaping a proposal."""

from __future__ import annotations

import pytest

from app.core.completion import (
    ANCHOR_LINES,
    FULL,
    LINE,
    MAX_LINES,
    ProposalShaper,
    fim_window,
    shape_proposal,
    split_at_utf8,
)


def words(text: str) -> int:
    """A stand-in tokenizer: one token per run of word characters or other character."""
    import re

    return len(re.findall(r"\w+|\S|\n", text))


def numbered(n: int) -> str:
    """`n` lines of assignments, numbered."""
    return "".join(f"value_{i} = compute({i}, factor)\n" for i in range(n))


def test_a_small_file_is_sent_whole():
    """A file that fits the budget is sent whole: prefix and suffix are the texts given."""
    before, after = "def add(a, b):\n    return ", "a + b\n\nprint(add(1, 2))\n"
    assert fim_window(before, after, 512, words) == (before, after)


def test_a_long_file_sends_whole_lines_nearest_the_cursor_within_budget():
    """In a 10,000-line file the window is whole lines round the cursor, the prefix given
    three quarters of the budget, and together within it."""
    text = numbered(10_000)
    cursor = text.index("value_5000 = ") + len("value_5000 = ")
    before, after = fim_window(text[:cursor], text[cursor:], 200, words)
    assert text[:cursor].endswith(before) and text[cursor:].startswith(after)
    assert before.startswith("value_") and after.endswith(")")  # whole lines
    assert words(before) <= 150 and words(after) <= 50
    assert words(before) > 100 and words(after) > 30  # and not far below it
    assert "value_4999 =" in before and "value_5001 =" in after


def test_the_prefix_starts_at_an_anchored_line_that_stays_while_typing():
    """A prefix cut by the budget starts at a line number that is a multiple of
    ANCHOR_LINES, and typing more lines at the cursor leaves its first line where it was
    until the budget forces it down by a whole anchor step."""
    text = numbered(300)
    starts = []
    for typed in range(12):
        before = text + "".join(f"new_{i} = {i}\n" for i in range(typed))
        prefix, _ = fim_window(before, "", 400, words, prefix_share=1.0)
        first_line = before.count("\n", 0, len(before) - len(prefix))
        assert first_line % ANCHOR_LINES == 0
        starts.append(first_line)
    assert len(set(starts)) <= 2 and starts == sorted(starts)


def test_the_suffix_window_does_not_move_while_the_prefix_grows():
    """The suffix has its own share of the budget: typing before the cursor never changes it."""
    after = "\n" + numbered(500)
    suffixes = {fim_window("x = 1\n" * n, after, 300, words)[1] for n in (1, 50, 400)}
    assert len(suffixes) == 1


def test_a_100_kb_single_line_is_cut_at_a_character_within_budget():
    """A 100 kB line round the cursor is cut to fit, at a character: the parts are the ends
    of the texts given, within budget, whatever the characters."""
    line = "größe_ä = ['😀', 'Zoë'] + " * 4000  # 104,000 characters, 4- and 2-byte ones
    cursor = len(line) // 2
    before, after = fim_window(line[:cursor], line[cursor:], 256, words)
    assert line[:cursor].endswith(before) and line[cursor:].startswith(after)
    assert 0 < words(before) <= 192 and 0 < words(after) <= 64
    assert len(before) + len(after) < 3000


def test_an_empty_document_gives_empty_parts():
    """No text round the cursor: nothing to send."""
    assert fim_window("", "", 512, words) == ("", "")


def test_split_at_utf8_never_cuts_a_character():
    """An editor position (UTF-8 bytes) inside a character splits before that character."""
    text = "naïve = '😀'\n"
    assert split_at_utf8(text, 3) == ("na", "ïve = '😀'\n")  # inside ï
    assert split_at_utf8(text, 4) == ("naï", "ve = '😀'\n")
    assert split_at_utf8(text, 12) == ("naïve = '", "😀'\n")  # inside 😀's four bytes
    assert split_at_utf8(text, 10**6) == (text, "")


def test_line_mode_is_the_rest_of_the_current_line():
    """In line mode the proposal stops at the end of the line."""
    assert shape_proposal(" a + b\n    print(a)\n", "    return", "\n", LINE) == " a + b"


def test_full_mode_stops_at_a_blank_line_after_a_block():
    """Full mode gives the block's lines, up to the blank line that ends it."""
    raw = "\n    total = a + b\n    return total\n\ndef other():\n"
    assert shape_proposal(raw, "def add(a, b):", "\n", FULL) == (
        "\n    total = a + b\n    return total"
    )


def test_full_mode_gives_at_most_eight_lines():
    """A proposal that goes on and on is cut after MAX_LINES lines."""
    raw = "".join(f"x{i} = {i}\n" for i in range(20))
    proposal = shape_proposal(raw, "", "", FULL)
    assert proposal.count("\n") == MAX_LINES - 1 and proposal.startswith("x0 = 0")


def test_full_mode_stops_when_the_block_is_left():
    """A line less indented than the cursor's ends the proposal; one that only closes
    brackets is kept as its last line."""
    assert shape_proposal("a = 1\nprint(a)\n", "    ", "", FULL) == "a = 1"
    assert shape_proposal("x++;\n}\nint y;", "    ", "", FULL) == "x++;\n}"


def test_a_proposal_that_rewrites_the_next_line_is_cut_there():
    """The model often writes out what already follows the cursor: that part is dropped."""
    suffix = "\n    return total\n"
    raw = "\n    total = a + b\n    return total\n"
    assert shape_proposal(raw, "def add(a, b):", suffix, FULL) == "\n    total = a + b"


def test_code_after_the_cursor_on_its_line_is_not_repeated():
    """With code after the cursor on its line, the proposal is one line, less what repeats
    it; brackets it opens and closes itself stay."""
    assert shape_proposal("a, b):\n    pass", "def add(", "):\n", FULL) == "a, b"
    assert shape_proposal("a, b): return a", "def add(", "):", FULL) == "a, b"
    assert shape_proposal("f(x)", "print(", ")", FULL) == "f(x)"
    assert shape_proposal("total = 0", "", " = 0", FULL) == "total"


def test_blank_proposals_are_no_proposal():
    """Empty or white-space-only text gives an empty proposal in both modes."""
    for mode in (LINE, FULL):
        assert shape_proposal("", "x = ", "\n", mode) == ""
        assert shape_proposal("   \n\t\n  ", "x = ", "\n", mode) == ""
        assert shape_proposal(")", "print(x", ")", mode) == ""


def test_the_shaper_streams_whole_lines_and_says_when_it_is_done():
    """Fed piece by piece, the shaper releases whole lines as they end, is done as soon as
    the proposal cannot grow, and what it released joins to the proposal."""
    shaper = ProposalShaper("def add(a, b):", "\n", FULL)
    released = [shaper.feed(p) for p in ["\n    to", "tal = a", " + b\n", "    return total\n"]]
    assert released == ["", "", "\n    total = a + b", "\n    return total"]
    assert not shaper.done
    assert shaper.feed("\n") == "" and shaper.done  # the blank line ends it
    assert shaper.feed("def more():") == "" and shaper.finish() == ""
    line = ProposalShaper("x = ", "\n", LINE)
    assert line.feed("1 + 2") == "" and not line.done
    assert line.feed("\nnext") == "1 + 2" and line.done


def test_an_unknown_mode_is_refused():
    """Only "line" and "full" exist."""
    with pytest.raises(ValueError, match="unknown completion mode"):
        ProposalShaper("", "", "block")
