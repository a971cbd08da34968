"""One place that turns a tutor action and its context into the messages for the model.

Stable parts come first and volatile parts last, so the model's cached prefix survives
between requests: the system message holds only the tutor's role and the lesson's rules
(the same for a whole lesson), the conversation follows, and the learner's code, which
changes with every keystroke, goes into the latest message only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.core.prompts.messages import ChatMessage
from app.core.prompts.templates import (
    TemplateError,
    merged_templates,
    render,
    tutor_instructions,
)
from app.core.tutor.actions import TutorAction
from app.core.tutor.context import TutorContext

FREE_SYSTEM_PROMPT = (
    "You are Code Tutor, a patient programming teacher for beginners. Explain in plain words, "
    "keep answers short, and put code in fenced Markdown blocks with the language name."
)
"""The system message outside lessons."""

CODE_CHARS = 6000  # the end of a longer file is sent (the budget in tokens comes later)


def template_values(
    action: TutorAction, context: TutorContext, question: str = ""
) -> dict[str, str]:
    """The template variables for `action` in `context`."""
    lesson = context.lesson
    values = {
        "language": context.language_name,
        "code": context.code[-CODE_CHARS:],
        "selection": context.selection,
        "error": context.run.error if context.run else "",
        "question": question,
        "hint_level": str(context.hint_level),
    }
    if lesson is not None:
        shown = lesson.hints[: lesson.hints_shown]
        values |= {
            "lesson_title": lesson.title,
            "lesson_goal": lesson.goal,
            "instructions": tutor_instructions(lesson.policy.help, lesson.policy.instructions),
            "hint_count": str(len(lesson.hints)),
            "hint": shown[-1] if shown else "",
        }
    return values


def build_messages(
    action: TutorAction,
    context: TutorContext,
    templates: Mapping[str, str],
    history: Sequence[ChatMessage] = (),
    question: str = "",
) -> list[ChatMessage]:
    """The messages to send for `action`: system, the earlier turns, the rendered request.

    Args:
        action: what the learner asked for.
        context: the snapshot taken at the click.
        templates: the default templates (a lesson's overrides are applied here).
        history: the earlier turns of the conversation (plain questions and replies).
        question: the learner's words (chat).

    Raises:
        TemplateError: in a lesson, its template cannot render. The tutor fails closed: it
            refuses with this message instead of answering with the generic prompt, which
            does not carry the lesson's rules (hints only, ...).
    """
    values = template_values(action, context, question)
    lesson = context.lesson
    if lesson is None:
        system = FREE_SYSTEM_PROMPT
        if action is TutorAction.CHAT and not context.code.strip():
            latest = question
        else:
            latest = _render(templates, action.value, values)
    else:
        merged = merged_templates(templates, lesson.policy.templates)
        try:
            system = render(merged["system"], **values)
            latest = render(merged[action.value], **values)
        except (TemplateError, KeyError) as exc:
            raise TemplateError(
                f"The tutor cannot answer in this lesson: its prompt template does not work "
                f"({exc}). Tell your teacher; `codetutor lessons check` shows the problem."
            ) from exc
    return [ChatMessage("system", system), *history, ChatMessage("user", latest)]


def _render(templates: Mapping[str, str], name: str, values: Mapping[str, str]) -> str:
    return render(templates[name], **values)
