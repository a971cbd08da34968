"""What the learner can ask the tutor to do."""

from __future__ import annotations

import enum

from app.core.tutor.context import TutorContext


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


def action_label(action: TutorAction, context: TutorContext) -> str:
    """What was asked, as the chat shows it above the reply.

    "Explain — lines 3–7 of main.py", "Explain — main.py", "Debug — the error on line 12
    of main.py", "Debug — 2 failed checks", "Hint 4", "Document — line 3 of main.py".
    Chat has no label: the learner's own words are shown.
    """
    name = context.file_name
    where = name
    if context.selection and context.selection_lines:
        first, last = context.selection_lines
        lines = f"line {first}" if first == last else f"lines {first}–{last}"
        where = f"{lines} of {name}"
    if action is TutorAction.EXPLAIN or action is TutorAction.DOCUMENT:
        return f"{action.label} — {where}"
    if action is TutorAction.HINT:
        return f"Hint {context.hint_level} from the tutor"
    if action is TutorAction.DEBUG:
        run = context.run
        if run is not None and run.failed_checks and run.kind == "check":
            count = len(run.failed_checks)
            return f"Debug — {count} failed check{'s' if count != 1 else ''}"
        if run is not None and run.error_line:
            return f"Debug — the error on line {run.error_line} of {run.error_file or name}"
        return f"Debug — {name}"
    return ""
