"""The one buffer for text that arrives in many small pieces (a reply's tokens, a program's
output) and is painted in few large ones: pieces are kept in a list per stretch of one
stream and joined once when taken, because `+=` per piece is quadratic."""

from __future__ import annotations

from collections import deque


class ChunkBuffer:
    """Pieces of text by stream ("stdout", "stderr", "" for a reply), in arrival order.

    Not locked: a buffer filled from another thread is guarded by its owner's lock.
    """

    def __init__(self) -> None:
        self._runs: deque[tuple[str, list[str]]] = deque()

    def append(self, text: str, stream: str = "") -> None:
        """Add a piece; it joins the last stretch when that is of the same stream."""
        if not text:
            return
        if self._runs and self._runs[-1][0] == stream:
            self._runs[-1][1].append(text)
        else:
            self._runs.append((stream, [text]))

    def __bool__(self) -> bool:
        return bool(self._runs)

    def take_all(self) -> list[tuple[str, str]]:
        """Every stretch as (stream, text), oldest first; the buffer is empty after."""
        runs = [(stream, "".join(parts)) for stream, parts in self._runs]
        self._runs.clear()
        return runs

    def take_text(self) -> str:
        """All the text, whatever its stream; the buffer is empty after."""
        return "".join(text for _stream, text in self.take_all())

    def put_back(self, runs: list[tuple[str, str]]) -> None:
        """Return `runs` (oldest first) to the front of the buffer, before what is there."""
        for stream, text in reversed(runs):
            if text:
                self._runs.appendleft((stream, [text]))

    def clear(self) -> None:
        """Drop everything."""
        self._runs.clear()
