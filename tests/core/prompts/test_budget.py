"""Fitting a prompt plan to a token budget: what goes first, what is never cut, the markers
in the code (in the system message) and the output (in the latest message), and the note
that names what was left out."""

from __future__ import annotations

import re
from dataclasses import replace

from app.core.prompts.budget import fit_prompt
from app.core.prompts.builder import build_prompt
from app.core.prompts.messages import ChatMessage
from app.core.prompts.plan import cut_middle
from app.core.prompts.templates import load_default_templates
from app.core.tutor.actions import TutorAction
from app.core.tutor.context import LessonBrief, RunBrief, TutorContext

TEMPLATES = load_default_templates()
CODE = "\n".join(f"value_{n} = {n}  # line {n}" for n in range(1, 2001))
HISTORY = tuple(
    ChatMessage("user" if i % 2 == 0 else "assistant", f"turn {i}: " + "words " * 15)
    for i in range(10)
)
OUTPUT = "\n".join(f"output line {n}" for n in range(1, 401))


def chars(text: str) -> int:
    """A fake tokenizer: one token per character (exact, and easy to reason about)."""
    return len(text)


LESSON = LessonBrief(key="c/l", title="Values", goal="Name values", text="Lesson text.")


def _plan(action=TutorAction.CHAT, code=CODE, history=HISTORY, question="Why?", **kw):
    kw.setdefault("run", RunBrief(error="ValueError: bad", output_tail=OUTPUT))
    kw.setdefault("cursor_line", 1000)
    context = TutorContext(code=code, file_name="main.py", lesson=LESSON, **kw)
    return build_prompt(action, context, TEMPLATES, history, question)


def _whole_tokens(plan) -> int:
    return fit_prompt(plan, 10**9, chars).prompt_tokens


def test_a_prompt_that_fits_is_sent_whole_with_no_note():
    """Within the budget, every turn, the whole output and the whole file are sent."""
    plan = _plan(action=TutorAction.DEBUG)
    fitted = fit_prompt(plan, 10**9, chars)
    assert fitted.note == "" and fitted.fits
    assert fitted.messages[1:-1] == HISTORY
    assert CODE in fitted.messages[0].content and OUTPUT in fitted.messages[-1].content
    assert fitted.prompt_tokens == sum(len(m.content) for m in fitted.messages) + 8 * 13


def test_older_turns_go_first_oldest_first():
    """A little over budget: only the oldest turns go, from the oldest, and the kept
    history still starts with a question."""
    plan = _plan(action=TutorAction.DEBUG)
    fitted = fit_prompt(plan, _whole_tokens(plan) - 150, chars)
    assert fitted.messages[1:-1] == HISTORY[2:]
    assert fitted.note == "Left out to fit the model's context: 2 older messages."
    assert CODE in fitted.messages[0].content and OUTPUT in fitted.messages[-1].content


def test_then_the_middle_of_the_output_goes():
    """Once only the latest exchange is left, the program's output loses its middle (with
    a marker line); the code in the system message is still whole."""
    plan = _plan(action=TutorAction.DEBUG)
    budget = _whole_tokens(plan) - 8 * 140 - 2000
    fitted = fit_prompt(plan, budget, chars)
    latest = fitted.messages[-1].content
    assert fitted.messages[1:-1] == HISTORY[-2:]
    assert fitted.note == (
        "Left out to fit the model's context: 8 older messages, the middle of the program's output."
    )
    assert "output line 1\n" in latest and "output line 400" in latest
    assert re.search(r"\n… [\d,]+ characters left out …\n", latest)
    assert CODE in fitted.messages[0].content
    assert budget - 40 <= fitted.prompt_tokens <= budget  # the search fills the budget


def test_then_the_code_far_from_the_cursor_goes_with_marker_lines():
    """Further over, the code keeps a window around the cursor with "# … lines a–b left out …"
    lines, and the note names each thing left out, in order."""
    plan = _plan(action=TutorAction.DEBUG)
    budget = 6000
    fitted = fit_prompt(plan, budget, chars)
    system, latest = fitted.messages[0].content, fitted.messages[-1].content
    assert fitted.prompt_tokens <= budget
    match = re.search(r"lines 1–([\d,]+) and ([\d,]+)–2,000 of main\.py", fitted.note)
    assert match, fitted.note
    first_kept = int(match.group(1).replace(",", "")) + 1
    assert fitted.note.startswith(
        "Left out to fit the model's context: 8 older messages, the middle of the program's "
        "output, lines 1–"
    )
    assert f"# … lines 1–{first_kept - 1} left out …\nvalue_{first_kept} =" in system
    assert all(f"value_{n} = {n}  #" in system for n in range(995, 1006))
    assert "value_10 = " not in system and "# … lines " in system.split("value_1000")[1]
    assert "value_" not in latest  # the code is in the system message only
    assert "ValueError: bad" in latest  # the error outlasts the far code


def test_the_system_rules_and_the_question_are_never_cut():
    """With no room at all, everything else goes (the code in the system message down to the
    cursor's line), but the system message's rules and the question stay whole; the result
    says it does not fit."""
    question = "Why does it fail? " * 20
    plan = _plan(action=TutorAction.CHAT, question=question)
    bare = TutorContext(code="", file_name="main.py", lesson=replace(LESSON, text=""))
    rules = build_prompt(TutorAction.CHAT, bare, TEMPLATES).render()[0].content
    assert "Values" in rules and "value_" not in rules
    fitted = fit_prompt(plan, 10, chars)
    assert not fitted.fits
    assert fitted.messages[0].content.startswith(f"{rules}\n\n")
    assert fitted.messages[0].content != plan.render()[0].content  # the code was cut
    assert fitted.messages[-1].content.endswith(f"My question: {question}")
    assert len(fitted.messages) == 2
    assert fitted.note.startswith(
        "Left out to fit the model's context: 10 older messages, the program's output, the "
        "lesson text, lines 1–999 and 1,001–2,000 of main.py, the error output"
    )
    assert "value_1000 = 1000" in fitted.messages[0].content  # the cursor's line stays


def test_debug_keeps_the_lines_around_the_error_too():
    """For Debug, the line the error points at is kept like the cursor's line."""
    run = RunBrief(error="boom", error_file="main.py", error_line=300, error_message="E")
    fitted = fit_prompt(_plan(action=TutorAction.DEBUG, run=run), 3000, chars)
    system = fitted.messages[0].content
    assert "value_300 = 300" in system and "value_1000 = 1000" in system
    assert "value_600 = 600" not in system
    assert re.search(r"lines 1–[\d,]+, [\d,]+–[\d,]+ and [\d,]+–2,000 of main\.py", fitted.note)


def test_a_long_selection_keeps_its_start_and_says_what_of_it_was_left_out():
    """A selection too long for the budget keeps its first lines, then a marker naming the
    selection's lines left out."""
    lines = CODE.split("\n")
    selection = "\n".join(lines[99:1900])
    plan = _plan(
        action=TutorAction.EXPLAIN, selection=selection, selection_lines=(100, 1900), history=()
    )
    fitted = fit_prompt(plan, 4000, chars)
    latest = fitted.messages[-1].content
    assert fitted.fits and "I selected lines 100–1900." in latest
    assert "value_100 = 100" in latest and "value_1900 = 1900" not in latest
    assert re.search(r"# … lines \d+–1900 of the selection left out …", latest)


def test_marker_lines_are_comments_of_the_language_or_neutral():
    """C++ markers start with //, plain text gets a neutral "…" line."""
    for language, start in (("cpp", "// … lines 1–"), ("text", "… lines 1–")):
        context = TutorContext(code=CODE, language=language, file_name="f", cursor_line=1500)
        plan = build_prompt(TutorAction.EXPLAIN, context, TEMPLATES)
        system = fit_prompt(plan, 1500, chars).messages[0].content
        assert f"\n{start}" in system


def test_cut_middle_keeps_whole_lines_at_both_ends():
    """The middle cut keeps whole lines of the head and tail and counts what it left out."""
    text = "\n".join(f"line {n}" for n in range(1, 101))
    cut = cut_middle(text, 60)
    head, _, rest = cut.partition("… ")
    marker, _, tail = rest.partition("\n")
    assert head.startswith("line 1\n") and head.endswith("\n") and tail.endswith("line 100")
    assert tail.startswith("line ") and len(head) + len(tail) < 60
    left_out = int(marker.split()[0].replace(",", ""))
    assert left_out == len(text) - len(head) - len(tail)
    assert cut_middle("short", 60) == "short"
    assert cut_middle("x" * 500, 0) == "… 500 characters left out …"
