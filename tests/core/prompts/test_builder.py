"""Prompt building in core: the rules first, then the code, then a conversation that only
grows, each action's template, the budget, and failing closed on a lesson template that
cannot render."""

from __future__ import annotations

import pytest

from app.core.lessons.model import TutorPolicy
from app.core.prompts.budget import estimate_tokens, fit_messages
from app.core.prompts.builder import CODE_CONTEXT, FREE_SYSTEM_PROMPT, build_messages
from app.core.prompts.messages import ChatMessage
from app.core.prompts.templates import TemplateError, load_default_templates, template_variables
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


def test_free_chat_puts_the_code_in_the_system_message_after_the_tutor_text():
    """Outside lessons the system message is the fixed tutor text, then the code (once); the
    latest message has the question, not the code."""
    messages = build_messages(TutorAction.CHAT, _context(), TEMPLATES, (), "What is print?")
    system, latest = messages[0].content, messages[-1].content
    assert messages[0].role == "system" and system.startswith(f"{FREE_SYSTEM_PROMPT}\n\n")
    assert "The learner's code, untitled (Python):\n```Python\nname = 'Ada'\nprint(name)\n" in (
        system
    )
    assert system.count("print(name)") == 1
    assert "The lesson the learner is working on" not in system  # no empty lesson heading
    assert "What is print?" in latest and "print(name)" not in latest


def test_free_chat_without_code_sends_just_the_question():
    """With an empty editor, the question goes as it is, with no empty code block."""
    messages = build_messages(TutorAction.CHAT, _context(""), TEMPLATES, (), "Hi")
    assert messages[-1] == ChatMessage("user", "Hi")


def test_lesson_system_message_is_the_same_whatever_the_question_and_history():
    """In a lesson the system message has the lesson's rules first, then the code; it does
    not change with the question or the history, which sits between it and the latest
    message; an edit of the code changes only what follows the rules."""
    history = (ChatMessage("user", "earlier"), ChatMessage("assistant", "reply"))
    context = _context("x = 1", lesson=LESSON)
    a = build_messages(TutorAction.CHAT, context, TEMPLATES, history, "?")
    b = build_messages(TutorAction.CHAT, context, TEMPLATES, history[:0], "Why?")
    assert a[0] == b[0] and a[-1] != b[-1]
    system = a[0].content
    code_at = system.index("The learner's code,")
    assert -1 < system.find("Print and variables") < code_at
    assert -1 < system.find("hints mode") < code_at
    assert system.index("x = 1") > code_at and "x = 1" not in a[-1].content
    assert a[1:3] == list(history) and b[1:] == [b[-1]]
    edited = build_messages(TutorAction.CHAT, _context("y = 2", lesson=LESSON), TEMPLATES)
    assert edited[0].content[:code_at] == system[:code_at] and "y = 2" in edited[0].content


def test_the_conversation_after_the_system_message_only_grows():
    """The second question's prompt starts with the first one's messages and its reply
    (the request kept as it was sent), so the model's cache of them is reused."""
    context = _context(CODE, file_name="main.py", lesson=LESSON, run=RUN)
    first = build_messages(TutorAction.DEBUG, context, TEMPLATES)
    reply = ChatMessage("assistant", "Line 2: nme is not defined.")
    history = (*first[1:], reply)
    second = build_messages(TutorAction.CHAT, context, TEMPLATES, history, "How do I fix it?")
    assert second[: len(first) + 1] == [*first, reply]
    assert second[-1].content.endswith("My question: How do I fix it?")
    assert len(second) == len(first) + 2


def test_a_lesson_with_a_blank_file_still_sends_the_lesson_text():
    """With nothing written yet, the system message still has the lesson text (and no empty
    code block)."""
    lesson = LessonBrief(key="py/01", title="T", goal="G", text="Print your name.")
    messages = build_messages(TutorAction.CHAT, _context("\n", lesson=lesson), TEMPLATES, (), "?")
    assert messages[0].content.endswith("The lesson the learner is working on:\nPrint your name.")
    assert "The learner's code" not in messages[0].content
    assert messages[-1].content.endswith("My question: ?")


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


def _system(action, **kw) -> str:
    context = _context(CODE, file_name="main.py", lesson=LESSON, **kw)
    return build_messages(action, context, TEMPLATES, (), "Why?")[0].content


def test_explain_covers_the_selection_with_its_lines_or_the_whole_file():
    """With a selection, Explain sends it and its lines besides the file (in the system
    message); without, the file alone and no empty "selected" section."""
    selected = _latest(TutorAction.EXPLAIN, selection="print(nme)", selection_lines=(2, 2))
    assert "I selected line 2." in selected and "```\nprint(nme)\n```" in selected
    assert "main.py" in selected and "print('done')" not in selected
    system = _system(TutorAction.EXPLAIN, selection="print(nme)", selection_lines=(2, 2))
    assert f"```Python\n{CODE}```" in system
    two = _latest(TutorAction.EXPLAIN, selection="name = 'Ada'\nprint(nme)", selection_lines=(1, 2))
    assert "I selected lines 1–2." in two
    whole = _latest(TutorAction.EXPLAIN)
    assert "I selected line" not in whole and "whole file" in whole
    assert "print('done')" in _system(TutorAction.EXPLAIN)


def test_hint_says_its_level_and_the_hints_already_seen():
    """Hint sends its level, asks for more concrete help as it rises without the solution,
    and lists the teacher's hints the learner has seen, numbered."""
    latest = _latest(TutorAction.HINT, hint_level=3, run=RUN)
    assert "This is hint 3." in latest and "more concrete" in latest
    assert "Never write the solution" in latest
    assert "1. Use a variable." in latest and "Call print()" not in latest  # one shown
    assert "NameError" in latest and "Store a name and print it" in latest


def test_debug_sends_the_error_its_line_the_output_the_input_and_the_goal():
    """Debug sends the code (in the system message), the parsed error with its line, the
    error output, what the program printed and was given, the goal, and asks for
    "Line N: ..." exactly."""
    latest = _latest(TutorAction.DEBUG, run=RUN)
    assert "print(nme)\nprint('done')" in _system(TutorAction.DEBUG, run=RUN)
    assert "The error message: NameError: name 'nme' is not defined" in latest
    assert "The error points at line 2." in latest
    assert "Traceback (most recent call last)" in latest
    assert "```\nHello\n```" in latest and "```\nAda\n```" in latest
    assert "Store a name and print it" in latest and "(shown above)" in latest
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
    """Chat ends with the question and the cursor's line; the system message carries the
    lesson text and the code (file, language)."""
    lesson = LessonBrief(key="py/01", title="T", goal="G", text="# Variables\nA name for a value.")
    context = _context(CODE, file_name="main.py", cursor_line=2, lesson=lesson)
    messages = build_messages(TutorAction.CHAT, context, TEMPLATES, (), "What is nme?")
    system, latest = messages[0].content, messages[-1].content
    assert latest.endswith("My question: What is nme?")
    assert "The cursor is on line 2 of main.py." in latest
    assert "A name for a value." not in latest and "print(nme)" not in latest
    assert "The lesson the learner is working on:\n# Variables\nA name for a value." in system
    assert f"The learner's code, main.py (Python):\n```Python\n{CODE}```" in system


def test_a_lesson_override_with_the_new_variables_renders():
    """A lesson may override a template with the new variables (the code then goes in the
    system message); the defaults stay for the rest."""
    policy = TutorPolicy(templates={"debug": "{file_name}:{error_line} {error_message} {output}"})
    lesson = LessonBrief(key="c/l", title="T", goal="G", policy=policy)
    context = _context(CODE, file_name="main.py", lesson=lesson, run=RUN)
    debug = build_messages(TutorAction.DEBUG, context, TEMPLATES)
    assert debug[-1].content == "main.py:2 NameError: name 'nme' is not defined Hello"
    assert CODE in debug[0].content
    explain = build_messages(TutorAction.EXPLAIN, context, TEMPLATES)[-1].content
    assert explain.startswith("Please explain my Python code (main.py, shown above)")


def test_a_lesson_override_that_places_the_code_keeps_it_there_only():
    """A lesson template that uses {code} gets the code where it says, and the system
    message gets no second copy."""
    policy = TutorPolicy(templates={"chat": "{question}\n\n{code}"})
    lesson = LessonBrief(key="c/l", title="T", goal="G", text="Lesson words.", policy=policy)
    context = _context(CODE, file_name="main.py", lesson=lesson)
    messages = build_messages(TutorAction.CHAT, context, TEMPLATES, (), "Why?")
    assert messages[-1].content == f"Why?\n\n{CODE.rstrip()}"
    assert "print(nme)" not in messages[0].content
    assert "The learner's code" not in messages[0].content
    assert {"code", "lesson_text"} <= template_variables(CODE_CONTEXT)


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
