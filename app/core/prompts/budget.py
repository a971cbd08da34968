"""The one token-budget policy: which messages of a conversation fit in the context.

It takes a `count_tokens` callable: the model's own tokenizer for a local model (exact), or
`estimate_tokens` where no tokenizer is at hand (a server without /tokenize).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from app.core.prompts.messages import ChatMessage

CHARS_PER_TOKEN = 3.5  # a safe average for code and English in Llama-family tokenizers
TEMPLATE_TOKENS_PER_MESSAGE = 8  # what a chat template adds around each message


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
