"""Prompt templates: the defaults in resources/prompts, their variables, and rendering.

A template is `str.format` text with named variables only. One rule keeps prompts free of
empty headings: a paragraph (text between blank lines) whose variables are all empty is left
out, so "The part I selected, {selection_lines}: ..." disappears when nothing is selected.
A paragraph without variables always stays.
"""

from __future__ import annotations

import collections
import difflib
import re
import string
from collections.abc import Mapping
from pathlib import Path

from app.core.resources import RESOURCES_DIR

DEFAULT_TEMPLATE_NAMES = ("system", "explain", "hint", "debug", "document", "complete", "chat")
"""The templates a lesson may override under [tutor.templates]."""

TEMPLATE_VARIABLES = frozenset(
    {
        "code",
        "selection",
        "selection_lines",
        "cursor_line",
        "file_name",
        "error",
        "error_line",
        "error_message",
        "failed_checks",
        "output",
        "program_input",
        "language",
        "lesson_title",
        "lesson_goal",
        "lesson_text",
        "hint_level",
        "hint_count",
        "hint",
        "hints_shown",
        "question",
        "instructions",
    }
)
"""The only names a template may use in braces."""

DEFAULT_PROMPTS_DIR = RESOURCES_DIR / "prompts"
HELP_POLICY_FILES = {"hints": "help_hints.txt", "full": "help_full.txt"}


MAX_USES = 8  # of one variable in one template
MAX_PROMPT_CHARS = 200_000  # about 57,000 tokens: more than any tutor prompt needs


class TemplateError(ValueError):
    """A template is malformed, uses an unknown variable, or is missing."""


def template_variables(template: str) -> set[str]:
    """The variable names a template uses.

    Args:
        template: text in `str.format` syntax; `{{` and `}}` are literal braces.

    Returns:
        Every field name; "" for a bare `{}`.

    Raises:
        TemplateError: the braces are malformed (e.g. a single `{`), or a field has a format
            spec or conversion (`{code:>9}`, `{x!r}`), which templates do not allow.
    """
    names: set[str] = set()
    try:
        for _text, field_name, format_spec, _conv in string.Formatter().parse(template):
            if field_name is None:
                continue
            if format_spec or _conv:
                # "{code:>999999999}" would build a huge string; "{x!r}" shows Python quotes.
                raise TemplateError(
                    f"{{{field_name}}} has a format spec or conversion; write plain {{name}}"
                )
            names.add(field_name)
    except ValueError as exc:
        hint = "write literal braces as {{ and }}"
        raise TemplateError(f"malformed template: {exc} ({hint})") from exc
    return names


def unknown_variables(template: str) -> set[str]:
    """The names a template uses that are not in `TEMPLATE_VARIABLES`.

    Raises:
        TemplateError: the braces are malformed.
    """
    return template_variables(template) - TEMPLATE_VARIABLES


def template_problems(template: str) -> list[str]:
    """Plain-words problems with a template; an empty list when it is fine."""
    try:
        unknown = unknown_variables(template)
    except TemplateError as exc:
        return [str(exc)]
    problems = []
    for name in sorted(unknown):
        close = _closest_variable(name)
        hint = f" (did you mean {{{close}}}?)" if close else ""
        problems.append(f"unknown template variable {{{name}}}{hint}")
    uses = collections.Counter(
        field for _t, field, _f, _c in string.Formatter().parse(template) if field is not None
    )
    for name, count in sorted(uses.items()):
        if count > MAX_USES:
            problems.append(
                f"uses {{{name}}} {count} times; a variable may appear at most {MAX_USES} "
                "times (each copy of the learner's code makes the prompt longer)"
            )
    if len(template) > MAX_PROMPT_CHARS:
        problems.append(f"is {len(template)} characters long, over {MAX_PROMPT_CHARS}")
    return problems


def _closest_variable(name: str) -> str | None:
    """The variable `name` is most likely a typo of (of equally close ones, the first in
    alphabetical order), or None when none is close."""
    close = difflib.get_close_matches(name, sorted(TEMPLATE_VARIABLES), n=len(TEMPLATE_VARIABLES))
    if not close:
        return None
    best = difflib.SequenceMatcher(None, name, close[0]).ratio()
    return min(c for c in close if difflib.SequenceMatcher(None, name, c).ratio() == best)


class _Values(dict[str, str]):
    """A mapping where an allowed but unset variable is empty."""

    def __missing__(self, key: str) -> str:
        if key in TEMPLATE_VARIABLES:
            return ""
        raise TemplateError(f"unknown template variable {{{key}}}")


def render(template: str, **values: object) -> str:
    """Fill a template's variables.

    Args:
        template: the template text.
        **values: values for names in `TEMPLATE_VARIABLES` (converted with `str`); an
            allowed variable without a value renders as "".

    Returns:
        The rendered text, without the paragraphs whose variables are all empty.

    Raises:
        TemplateError: the template is malformed, uses an unknown variable, or a value is
            given for a name that is not a template variable.
    """
    problems = template_problems(template)
    if problems:
        raise TemplateError("; ".join(problems))
    extra = set(values) - TEMPLATE_VARIABLES
    if extra:
        raise TemplateError(f"not template variables: {', '.join(sorted(extra))}")
    mapping = _Values({k: "" if v is None else str(v) for k, v in values.items()})
    template = _without_empty_paragraphs(template, mapping)
    size = sum(
        len(text) + (len(mapping[field]) if field is not None else 0)
        for text, field, _f, _c in string.Formatter().parse(template)
    )
    if size > MAX_PROMPT_CHARS:  # refused before it is built, not after
        raise TemplateError(
            f"the prompt would be {size} characters long, over the {MAX_PROMPT_CHARS} a "
            "prompt may have"
        )
    try:
        return template.format_map(mapping)
    except (ValueError, IndexError, AttributeError, KeyError) as exc:
        raise TemplateError(f"cannot render template: {exc}") from exc


_PARAGRAPH_BREAK = re.compile(r"(\n(?:[ \t]*\n)+)")  # one or more blank lines


def _without_empty_paragraphs(template: str, values: Mapping[str, str]) -> str:
    """`template` less each paragraph whose variables all have empty (blank) values."""
    pieces = _PARAGRAPH_BREAK.split(template)  # paragraph, break, paragraph, ...
    kept: list[str] = []
    for index in range(0, len(pieces), 2):
        paragraph = pieces[index]
        names = {f for _t, f, _s, _c in string.Formatter().parse(paragraph) if f is not None}
        if names and not any(values[name].strip() for name in names):
            continue
        if kept:
            kept.append(pieces[index - 1])
        kept.append(paragraph)
    return "".join(kept)


def load_default_templates(directory: Path = DEFAULT_PROMPTS_DIR) -> dict[str, str]:
    """Read the default templates, resources/prompts/<name>.txt for each default name.

    Args:
        directory: where the .txt files are.

    Returns:
        Template text by name, for every name in `DEFAULT_TEMPLATE_NAMES`.

    Raises:
        TemplateError: a file is missing, unreadable, or has template problems (an
            installation fault, named with the file).
    """
    templates: dict[str, str] = {}
    for name in DEFAULT_TEMPLATE_NAMES:
        path = Path(directory) / f"{name}.txt"
        text = _read(path)
        problems = template_problems(text)
        if problems:
            raise TemplateError(f"{path}: {'; '.join(problems)}")
        templates[name] = text
    return templates


def help_policy_text(help_mode: str, directory: Path = DEFAULT_PROMPTS_DIR) -> str:
    """The system-prompt paragraph for a lesson's help mode ("hints" or "full").

    Raises:
        TemplateError: unknown mode, or the file is missing.
    """
    if help_mode not in HELP_POLICY_FILES:
        raise TemplateError(f"unknown help mode {help_mode!r}")
    return _read(Path(directory) / HELP_POLICY_FILES[help_mode])


def tutor_instructions(
    help_mode: str, lesson_instructions: str = "", directory: Path = DEFAULT_PROMPTS_DIR
) -> str:
    """The value for `{instructions}` in the system template.

    The help-mode paragraph comes first, then the lesson's own instructions.

    Args:
        help_mode: the lesson policy's `help`.
        lesson_instructions: the lesson policy's `instructions`.
        directory: where the help-mode texts are.
    """
    parts = [help_policy_text(help_mode, directory), lesson_instructions.strip()]
    return "\n\n".join(p for p in parts if p)


def merged_templates(defaults: Mapping[str, str], overrides: Mapping[str, str]) -> dict[str, str]:
    """The templates in effect for a lesson: the defaults with its overrides on top."""
    merged = dict(defaults)
    merged.update(overrides)
    return merged


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(f"cannot read prompt template {path}: {exc}") from exc
