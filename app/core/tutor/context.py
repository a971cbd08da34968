"""The frozen snapshot a tutor request is built from, taken on the UI thread at the click."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.lessons.model import TutorPolicy


@dataclass(frozen=True)
class LessonBrief:
    """What the tutor knows of the open lesson.

    Attributes:
        key: "course/lesson".
        title: the lesson's title.
        goal: its one-line goal.
        text: its text (Markdown).
        hints: the teacher's hints, in order.
        hints_shown: how many of them the learner has seen.
        policy: what the tutor may do here (help mode, chat, templates, instructions).
    """

    key: str
    title: str
    goal: str
    text: str = ""
    hints: tuple[str, ...] = ()
    hints_shown: int = 0
    policy: TutorPolicy = field(default_factory=TutorPolicy)


@dataclass(frozen=True)
class RunBrief:
    """The last Run or Check, as far as the tutor needs it.

    Attributes:
        error: the error text: the end of the program's error output, or the first failed
            check's message and details; "" when it went well.
        output_tail: the end of what the program printed.
        failed_checks: (message, details) of each failed check of the last Check.
        kind: "run" or "check": what the learner did last.
        program_input: what the learner typed into the program (Run), or the failed
            check's input.
        error_file: the file the parsed error points at ("" when none was parsed).
        error_line: its 1-based line, or None.
        error_message: the parsed error's one-line message ("TypeError: ...").
    """

    error: str = ""
    output_tail: str = ""
    failed_checks: tuple[tuple[str, str], ...] = ()
    kind: str = "run"
    program_input: str = ""
    error_file: str = ""
    error_line: int | None = None
    error_message: str = ""

    @property
    def failed(self) -> bool:
        """The last Run or Check went wrong (an error, or a failed check)."""
        return bool(self.error or self.failed_checks)


@dataclass(frozen=True)
class TutorContext:
    """Everything one tutor request is about, copied out of the widgets.

    Attributes:
        code: the editor's text.
        language: the language id ("python", "cpp", ...).
        language_name: how the language is called ("Python", "C++").
        selection: the selected text ("" when nothing is selected).
        selection_lines: (first, last) 1-based lines of the selection, or None.
        cursor_line: the cursor's line, from 1.
        file_name: the editor's file name ("main.py"; "untitled" when never saved).
        lesson: the open lesson, or None in free editing.
        run: the last Run/Check, or None.
        hint_level: which tutor hint this is (1 for the first).
    """

    code: str
    language: str = "python"
    language_name: str = "Python"
    selection: str = ""
    selection_lines: tuple[int, int] | None = None
    cursor_line: int = 1
    file_name: str = "untitled"
    lesson: LessonBrief | None = None
    run: RunBrief | None = None
    hint_level: int = 1
