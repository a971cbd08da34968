"""Inline completion's pure parts: which code round the cursor is sent to the model (whole
lines, by a token budget), and how the model's raw text becomes the proposal the editor shows
(what repeats the code after the cursor is cut, the lesson's mode applied, blank ones dropped).

No Qt and no llama.cpp here: the backend calls `fim_window` with the model's own token counter,
and the worker passes the raw pieces through a `ProposalShaper`, so the chunks an
`InfillRequest`'s handle receives are the proposal itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

LINE = "line"
"""Completion mode: at most the rest of the current line."""
FULL = "full"
"""Completion mode: several lines, up to a blank line after a complete block (`MAX_LINES`)."""
MODES = (LINE, FULL)

MAX_LINES = 8
"""The most lines a `FULL` proposal has."""
PREFIX_SHARE = 0.75
"""The prefix's share of the budget (llama.cpp's server also keeps 3:1); the two parts are
budgeted apart, so the suffix's window does not move while the prefix grows."""
ANCHOR_LINES = 8
"""A prefix cut by the budget starts at a line number that is a multiple of this, so the
window's first line (and with it every cached token after it) stays put for several lines of
typing instead of moving with each new line."""
ANCHOR_CHARS = 64
"""The same for a cursor line too long for the budget: its cut starts at a multiple of this."""
MAX_TOKEN_CHARS = 128
"""No token is longer than this many characters: a line longer than the budget times this
cannot fit, and is not counted at all."""

TokenCounter = Callable[[str], int]


def fim_window(
    text_before: str,
    text_after: str,
    budget_tokens: int,
    count_tokens: TokenCounter,
    prefix_share: float = PREFIX_SHARE,
) -> tuple[str, str]:
    """The code to send round the cursor: whole lines nearest it, within `budget_tokens`.

    Args:
        text_before: everything before the cursor (the whole document's start, not a slice:
            the anchoring counts lines from the top).
        text_after: everything after the cursor.
        budget_tokens: prefix and suffix together, by `count_tokens`.
        count_tokens: the model's token count of a text.
        prefix_share: the prefix's part of the budget; the rest is the suffix's.

    Returns:
        (prefix, suffix): the end of `text_before` and the start of `text_after`. Only the
        cursor's own line is ever cut inside (a line longer than the budget), and then at a
        character, never inside one.
    """
    prefix_budget = int(budget_tokens * prefix_share)
    suffix_budget = max(0, budget_tokens - prefix_budget)
    return (
        _prefix_window(text_before, prefix_budget, count_tokens),
        _suffix_window(text_after, suffix_budget, count_tokens),
    )


def _prefix_window(text: str, budget: int, count: TokenCounter) -> str:
    line_start = text.rfind("\n") + 1
    used = _cost(text[line_start:], budget, count)
    if used is None:
        return text[_tail_start(text, line_start, budget, count) :]
    start = line_start
    while start > 0:
        previous = text.rfind("\n", 0, start - 1) + 1
        cost = _cost(text[previous:start], budget - used, count)
        if cost is None:
            break
        used += cost
        start = previous
    if start == 0:
        return text
    first = text.count("\n", 0, start)  # the window's first line, counted from the top
    for _ in range(-first % ANCHOR_LINES):
        if start >= line_start:
            break
        start = text.index("\n", start) + 1
    return text[start:]


def _suffix_window(text: str, budget: int, count: TokenCounter) -> str:
    line_end = text.find("\n")
    line_end = len(text) if line_end < 0 else line_end
    used = _cost(text[:line_end], budget, count)
    if used is None:
        return text[: _head_end(text, line_end, budget, count)]
    end = line_end
    while end < len(text):
        following = text.find("\n", end + 1)
        following = len(text) if following < 0 else following
        cost = _cost(text[end:following], budget - used, count)  # with its leading newline
        if cost is None:
            break
        used += cost
        end = following
    return text[:end]


def _cost(text: str, budget: int, count: TokenCounter) -> int | None:
    """The tokens of `text`, or None when it does not fit in `budget` (a text longer than
    the budget times `MAX_TOKEN_CHARS` is not even counted)."""
    if budget < 0 or len(text) > budget * MAX_TOKEN_CHARS:
        return None
    tokens = count(text) if text else 0
    return tokens if tokens <= budget else None


_FIRST_GUESS_CHARS = 8  # a first cut of a long line: this many characters a token


def _tail_start(text: str, line_start: int, budget: int, count: TokenCounter) -> int:
    """Where a cut of the cursor's line (`line_start` to the end) starts so that it fits."""
    start = max(line_start, len(text) - budget * _FIRST_GUESS_CHARS)
    while start < len(text):
        tokens = count(text[start:])
        if tokens <= budget:
            break
        start = len(text) - int((len(text) - start) * budget / tokens * 0.9)
    start = -(-start // ANCHOR_CHARS) * ANCHOR_CHARS  # anchored, as lines are
    return min(start, len(text))


def _head_end(text: str, line_end: int, budget: int, count: TokenCounter) -> int:
    """Where a cut of the rest of the cursor's line (0 to `line_end`) ends so that it fits."""
    end = min(line_end, budget * _FIRST_GUESS_CHARS)
    while end > 0:
        tokens = count(text[:end])
        if tokens <= budget:
            break
        end = int(end * budget / tokens * 0.9)
    return end


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


_PAIRS = {")": "(", "]": "[", "}": "{"}


def _unmatched_closers(text: str) -> int:
    """Closing brackets in `text` that no opening bracket in it matches."""
    opened: list[str] = []
    unmatched = 0
    for char in text:
        if char in "([{":
            opened.append(char)
        elif char in _PAIRS:
            if opened and opened[-1] == _PAIRS[char]:
                opened.pop()
            else:
                unmatched += 1
    return unmatched


def _without_overlap(line: str, rest: str) -> str:
    """`line` less what repeats `rest`, the code after the cursor on its line.

    A rest that closes brackets ("):") is repeated where the line closes as many brackets
    it never opened: "a, b):" or "a, b): pass" become "a, b", but "f(x)" stays. A rest
    without brackets is repeated only by the line's end ("total = 0" before "= 0").
    """
    closers = _unmatched_closers(rest)
    if not closers:
        return line[: -len(rest)].rstrip() if line.endswith(rest) else line
    at = line.rfind(rest)
    while at >= 0:
        if _unmatched_closers(line[:at] + rest) >= closers:
            return line[:at].rstrip()
        at = line.rfind(rest, 0, at)
    return line


_CLOSERS = set("})];,")


class ProposalShaper:
    """Turns the model's raw text, fed piece by piece, into the proposal the editor shows.

    The rules: when code follows the cursor on its line, the proposal is that one line, less
    what repeats that code (`_without_overlap`); in `LINE` mode it is the rest of the current
    line; in `FULL` mode it ends before a blank line that follows some code, before a line
    that repeats the first line after the cursor, before a line that leaves the cursor's block
    (less indented than the cursor's line, unless it only closes brackets: then after it), or
    after `MAX_LINES` lines. Trailing spaces are dropped, and a proposal of white space only is
    no proposal at all.

    `feed` returns what is final so far (whole lines only; often ""), `done` turns True once
    nothing more can belong to the proposal (the caller may stop generating), and `finish`
    returns what was still held back. Joined, they are the proposal.

    Args:
        prefix: the code before the cursor (only its last line counts: its indentation).
        suffix: the code after the cursor.
        mode: `LINE` or `FULL`.
        max_lines: the most lines in `FULL` mode.

    Raises:
        ValueError: an unknown mode.
    """

    def __init__(
        self, prefix: str, suffix: str, mode: str = FULL, max_lines: int = MAX_LINES
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown completion mode {mode!r} (expected one of {MODES})")
        rest, _, after = suffix.partition("\n")
        self._rest = rest.strip()  # code after the cursor on its line
        self._next = next((line.strip() for line in after.split("\n") if line.strip()), "")
        self._max_lines = 1 if mode == LINE or self._rest else max_lines
        self._base = _indent(prefix[prefix.rfind("\n") + 1 :])
        self._line = ""  # the line being received
        self._lines = 0  # lines received, a blank first one not counted
        self._first = True
        self._held = ""  # white space, held until some code follows it
        self._some_code = False
        self.done = False

    def feed(self, piece: str) -> str:
        """Take the next raw piece; returns what is final of the proposal now (maybe "")."""
        out = []
        self._line += piece
        while not self.done and "\n" in self._line:
            line, self._line = self._line.split("\n", 1)
            out.append(self._take(line))
        return "".join(out)

    def finish(self) -> str:
        """The rest of the proposal: the last line, if it belongs to it."""
        if self.done:
            return ""
        line, self._line = self._line, ""
        text = self._take(line)
        self.done = True
        return text

    def _take(self, line: str) -> str:
        """Judge one whole line; returns its text (after a newline but the first) or ""."""
        line = line.rstrip()
        first, self._first = self._first, False
        if first:
            line = _without_overlap(line, self._rest) if self._rest else line
        elif self._ends_before(line):
            self.done = True
            return ""
        if line or not first:
            self._lines += 1
        if self._lines >= self._max_lines or (first and self._max_lines == 1):
            self.done = True
        if line.strip() and not first and _indent(line) < self._base:
            self.done = True  # it only closes the block: the last line
        text = line if first else "\n" + line
        if not line.strip() and not self._some_code:
            self._held += text
            return ""
        self._some_code = True
        text, self._held = self._held + text, ""
        return text

    def _ends_before(self, line: str) -> bool:
        """Whether the proposal ends before this (second or later) line."""
        stripped = line.strip()
        if not stripped:
            return self._some_code  # a blank line after some code
        if self._next and stripped == self._next:
            return True  # the model rewrites what already follows the cursor
        return _indent(line) < self._base and not set(stripped) <= _CLOSERS


def shape_proposal(
    raw: str | Iterable[str], prefix: str, suffix: str, mode: str = FULL, max_lines: int = MAX_LINES
) -> str:
    """The whole proposal from the model's raw text (or its pieces), by `ProposalShaper`."""
    shaper = ProposalShaper(prefix, suffix, mode, max_lines)
    parts = [shaper.feed(piece) for piece in ([raw] if isinstance(raw, str) else raw)]
    return "".join(parts) + shaper.finish()


def split_at_utf8(text: str, byte_offset: int) -> tuple[str, str]:
    """`text` split at a UTF-8 byte offset (the editor's positions are bytes), moved back to
    the start of the character it falls in, so neither part holds half a character.

    Returns:
        (before, after): `before + after == text`.
    """
    data = text.encode("utf-8", errors="surrogatepass")
    offset = max(0, min(byte_offset, len(data)))
    while 0 < offset < len(data) and data[offset] & 0xC0 == 0x80:  # a continuation byte
        offset -= 1
    before = data[:offset].decode("utf-8", errors="surrogatepass")
    return before, text[len(before) :]
