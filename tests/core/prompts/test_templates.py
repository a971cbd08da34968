"""Tests of prompt templates: the shipped defaults, variables, rendering and help policy."""

from __future__ import annotations

import pytest

from app.core.prompts.builder import CODE_CONTEXT
from app.core.prompts.templates import (
    DEFAULT_TEMPLATE_NAMES,
    TEMPLATE_VARIABLES,
    TemplateError,
    help_policy_text,
    load_default_templates,
    merged_templates,
    render,
    template_problems,
    template_variables,
    tutor_instructions,
    unknown_variables,
)


def test_default_templates_exist_and_are_valid():
    """All seven default templates load, use only known variables, and are not empty."""
    templates = load_default_templates()
    assert tuple(templates) == DEFAULT_TEMPLATE_NAMES
    for name, text in templates.items():
        assert text.strip(), name
        assert unknown_variables(text) == set(), name
    assert "{instructions}" in templates["system"]
    assert "{selection}" in templates["explain"] and "{error}" in templates["debug"]
    assert "{question}" in templates["chat"]
    assert "{hint_level}" in templates["hint"]


def test_system_prompt_is_for_a_patient_beginner_tutor():
    """The rendered system prompt names the lesson and carries the help-mode text."""
    system = load_default_templates()["system"]
    text = render(
        system,
        language="python",
        lesson_title="Say hello",
        lesson_goal="Print a greeting",
        instructions=tutor_instructions("hints", "Do not mention f-strings."),
    )
    assert "patient" in text and "beginners" in text
    assert 'lesson "Say hello"' in text and "Print a greeting" in text
    assert "Never write the full solution" in text
    assert text.rstrip().endswith("Do not mention f-strings.")
    assert "{" not in text.replace("```{", "")


def test_help_modes_differ():
    """Hints mode forbids handing over solutions; full mode allows complete code."""
    assert "do not hand over the answer" in help_policy_text("hints")
    assert "complete, working code" in help_policy_text("full")
    assert tutor_instructions("full") == help_policy_text("full")
    with pytest.raises(TemplateError):
        help_policy_text("everything")


def test_template_variables_and_literal_braces():
    """Variables are the names in single braces; doubled braces are literal text."""
    template = "Fix {code} in {language}: {{not_a_var}} {error}"
    assert template_variables(template) == {"code", "language", "error"}
    assert unknown_variables("{code} {cod} {0} {}") == {"cod", "0", ""}
    assert template_problems("{code} {lesson_titel}") == [
        "unknown template variable {lesson_titel} (did you mean {lesson_title}?)"
    ]


def test_format_specs_and_conversions_are_refused():
    """A width or conversion in a field ({question:>2000000000}, {x!r}) is a TemplateError."""
    for bad in ("{question:>2000000000}", "{code!r}", "{error:{hint_level}}"):
        with pytest.raises(TemplateError, match="format spec or conversion"):
            template_variables(bad)
    assert template_problems("{question:>9}")


def test_malformed_templates_raise():
    """A lone brace is a TemplateError that says how to write literal braces."""
    for bad in ("{code", "code}", "{code!x}x{"):
        with pytest.raises(TemplateError, match="malformed template"):
            template_variables(bad)
    assert template_problems("{")[0].startswith("malformed template")


def test_render_fills_known_variables_and_blanks_missing_ones():
    """Known variables are filled; a known variable with no value renders empty."""
    template = "Hint {hint_level}/{hint_count} for {lesson_title}{selection} {{ok}}"
    out = render(template, hint_level=1, hint_count=3, lesson_title="Loops")
    assert out == "Hint 1/3 for Loops {ok}"
    assert render("{error}", error=None) == ""


def test_render_refuses_unknown_variables_and_values():
    """Unknown variables in the template, or unknown value names, raise TemplateError."""
    with pytest.raises(TemplateError, match=r"unknown template variable \{name\}"):
        render("Hello {name}", code="x")
    with pytest.raises(TemplateError, match="not template variables: name"):
        render("Hello {code}", name="x")
    with pytest.raises(TemplateError, match="unknown template variable"):
        render("{code.upper}", code="x")


def test_a_paragraph_whose_variables_are_all_empty_is_left_out():
    """An empty selection or error leaves no empty heading; a paragraph with one value, or
    with no variables at all, stays."""
    template = (
        "Explain.\n\nI selected {selection_lines}:\n{selection}\n\n  \nError: {error}\n\nBye."
    )
    assert render(template) == "Explain.\n\nBye."
    assert render(template, error="E") == "Explain.\n\n  \nError: E\n\nBye."
    assert render(template, selection="x") == "Explain.\n\nI selected :\nx\n\nBye."
    assert render("{code}\n\nrest", code="a\n\nb") == "a\n\nb\n\nrest"


def test_every_default_template_uses_only_known_variables_and_the_new_ones():
    """The defaults validate as a lesson's would (`template_problems`), use the new variables
    where they belong, and leave the code and the lesson text to the system message."""
    templates = load_default_templates()
    assert all(template_problems(text) == [] for text in templates.values())
    assert template_problems(CODE_CONTEXT) == []
    assert {"code", "lesson_text", "file_name", "language"} <= template_variables(CODE_CONTEXT)
    for name in ("system", "explain", "hint", "debug", "document", "chat"):
        assert not {"code", "lesson_text"} & template_variables(templates[name]), name
    assert {"selection_lines", "file_name"} <= template_variables(templates["explain"])
    assert {"error_line", "error_message", "failed_checks", "output", "program_input"} <= (
        template_variables(templates["debug"])
    )
    assert "hints_shown" in template_variables(templates["hint"])
    assert {"cursor_line", "file_name", "question"} <= template_variables(templates["chat"])
    assert template_problems("{error_lines}") == [
        "unknown template variable {error_lines} (did you mean {error_line}?)"
    ]


def test_lesson_overrides_replace_defaults():
    """A lesson's template overrides replace only the named defaults."""
    defaults = load_default_templates()
    merged = merged_templates(defaults, {"hint": "Only {hint_level}"})
    assert merged["hint"] == "Only {hint_level}"
    assert merged["explain"] == defaults["explain"]
    assert set(merged) == set(DEFAULT_TEMPLATE_NAMES)


def test_missing_or_bad_default_template_names_the_file(tmp_path):
    """A missing or broken default template raises TemplateError naming its file."""
    with pytest.raises(TemplateError, match=str(tmp_path / "system.txt")):
        load_default_templates(tmp_path)
    for name in DEFAULT_TEMPLATE_NAMES:
        (tmp_path / f"{name}.txt").write_text("{code}")
    assert load_default_templates(tmp_path)["chat"] == "{code}"
    (tmp_path / "chat.txt").write_text("{mystery}")
    with pytest.raises(TemplateError, match=r"chat\.txt: unknown template variable \{mystery\}"):
        load_default_templates(tmp_path)


def test_variable_names_are_the_documented_set():
    """The allowed variables are exactly those documented for teachers."""
    documented = (
        "code selection selection_lines cursor_line file_name error error_line error_message "
        "failed_checks output program_input language lesson_title lesson_goal lesson_text "
        "hint_level hint_count hint hints_shown question instructions"
    )
    assert set(documented.split()) == TEMPLATE_VARIABLES


def test_template_repeating_code_is_refused_before_it_is_built():
    """{code} 20,000 times: the validator names it, and render refuses without building it."""
    import tracemalloc

    from app.core.prompts.templates import TemplateError, render, template_problems

    template = "Look: {code}\n" * 20_000
    problems = template_problems(template)
    assert any("uses {code} 20000 times" in p for p in problems)
    tracemalloc.start()
    try:
        render("{code}" * 8 + "{question}" * 8, code="x" * 30_000, question="why?")
    except TemplateError as exc:
        assert "would be 240032 characters long" in str(exc)
    else:
        raise AssertionError("a 240,000-character prompt was built")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 1_000_000  # nothing near the prompt's size was allocated
