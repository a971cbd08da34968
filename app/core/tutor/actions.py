"""What the learner can ask the tutor to do."""

from __future__ import annotations

import enum


class TutorAction(enum.Enum):
    """A tutor action; its value is the prompt template it renders."""

    EXPLAIN = "explain"
    HINT = "hint"
    DEBUG = "debug"
    DOCUMENT = "document"
    CHAT = "chat"

    @property
    def label(self) -> str:
        """The action's name for buttons and the chat's labels."""
        return self.value.capitalize()
