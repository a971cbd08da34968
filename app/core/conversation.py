"""The chat history: the plain questions and replies, oldest first.

Which turns fit in the model's context is decided when a request is sent, by the one budget
policy (`app.core.prompts.budget.fit_messages`) with the model's own token counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.prompts.messages import ChatMessage

MAX_TURNS = 40  # kept for the prompt; older turns would never fit a tutor's context anyway


@dataclass
class Conversation:
    """The messages so far."""

    turns: list[ChatMessage] = field(default_factory=list)

    def add(self, role: str, content: str) -> None:
        """Append a turn ("user" or "assistant")."""
        self.turns.append(ChatMessage(role, content))

    def clear(self) -> None:
        """Forget everything."""
        self.turns.clear()

    def history(self) -> tuple[ChatMessage, ...]:
        """The recent turns to send before a new request (oldest first)."""
        return tuple(self.turns[-MAX_TURNS:])
