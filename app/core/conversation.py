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

    def prompt(self, system: str, budget_tokens: int) -> list[tuple[str, str]]:
        """The (role, content) messages to send: the system text, then as many recent turns
        as fit in `budget_tokens` (the latest turn always goes in)."""
        budget = int(budget_tokens * CHARS_PER_TOKEN) - len(system)
        chosen: list[Turn] = []
        for turn in reversed(self.turns):
            cost = len(turn.content) + 16
            if chosen and cost > budget:
                break
            chosen.append(turn)
            budget -= cost
        messages = [("system", system)] if system else []
        messages += [(t.role, t.content) for t in reversed(chosen)]
        return messages
