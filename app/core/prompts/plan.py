"""A tutor prompt before it meets a model: its parts, what each may lose, and rendering.

A `PromptPlan` is built on the UI thread from the click's snapshot (`builder.build_prompt`)
and fitted on the worker thread, where the model's tokenizer is (`budget.fit_prompt`). The
plan keeps every part whole; `Cuts` says how much of each part a rendering keeps, and
`PromptPlan.render` and `PromptPlan.note` turn a `Cuts` into messages and into the one line
that tells the learner what was left out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.core.prompts.messages import ChatMessage
from app.core.prompts.templates import render

COMMENT_PREFIXES = {
    "python": "#",
    "bash": "#",
    "cpp": "//",
    "java": "//",
    "javascript": "//",
    "typescript": "//",
    "php": "//",
    "csharp": "//",
}
"""How a marker line starts in each language's code, so it reads as a comment."""


class Cut(enum.IntEnum):
    """What a prompt loses, in this order, until it fits (the lowest goes first).

    The system message and the learner's question are never cut.
    """

    OLDER_TURNS = 1  # chat turns before the latest exchange, oldest first
    OUTPUT = 2  # the middle of the program's output and input, down to a head and tail
    LESSON = 3  # the middle of the lesson text, down to a head and tail
    FAR_CODE = 4  # code far from the cursor, selection or error line
    RECENT_TURNS = 5  # the latest exchange of the chat
    ERROR = 6  # the middle of the error output and the failed checks
    NEAR_CODE = 7  # the few lines around the cursor, selection or error line
    FOCUS = 8  # the end of a long selection
    REST = 9  # what OUTPUT and LESSON kept of the output, input and lesson text


@dataclass(frozen=True)
class TextPart:
    """A text that may lose its middle to fit: the program's output, the error, ...

    Attributes:
        variable: the template variable it fills ("output").
        text: the whole text.
        label: how the note names it ("the program's output").
        stage: when it is cut (`Cut.OUTPUT`, `Cut.LESSON` or `Cut.ERROR`).
    """

    variable: str
    text: str
    label: str
    stage: Cut


@dataclass(frozen=True)
class CodePart:
    """The learner's file: whole when it fits, else windows of lines around the focus.

    Attributes:
        lines: the file's lines, without their line ends.
        focus: 1-based (first, last) line ranges that matter most: the selection or the
            cursor's line, and for Debug and Hint the line the error points at.
        file_name: how the note names the file ("main.py").
        comment: what a marker line starts with ("#", "//"; "" for a neutral "…" line).
        selection: the selected text ("" when nothing is selected).
        selection_first: the selection's first line (0 when nothing is selected).
    """

    lines: tuple[str, ...]
    focus: tuple[tuple[int, int], ...]
    file_name: str
    comment: str = ""
    selection: str = ""
    selection_first: int = 0

    @property
    def longest_focus(self) -> int:
        """The number of lines of the longest focus range (at least 1)."""
        return max((last - first + 1 for first, last in self.focus), default=1)

    def marker(self, first: int, last: int, what: str = "") -> str:
        """A line saying that lines `first`–`last` are left out, as a comment of the language."""
        where = f"line {first}" if first == last else f"lines {first}–{last}"
        text = f"… {where}{what} left out …"
        return f"{self.comment} {text}" if self.comment else text

    def window(self, radius: int, focus_cap: int) -> tuple[str, tuple[tuple[int, int], ...]]:
        """The code with only the lines near the focus, and the ranges left out.

        Args:
            radius: lines kept before and after each focus range.
            focus_cap: lines kept of each focus range, from its start.

        Returns:
            (the code with a marker line for each gap, the (first, last) ranges left out).
        """
        n = len(self.lines)
        spans = sorted(
            (max(1, first - radius), min(n, min(last, first + focus_cap - 1) + radius))
            for first, last in self.focus
        )
        merged: list[list[int]] = []
        for first, last in spans:
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        out: list[str] = []
        gaps: list[tuple[int, int]] = []
        line = 1
        for first, last in merged:
            if first > line:
                gaps.append((line, first - 1))
                out.append(self.marker(line, first - 1))
            out.extend(self.lines[first - 1 : last])
            line = last + 1
        if line <= n:
            gaps.append((line, n))
            out.append(self.marker(line, n))
        return "\n".join(out), tuple(gaps)

    def selection_text(self, focus_cap: int) -> str:
        """The selection, or its first `focus_cap` lines and a marker for the rest."""
        lines = self.selection.split("\n")
        if not self.selection_first or len(lines) <= focus_cap:
            return self.selection
        first = self.selection_first + focus_cap
        last = self.selection_first + len(lines) - 1
        return "\n".join([*lines[:focus_cap], self.marker(first, last, " of the selection")])


@dataclass(frozen=True)
class Cuts:
    """How much of each part one rendering keeps.

    Attributes:
        turns: how many of the newest history turns are kept.
        caps: characters kept of each `PromptPlan.texts` part, in order.
        radius: lines kept around each focus range of the code.
        focus_cap: lines kept of each focus range.
    """

    turns: int
    caps: tuple[int, ...]
    radius: int
    focus_cap: int


@dataclass(frozen=True)
class FittedPrompt:
    """A plan rendered to fit the model's context.

    Attributes:
        messages: what is sent: system, the kept turns, the latest message.
        prompt_tokens: the tokens the messages take, with the chat template's overhead.
        budget_tokens: the room there was (the context less the reply's room).
        note: one plain line of what was left out, "" when nothing was.
    """

    messages: tuple[ChatMessage, ...]
    prompt_tokens: int
    budget_tokens: int
    note: str = ""

    @property
    def fits(self) -> bool:
        """The messages fit in the budget (they may not when the question alone is too long)."""
        return self.prompt_tokens <= self.budget_tokens


@dataclass(frozen=True)
class PromptPlan:
    """Everything a tutor request says, whole, with what may be cut to fit.

    Attributes:
        system_template: the system message's template (never cut).
        template: the latest message's template (the action's, or "{question}").
        values: the variables that are never cut, such as the question, as (name, value).
        history: the earlier chat turns, oldest first.
        code: the learner's file, which fills {code} and {selection}.
        texts: the other parts that may lose their middle (output, input, error, ...).
    """

    system_template: str
    template: str
    values: tuple[tuple[str, str], ...]
    history: tuple[ChatMessage, ...] = ()
    code: CodePart = CodePart((), ((1, 1),), "untitled")
    texts: tuple[TextPart, ...] = ()

    def whole(self) -> Cuts:
        """The cuts that keep everything."""
        return Cuts(
            turns=len(self.history),
            caps=tuple(len(part.text) for part in self.texts),
            radius=len(self.code.lines),
            focus_cap=self.code.longest_focus,
        )

    def kept_history(self, cuts: Cuts) -> tuple[ChatMessage, ...]:
        """The newest `cuts.turns` turns, starting at a question (chat templates alternate)."""
        start = len(self.history) - max(0, min(cuts.turns, len(self.history)))
        while start < len(self.history) and self.history[start].role != "user":
            start += 1
        return self.history[start:]

    def render(self, cuts: Cuts | None = None) -> list[ChatMessage]:
        """The messages with `cuts` applied (None: everything whole).

        Raises:
            TemplateError: a template cannot render, or the prompt is over the size any
                prompt may have (`templates.MAX_PROMPT_CHARS`).
        """
        cuts = cuts or self.whole()
        values = dict(self.values)
        values["code"], _gaps = self.code.window(cuts.radius, cuts.focus_cap)
        values["selection"] = self.code.selection_text(cuts.focus_cap)
        for part, cap in zip(self.texts, cuts.caps, strict=True):
            values[part.variable] = cut_middle(part.text, cap)
        system = render(self.system_template, **values)
        latest = render(self.template, **values)
        history = self.kept_history(cuts)
        return [ChatMessage("system", system), *history, ChatMessage("user", latest)]

    def note(self, cuts: Cuts) -> str:
        """One plain line naming what `cuts` leaves out; "" when it leaves out nothing."""
        items: list[str] = []
        dropped = len(self.history) - len(self.kept_history(cuts))
        if dropped:
            items.append(f"{dropped:,} older message{'s' if dropped != 1 else ''}")
        text_items = {
            part.variable: _text_item(part, cap)
            for part, cap in zip(self.texts, cuts.caps, strict=True)
            if cap < len(part.text)
        }
        for part in self.texts:
            if part.stage < Cut.FAR_CODE and part.variable in text_items:
                items.append(text_items[part.variable])
        _code, gaps = self.code.window(cuts.radius, cuts.focus_cap)
        if gaps:
            ranges = [f"{a:,}" if a == b else f"{a:,}–{b:,}" for a, b in gaps]
            word = "line" if len(gaps) == 1 and gaps[0][0] == gaps[0][1] else "lines"
            items.append(f"{word} {_and(ranges)} of {self.code.file_name}")
        for part in self.texts:
            if part.stage >= Cut.FAR_CODE and part.variable in text_items:
                items.append(text_items[part.variable])
        if not items:
            return ""
        return f"Left out to fit the model's context: {', '.join(items)}."


def cut_middle(text: str, keep: int) -> str:
    """`text` with its middle replaced by a marker line, keeping about `keep` characters.

    The head and the tail keep whole lines where the text has line breaks; the marker says
    how many characters were left out.
    """
    if len(text) <= keep:
        return text
    head = text[: keep // 2]
    tail = text[len(text) - (keep - keep // 2) :] if keep - keep // 2 else ""
    if "\n" in head:
        head = head[: head.rfind("\n") + 1]
    if "\n" in tail:
        tail = tail[tail.find("\n") + 1 :]
    left_out = len(text) - len(head) - len(tail)
    if head and not head.endswith("\n"):
        head += "\n"
    marker = f"… {left_out:,} characters left out …"
    return f"{head}{marker}\n{tail}" if tail else f"{head}{marker}"


def _text_item(part: TextPart, cap: int) -> str:
    return part.label if cap <= 0 else f"the middle of {part.label}"


def _and(items: list[str]) -> str:
    """The items in words: "a", "a and b", "a, b and c"."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
