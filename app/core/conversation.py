"""The chat history and how it becomes a prompt within the model's context budget."""

from __future__ import annotations

from dataclasses import dataclass, field

CHARS_PER_TOKEN = 3.5  # a safe average for code and English in Llama-family tokenizers


@dataclass(frozen=True)
class Turn:
    """One message in the conversation."""

    role: str  # "user" | "assistant"
    content: str


@dataclass
class Conversation:
    """The messages so far; oldest turns are left out of the prompt when it grows too long."""

    turns: list[Turn] = field(default_factory=list)

    def add(self, role: str, content: str) -> None:
        """Append a turn."""
        self.turns.append(Turn(role, content))

    def clear(self) -> None:
        """Forget everything."""
        self.turns.clear()

    def prompt(
        self, system: str, budget_tokens: int, latest: str | None = None
    ) -> list[tuple[str, str]]:
        """The (role, content) messages to send: the system text, then as many recent turns
        as fit in `budget_tokens` (the latest turn always goes in).

        Args:
            system: the system prompt.
            budget_tokens: room for the prompt in tokens.
            latest: text to send in place of the latest user turn (e.g. the question wrapped
                in a lesson's chat template); the history keeps the plain question.
        """
        budget = int(budget_tokens * CHARS_PER_TOKEN) - len(system) - len(latest or "")
        chosen: list[Turn] = []
        for turn in reversed(self.turns):
            cost = len(turn.content) + 16
            if chosen and cost > budget:
                break
            chosen.append(turn)
            budget -= cost
        messages = [("system", system)] if system else []
        messages += [(t.role, t.content) for t in reversed(chosen)]
        if latest is not None and messages and messages[-1][0] == "user":
            messages[-1] = ("user", latest)
        return messages
