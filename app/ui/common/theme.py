"""The colours of the app, by role, in one place: a high-contrast or dark theme is one more
`Theme` value, not a hunt through every widget."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    """Colours as "#rrggbb", named by what they mean."""

    text: str = "#1f2328"
    background: str = "#ffffff"
    muted: str = "#57606a"
    error: str = "#c62828"
    error_strong: str = "#e53935"
    stderr: str = "#b00020"
    input: str = "#0b6e2f"
    passed: str = "#1a7f37"
    failed: str = "#cf222e"
    broken_lesson: str = "#b3261e"
    learner_label: str = "#0969da"
    tutor_label: str = "#8250df"
    notice_back: str = "#fff8c5"
    notice_border: str = "#d4a72c"
    failure_back: str = "#ffebe9"
    failure_border: str = "#cf222e"
    banner_text: str = "#82071e"
    banner_border: str = "#ff8182"
    caret_line: str = "#f2f6fc"
    focus: str = "#0969da"
    line_number: str = "#8c959f"
    margin_back: str = "#f6f8fa"
    error_line_text: str = "#8e1b1b"
    error_line_back: str = "#fdecea"
    syntax_comment: str = "#6a737d"
    syntax_keyword: str = "#0033b3"
    syntax_string: str = "#067d17"
    syntax_number: str = "#1750eb"
    syntax_preprocessor: str = "#9e880d"
    syntax_operator: str = "#5a5a5a"


LIGHT = Theme()
THEME = LIGHT
"""The theme in use."""


def rgb(colour: str) -> int:
    """A "#rrggbb" colour as the integer 0xRRGGBB."""
    return int(colour.lstrip("#"), 16)


def notice_style(widget: str = "QLabel") -> str:
    """The style sheet of a yellow notice box."""
    t = THEME
    return _box(widget, t.notice_back, t.notice_border)


def failure_style(widget: str = "QLabel") -> str:
    """The style sheet of a red failure box."""
    t = THEME
    return _box(widget, t.failure_back, t.failure_border)


def _box(widget: str, back: str, border: str) -> str:
    return f"{widget} {{ background:{back}; border:1px solid {border}; padding:6px; }}"
