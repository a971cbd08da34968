"""The message type every prompt is made of."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChatMessage:
    """One message of a conversation, as sent to the model."""

    role: str  # "system" | "user" | "assistant"
    content: str
