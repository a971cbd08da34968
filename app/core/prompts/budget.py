"""The one token-budget policy: what of a prompt fits in the model's context.

`fit_prompt` fits a tutor's `PromptPlan`, part by part in the order of `plan.Cut`; the
older `fit_messages` fits plain messages by dropping the oldest turns. Both take a
`count_tokens` callable: the model's own tokenizer for a local model (exact), or
`estimate_tokens` where no tokenizer is at hand (a server without /tokenize).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from app.core.prompts.messages import ChatMessage
from app.core.prompts.plan import Cut, Cuts, FittedPrompt, PromptPlan
from app.core.prompts.templates import TemplateError

CHARS_PER_TOKEN = 3.5  # a safe average for code and English in Llama-family tokenizers
TEMPLATE_TOKENS_PER_MESSAGE = 8  # what a chat template adds around each message
RECENT_TURNS = 2  # the latest question and reply, kept longer than code far from the cursor
NEAR_LINES = 3  # lines around the cursor (selection, error line) kept longer than the error
TEXT_FLOOR_CHARS = 400  # of the output, input and lesson text, kept longer than far code

Stage = tuple[Cut, int, int, Callable[[Cuts, int], Cuts]]


def estimate_tokens(text: str) -> int:
    """An estimate of the tokens `text` takes (3.5 characters a token), never below 1."""
    return max(1, round(len(text) / CHARS_PER_TOKEN))


def fit_messages(
    messages: Sequence[ChatMessage],
    budget_tokens: int,
    count_tokens: Callable[[str], int] = estimate_tokens,
) -> list[ChatMessage]:
    """Drop the oldest turns until the messages fit in `budget_tokens`.

    The system message (first, when there is one) and the latest message always stay: the
    latest is what was asked, and a latest message too long on its own is left for the
    model to refuse with its own words. Turns go oldest first, so what remains is a recent,
    unbroken stretch of the conversation.

    Args:
        messages: system (optional), then the turns, oldest first.
        budget_tokens: room for the prompt, in tokens (the context less the reply's room).
        count_tokens: how many tokens a text takes.
    """
    kept = list(messages)
    sizes = [count_tokens(m.content) + TEMPLATE_TOKENS_PER_MESSAGE for m in kept]
    first = 1 if kept and kept[0].role == "system" else 0
    while sum(sizes) > budget_tokens and len(kept) - first > 1:
        del kept[first]
        del sizes[first]
    return kept


def fit_prompt(
    plan: PromptPlan,
    budget_tokens: int,
    count_tokens: Callable[[str], int] = estimate_tokens,
    per_message_tokens: int = TEMPLATE_TOKENS_PER_MESSAGE,
) -> FittedPrompt:
    """Render `plan` into messages that fit in `budget_tokens`, cutting what matters least.

    When the whole prompt does not fit, parts are cut in the order of `Cut`: the older
    turns (oldest first, down to the latest exchange), the middle of the program's output
    and input, the middle of the lesson text, the code far from the cursor or selection,
    the latest exchange, the error, the lines near the cursor, and the end of a long
    selection. Each stage is shrunk only as far as needed (a binary search on its size),
    so the prompt fills the budget. The system message and the question are never cut;
    when they alone are over the budget the result says so (`fits` is False).

    Args:
        plan: the prompt, every part whole.
        budget_tokens: room for the prompt (the context less the reply's room).
        count_tokens: how many tokens a text takes.
        per_message_tokens: what the chat template adds per message (and for the reply's
            header).

    Returns:
        The messages, their token count, the budget, and a note of what was left out.
    """
    counts: dict[str, int] = {}

    def tokens(messages: list[ChatMessage]) -> int:
        for message in messages:
            if message.content not in counts:
                counts[message.content] = count_tokens(message.content)
        return per_message_tokens * (len(messages) + 1) + sum(counts[m.content] for m in messages)

    def fits(cuts: Cuts) -> bool:
        try:
            messages = plan.render(cuts)
        except TemplateError:  # over the size any prompt may have: it cannot fit
            return False
        return tokens(messages) <= budget_tokens

    cuts = plan.whole()
    if not fits(cuts):
        for _stage, low, high, apply in _stages(plan, cuts):
            best = _largest(low, high, lambda size, c=cuts, a=apply: fits(a(c, size)))
            if best is not None:
                cuts = apply(cuts, best)
                break
            cuts = apply(cuts, low)
    messages = plan.render(cuts)  # a question over the size cap raises, saying so
    return FittedPrompt(tuple(messages), tokens(messages), budget_tokens, plan.note(cuts))


def _stages(plan: PromptPlan, whole: Cuts) -> Iterator[Stage]:
    """Each stage of cutting: (what, smallest size, whole size, apply a size to cuts)."""
    turns = whole.turns
    recent = min(RECENT_TURNS, turns)

    def set_turns(cuts: Cuts, size: int) -> Cuts:
        return replace(cuts, turns=size)

    def set_radius(cuts: Cuts, size: int) -> Cuts:
        return replace(cuts, radius=size)

    def set_focus(cuts: Cuts, size: int) -> Cuts:
        return replace(cuts, focus_cap=size)

    def texts(stage: Cut, parts: tuple[Cut, ...], low: int, high: int | None) -> Stage | None:
        """Cap the texts cut in `parts` at one size, from `high` (None: whole) to `low`."""
        indexes = [i for i, part in enumerate(plan.texts) if part.stage in parts]
        if not indexes:
            return None

        def cap(cuts: Cuts, size: int) -> Cuts:
            caps = tuple(min(c, size) if i in indexes else c for i, c in enumerate(cuts.caps))
            return replace(cuts, caps=caps)

        longest = max(whole.caps[i] for i in indexes)
        top = longest if high is None else min(high, longest)
        return stage, min(low, top), top, cap

    near = min(NEAR_LINES, whole.radius)
    stages: list[Stage | None] = [
        (Cut.OLDER_TURNS, recent, turns, set_turns),
        texts(Cut.OUTPUT, (Cut.OUTPUT,), TEXT_FLOOR_CHARS, None),
        texts(Cut.LESSON, (Cut.LESSON,), TEXT_FLOOR_CHARS, None),
        (Cut.FAR_CODE, near, whole.radius, set_radius),
        (Cut.RECENT_TURNS, 0, recent, set_turns),
        texts(Cut.ERROR, (Cut.ERROR,), 0, None),
        (Cut.NEAR_CODE, 0, near, set_radius),
        (Cut.FOCUS, 1, whole.focus_cap, set_focus),
        texts(Cut.REST, (Cut.OUTPUT, Cut.LESSON), 0, TEXT_FLOOR_CHARS),
    ]
    for stage in stages:
        if stage is not None and stage[1] < stage[2]:
            yield stage


def _largest(low: int, high: int, fits: Callable[[int], bool]) -> int | None:
    """The largest size in [low, high] that fits (sizes that fit are assumed to be the
    smaller ones), or None when not even `low` fits."""
    if not fits(low):
        return None
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low
