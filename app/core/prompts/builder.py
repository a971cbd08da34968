"""One place that turns a tutor action and its context into a prompt plan for the model.

The prompt is laid out so the model's cache of it is reused from one question to the next:
the system message holds the tutor's role and the lesson's rules, then the lesson text and
the learner's code (`CODE_CONTEXT`, unless the action's template places {code} itself); the
conversation after it only grows (each request is kept as it was sent); the latest message
holds the request: the question, the selection, the error, the output.

`build_prompt` keeps every part whole; the worker fits the plan to the model's context
with its own tokenizer (`budget.fit_prompt`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath

from app.core.prompts.messages import ChatMessage
from app.core.prompts.plan import COMMENT_PREFIXES, CodePart, Cut, PromptPlan, TextPart
from app.core.prompts.templates import (
    TemplateError,
    merged_templates,
    template_problems,
    template_variables,
    tutor_instructions,
)
from app.core.tutor.actions import TutorAction
from app.core.tutor.context import TutorContext

FREE_SYSTEM_PROMPT = (
    "You are Code Tutor, a patient programming teacher for beginners. Explain in plain words, "
    "keep answers short, and put code in fenced Markdown blocks with the language name."
)
"""The system message outside lessons."""

LESSON_CONTEXT = """The lesson the learner is working on:
{lesson_text}"""
"""Added to the system message instead of `CODE_CONTEXT` when the code is blank, so the
tutor still knows the lesson (an empty paragraph outside lessons)."""

CODE_CONTEXT = f"""{LESSON_CONTEXT}

The learner's code, {{file_name}} ({{language}}):
```{{language}}
{{code}}
```"""
"""Added to the system message when the action's template does not place the code itself.
The code and the lesson stay in one place at the start, so the conversation after them only
grows: the model's cache of the prompt so far is reused from one question to the next."""

CUT_TEXTS = (
    # (variable, how the note names it, when it is cut)
    ("output", "the program's output", Cut.OUTPUT),
    ("program_input", "the program's input", Cut.OUTPUT),
    ("lesson_text", "the lesson text", Cut.LESSON),
    ("error", "the error output", Cut.ERROR),
    ("failed_checks", "the failed checks", Cut.ERROR),
)
"""The variables besides the code that may lose their middle to fit, in cutting order."""

ERROR_FOCUS_ACTIONS = frozenset({TutorAction.DEBUG, TutorAction.HINT})
"""Actions for which the line the error points at is kept like the cursor's."""


def template_values(
    action: TutorAction, context: TutorContext, question: str = ""
) -> dict[str, str]:
    """The template variables for `action` in `context`, every part whole."""
    run = context.run
    values = {
        "language": context.language_name,
        "code": context.code,
        "selection": context.selection,
        "selection_lines": _lines_words(_selection_lines(context)),
        "cursor_line": str(context.cursor_line),
        "file_name": context.file_name,
        "question": question,
        "hint_level": str(context.hint_level),
        "error": run.error if run else "",
        "error_line": _error_line(context),
        "error_message": run.error_message if run else "",
        "failed_checks": format_failed_checks(run.failed_checks) if run else "",
        "output": run.output_tail if run else "",
        "program_input": run.program_input if run else "",
    }
    lesson = context.lesson
    if lesson is not None:
        shown = lesson.hints[: lesson.hints_shown]
        values |= {
            "lesson_title": lesson.title,
            "lesson_goal": lesson.goal,
            "lesson_text": lesson.text,
            "instructions": tutor_instructions(lesson.policy.help, lesson.policy.instructions),
            "hint_count": str(len(lesson.hints)),
            "hint": shown[-1] if shown else "",
            "hints_shown": "\n".join(f"{i}. {hint}" for i, hint in enumerate(shown, 1)),
        }
    return values


def format_failed_checks(failed: Sequence[tuple[str, str]]) -> str:
    """Each failed check's message and details, numbered, the details indented below."""
    blocks = []
    for number, (message, details) in enumerate(failed, 1):
        lines = [f"{number}. {message.strip()}"]
        lines += [f"   {line}" if line.strip() else "" for line in details.strip().splitlines()]
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def build_prompt(
    action: TutorAction,
    context: TutorContext,
    templates: Mapping[str, str],
    history: Sequence[ChatMessage] = (),
    question: str = "",
) -> PromptPlan:
    """The plan of the prompt for `action`: system, the earlier turns, the rendered request,
    every part whole, with what may be cut to fit the model's context.

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
            template = "{question}"
        else:
            template = templates[action.value]
    else:
        merged = merged_templates(templates, lesson.policy.templates)
        try:
            system, template = merged["system"], merged[action.value]
            problems = template_problems(system) + template_problems(template)
            if problems:
                raise TemplateError("; ".join(problems))
        except (TemplateError, KeyError) as exc:
            raise TemplateError(
                f"The tutor cannot answer in this lesson: its prompt template does not work "
                f"({exc}). Tell your teacher; `codetutor lessons check` shows the problem."
            ) from exc
    cut = {name for name, _label, _stage in CUT_TEXTS} | {"code", "selection"}
    used = template_variables(system) | template_variables(template)
    if "code" not in used:
        if context.code.strip():
            system = f"{system}\n\n{CODE_CONTEXT}"
        elif "lesson_text" not in used and lesson is not None and lesson.text.strip():
            system = f"{system}\n\n{LESSON_CONTEXT}"
    return PromptPlan(
        system_template=system,
        template=template,
        values=tuple((k, v) for k, v in values.items() if k not in cut),
        history=tuple(history),
        code=_code_part(action, context),
        texts=tuple(
            TextPart(name, values.get(name, "").rstrip("\n"), label, stage)
            for name, label, stage in CUT_TEXTS
        ),
    )


def build_messages(
    action: TutorAction,
    context: TutorContext,
    templates: Mapping[str, str],
    history: Sequence[ChatMessage] = (),
    question: str = "",
) -> list[ChatMessage]:
    """The messages of `build_prompt`'s plan, every part whole (no token budget).

    For callers that leave the budget to the backend; the tutor sends the plan itself
    (`LlmService.send_prompt`), fitted to the model's context on the worker thread.

    Raises:
        TemplateError: as `build_prompt`, or the whole prompt is over the size any prompt
            may have (`templates.MAX_PROMPT_CHARS`).
    """
    return build_prompt(action, context, templates, history, question).render()


def _code_part(action: TutorAction, context: TutorContext) -> CodePart:
    """The code with its focus: the selection (else the cursor's line), and for Debug and
    Hint the line the error points at when it is in this file."""
    lines = context.code.split("\n")
    if lines[-1] == "":  # the file's last line end, or an empty file
        lines.pop()
    n = max(len(lines), 1)

    def clamp(line: int) -> int:
        return min(max(line, 1), n)

    selected = _selection_lines(context)
    if selected is not None:
        first, last = selected
        focus = [(clamp(first), clamp(last))]
        selection_first = clamp(first)
    else:
        focus = [(clamp(context.cursor_line),) * 2]
        selection_first = 0
    error_line = _error_line_number(context)
    if action in ERROR_FOCUS_ACTIONS and error_line is not None:
        focus.append((clamp(error_line),) * 2)
    return CodePart(
        lines=tuple(lines),
        focus=tuple(focus),
        file_name=context.file_name,
        comment=COMMENT_PREFIXES.get(context.language, ""),
        selection=context.selection,
        selection_first=selection_first,
    )


def _selection_lines(context: TutorContext) -> tuple[int, int] | None:
    """The selection's (first, last) lines; found in the code when the snapshot lacks
    them; None when nothing is selected."""
    if not context.selection:
        return None
    if context.selection_lines is not None:
        first, last = sorted(context.selection_lines)
        return first, last
    index = context.code.find(context.selection)
    if index < 0:
        return None
    first = context.code.count("\n", 0, index) + 1
    return first, first + context.selection.count("\n")


def _error_line_number(context: TutorContext) -> int | None:
    """The line of this file the last error points at, or None."""
    run = context.run
    if run is None or run.error_line is None:
        return None
    if run.error_file and PurePath(run.error_file).name != PurePath(context.file_name).name:
        return None
    return run.error_line


def _error_line(context: TutorContext) -> str:
    """{error_line}: "12", or "12 of helper.py" when the error is in another file."""
    run = context.run
    if run is None or run.error_line is None:
        return ""
    if _error_line_number(context) is None:
        return f"{run.error_line} of {PurePath(run.error_file).name}"
    return str(run.error_line)


def _lines_words(lines: tuple[int, int] | None) -> str:
    """The lines in words: "line 3", "lines 3–7", or "" when unknown."""
    if lines is None:
        return ""
    first, last = lines
    return f"line {first}" if first == last else f"lines {first}–{last}"
