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


CODE = "name = 'Ada'\nprint(nme)\nprint('done')\n"
RUN = RunBrief(
    error="Traceback (most recent call last):\nNameError: name 'nme' is not defined",
    output_tail="Hello\n",
    kind="run",
    program_input="Ada",
    error_file="main.py",
    error_line=2,
    error_message="NameError: name 'nme' is not defined",
)
CHECKED = RunBrief(
    error="prints the name\nexpected 'Ada', got nothing",
    failed_checks=(("prints the name", "expected 'Ada'\ngot nothing"), ("ends", "no 'done'")),
    kind="check",
)


def _latest(action, **kw) -> str:
    context = _context(CODE, file_name="main.py", lesson=LESSON, **kw)
    return build_messages(action, context, TEMPLATES, (), "Why?")[-1].content


def test_explain_covers_the_selection_with_its_lines_or_the_whole_file():
    """With a selection, Explain sends it and its lines besides the file; without, the file
    alone and no empty "selected" section."""
    selected = _latest(TutorAction.EXPLAIN, selection="print(nme)", selection_lines=(2, 2))
    assert "I selected line 2." in selected and "```\nprint(nme)\n```" in selected
    assert "main.py" in selected and "print('done')" in selected
    two = _latest(TutorAction.EXPLAIN, selection="name = 'Ada'\nprint(nme)", selection_lines=(1, 2))
    assert "I selected lines 1–2." in two
    whole = _latest(TutorAction.EXPLAIN)
    assert "I selected line" not in whole and "print('done')" in whole and "whole file" in whole


def test_hint_says_its_level_and_the_hints_already_seen():
    """Hint sends its level, asks for more concrete help as it rises without the solution,
    and lists the teacher's hints the learner has seen, numbered."""
    latest = _latest(TutorAction.HINT, hint_level=3, run=RUN)
    assert "This is hint 3." in latest and "more concrete" in latest
    assert "Never write the solution" in latest
    assert "1. Use a variable." in latest and "Call print()" not in latest  # one shown
    assert "NameError" in latest and "Store a name and print it" in latest


def test_debug_sends_the_error_its_line_the_output_the_input_and_the_goal():
    """Debug sends the code, the parsed error with its line, the error output, what the
    program printed and was given, the goal, and asks for "Line N: ..." exactly."""
    latest = _latest(TutorAction.DEBUG, run=RUN)
    assert "The error message: NameError: name 'nme' is not defined" in latest
    assert "The error points at line 2." in latest
    assert "Traceback (most recent call last)" in latest
    assert "```\nHello\n```" in latest and "```\nAda\n```" in latest
    assert "Store a name and print it" in latest and "print(nme)" in latest
    assert "in exactly this form:\nLine N: " in latest
    assert "checks that failed" not in latest


def test_debug_after_a_check_sends_each_failed_check_with_its_message():
    """After a Check, Debug lists every failed check's message and details, numbered."""
    latest = _latest(TutorAction.DEBUG, run=CHECKED)
    assert (
        "The checks that failed:\n1. prints the name\n   expected 'Ada'\n   got nothing" in latest
    )
    assert "2. ends\n   no 'done'" in latest
    assert "The error points at line" not in latest and "program printed" not in latest


def test_debug_names_the_file_when_the_error_is_in_another_one():
    """An error in another file gives its line with that file's name."""
    run = RunBrief(error="boom", error_file="/w/helper.py", error_line=9, error_message="E")
    assert "The error points at line 9 of helper.py." in _latest(TutorAction.DEBUG, run=run)


def test_document_asks_for_one_code_block_of_the_selection_or_the_file():
    """Document asks for the documented code, unchanged, in ONE fenced block; with a
    selection, for that part and its lines."""
    latest = _latest(TutorAction.DOCUMENT, selection="print(nme)", selection_lines=(2, 2))
    assert "ONE fenced ```Python code block" in latest
    assert "Document only the part I selected, line 2:" in latest
    assert "exactly as it is" in latest and "only add comments and docstrings" in latest
    assert "Document only" not in _latest(TutorAction.DOCUMENT)


def test_chat_sends_the_question_with_the_code_and_the_lesson_as_context():
    """Chat ends with the question and carries the code (file, cursor) and the lesson text."""
    lesson = LessonBrief(key="py/01", title="T", goal="G", text="# Variables\nA name for a value.")
    context = _context(CODE, file_name="main.py", cursor_line=2, lesson=lesson)
    latest = build_messages(TutorAction.CHAT, context, TEMPLATES, (), "What is nme?")[-1].content
    assert latest.endswith("My question: What is nme?")
    assert "A name for a value." in latest and "print(nme)" in latest
    assert "(main.py, the cursor is on line 2)" in latest


def test_a_lesson_override_with_the_new_variables_renders():
    """A lesson may override a template with the new variables; the defaults stay for
    the rest."""
    policy = TutorPolicy(templates={"debug": "{file_name}:{error_line} {error_message} {output}"})
    lesson = LessonBrief(key="c/l", title="T", goal="G", policy=policy)
    context = _context(CODE, file_name="main.py", lesson=lesson, run=RUN)
    latest = build_messages(TutorAction.DEBUG, context, TEMPLATES)[-1].content
    assert latest == "main.py:2 NameError: name 'nme' is not defined Hello"
    explain = build_messages(TutorAction.EXPLAIN, context, TEMPLATES)[-1].content
    assert explain.startswith("Please explain this Python code")


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
