"""Prompt building in core: stable parts first, code last, each action's template, the budget,
and failing closed on a lesson template that cannot render."""

from __future__ import annotations

import pytest

from app.core.lessons.model import TutorPolicy
from app.core.prompts.budget import estimate_tokens, fit_messages
from app.core.prompts.builder import FREE_SYSTEM_PROMPT, build_messages
from app.core.prompts.messages import ChatMessage
from app.core.prompts.templates import TemplateError, load_default_templates
from app.core.tutor.actions import TutorAction
from app.core.tutor.context import LessonBrief, RunBrief, TutorContext

TEMPLATES = load_default_templates()
LESSON = LessonBrief(
    key="py/01",
    title="Print and variables",
    goal="Store a name and print it",
    hints=("Use a variable.", "Call print()."),
    hints_shown=1,
)


def _context(code: str = "name = 'Ada'\nprint(name)\n", **kw) -> TutorContext:
    return TutorContext(code=code, language="python", language_name="Python", **kw)


def test_free_chat_keeps_the_code_out_of_the_system_message():
    """Outside lessons the system message is the fixed tutor text; the code rides last."""
    messages = build_messages(TutorAction.CHAT, _context(), TEMPLATES, (), "What is print?")
    assert messages[0] == ChatMessage("system", FREE_SYSTEM_PROMPT)
    assert "What is print?" in messages[-1].content and "print(name)" in messages[-1].content


def test_free_chat_without_code_sends_just_the_question():
    """With an empty editor, the question goes as it is, with no empty code block."""
    messages = build_messages(TutorAction.CHAT, _context(""), TEMPLATES, (), "Hi")
    assert messages[-1] == ChatMessage("user", "Hi")


def test_lesson_system_message_is_the_same_whatever_the_code():
    """In a lesson the system message depends on the lesson only, so an edit keeps the
    model's cached prefix; the history sits between it and the latest message."""
    history = (ChatMessage("user", "earlier"), ChatMessage("assistant", "reply"))
    a = build_messages(TutorAction.CHAT, _context("x = 1", lesson=LESSON), TEMPLATES, history, "?")
    b = build_messages(TutorAction.CHAT, _context("y = 2", lesson=LESSON), TEMPLATES, history, "?")
    assert a[0] == b[0] and "Print and variables" in a[0].content
    assert "hints mode" in a[0].content
    assert a[1:3] == list(history) and a[-1] != b[-1]
    assert "x = 1" in a[-1].content and "x = 1" not in a[0].content


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (TutorAction.EXPLAIN, "explain this Python code"),
        (TutorAction.DEBUG, "NameError: name 'nme' is not defined"),
        (TutorAction.DOCUMENT, "document this Python code"),
        (TutorAction.HINT, "The teacher's hint for this step: Use a variable."),
    ],
)
def test_each_action_renders_its_own_template(action, expected):
    """Explain, Debug, Document and Hint each send their template, filled from the context."""
    run = RunBrief(error="NameError: name 'nme' is not defined")
    context = _context(lesson=LESSON, run=run, selection="print(name)", hint_level=2)
    latest = build_messages(action, context, TEMPLATES)[-1].content
    assert expected in latest and "print(name)" in latest
    if action is TutorAction.HINT:
        assert "hint 2 of 2" in latest


def test_a_lesson_template_that_cannot_render_is_refused_with_words():
    """A lesson override with an unknown variable raises TemplateError naming the problem;
    nothing is sent with the generic prompt instead."""
    broken = LessonBrief(
        key="c/l", title="T", goal="G", policy=TutorPolicy(templates={"chat": "{answer}"})
    )
    with pytest.raises(TemplateError, match="cannot answer in this lesson.*answer"):
        build_messages(TutorAction.CHAT, _context(lesson=broken), TEMPLATES, (), "?")


def test_the_budget_drops_oldest_turns_first_and_keeps_system_and_latest():
    """Over budget, the oldest turns go; the system text and the latest message stay even
    when they alone are over the budget."""
    turns = [
        ChatMessage("user" if i % 2 else "assistant", f"turn {i} " + "x" * 70) for i in range(10)
    ]
    messages = [ChatMessage("system", "rules"), *turns, ChatMessage("user", "now?")]
    kept = fit_messages(messages, 120, estimate_tokens)
    assert kept[0].content == "rules" and kept[-1].content == "now?"
    assert kept[1:-1] == turns[len(turns) - (len(kept) - 2) :]
    assert fit_messages(messages, 1, estimate_tokens) == [messages[0], messages[-1]]


def test_the_budget_counts_with_the_callable_it_is_given():
    """An exact counter (here: one token per character) trims more than the estimate."""
    messages = [ChatMessage("user", "a" * 100) for _ in range(5)]
    by_chars = fit_messages(messages, 260, len)
    by_estimate = fit_messages(messages, 260, estimate_tokens)
    assert len(by_chars) == 2 and len(by_estimate) == 5
