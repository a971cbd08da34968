"""Notices a reply that repeats itself: small models loop ("Let me know if you have any
questions. Let me know if you have any questions. ..."), and a repeat penalty alone does not
always stop them."""

from __future__ import annotations

import re

REPEATS = 3
"""A sentence said this many times ends the reply."""
MIN_SENTENCE_CHARS = 12  # "Yes." twice is not a loop
TAIL_CHARS = 4000  # only the end of a long reply is looked at, so a check stays cheap

_FENCE = re.compile(r"^(```|~~~).*?(^\1|\Z)", re.MULTILINE | re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def repetition_end(text: str, times: int = REPEATS) -> int | None:
    """Where in `text` a sentence is said for the `times`-th time: the offset just after
    it, or None. The reply is cut there (code blocks are not looked at)."""
    start = max(0, len(text) - TAIL_CHARS)
    prose = _FENCE.sub(lambda m: " " * len(m.group(0)), text[start:])
    counts: dict[str, int] = {}
    position = 0
    for separator in [*_SENTENCE_END.finditer(prose), None]:
        end = separator.start() if separator else len(prose)
        raw = prose[position:end]
        sentence = " ".join(raw.strip(" -*>#\t").rstrip(".!?").lower().split())
        if len(sentence) >= MIN_SENTENCE_CHARS:
            counts[sentence] = counts.get(sentence, 0) + 1
            if counts[sentence] >= times:
                return start + end
        position = separator.end() if separator else len(prose)
    return None


def repeated_sentence(text: str, times: int = REPEATS) -> str | None:
    """The sentence of the prose that `text` says `times` times or more, or None.

    Code blocks are left out (a program may rightly repeat a line), and sentences are
    compared without case, spacing or list markers.
    """
    prose = _FENCE.sub("\n", text[-TAIL_CHARS:])
    counts: dict[str, int] = {}
    for raw in _SENTENCE_END.split(prose):
        sentence = " ".join(raw.strip(" -*>#\t").rstrip(".!?").lower().split())
        if len(sentence) < MIN_SENTENCE_CHARS:
            continue
        counts[sentence] = counts.get(sentence, 0) + 1
        if counts[sentence] >= times:
            return raw.strip()
    return None
