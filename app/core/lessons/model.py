"""The lesson data model: courses, lessons, broken lessons, checks, tutor policy and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.core.languages import LANGUAGES as REGISTRY

LANGUAGES: tuple[str, ...] = tuple(REGISTRY)
"""The languages a course or lesson may name: the ids of `app.core.languages.LANGUAGES`."""

CHECK_KINDS = ("output", "test", "runs")
MATCH_MODES = ("exact", "contains", "regex")
HELP_MODES = ("hints", "full")
COMPLETION_MODES = ("off", "line", "full")
TUTOR_ACTIONS = ("explain", "hint", "debug", "document", "chat")
"""The tutor's actions a lesson may turn on or off with `[tutor] actions = [...]`."""


@dataclass(frozen=True)
class LessonError:
    """One problem in lesson content, located as precisely as the loader could.

    Attributes:
        file: the file the problem is in (or about).
        line: its 1-based line, or None when no line applies.
        message: what is wrong, in plain words.
    """

    file: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"{self.file}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class CheckSpec:
    """One check of a lesson, as written in lesson.toml and as the runner runs it.

    `app.runner.checks` runs these as they are (it re-exports the name).

    Attributes:
        kind: "output" (compare stdout), "test" (run a test file) or "runs" (exits cleanly
            with exit code 0).
        message: shown to the learner when the check fails.
        stdin: text fed to the program (output and runs checks).
        expected: the expected stdout (output checks).
        match: "exact" (trailing spaces of lines and trailing blank lines ignored), "contains"
            or "regex" (searched, multi-line) (output checks).
        file: the absolute path of the test file (test checks), else None: pytest-style Python
            for Python, otherwise a bash script run with the main file's path as $1 that must
            exit 0.
    """

    kind: str
    message: str
    stdin: str = ""
    expected: str = ""
    match: str = "exact"
    file: Path | None = None


@dataclass(frozen=True)
class TutorPolicy:
    """What the tutor may do in a lesson.

    Attributes:
        help: "hints" (guide, never hand over a full solution) or "full".
        completion: inline completion: "off", "line" or "full".
        chat: whether free chat with the tutor is on.
        instructions: extra text for the tutor's system prompt.
        templates: prompt template overrides by name (see `templates.DEFAULT_TEMPLATE_NAMES`).
        actions: the tutor actions the teacher left on (`TUTOR_ACTIONS` by default); "chat"
            is on only when it is listed here and `chat` is true.
    """

    help: str = "hints"
    completion: str = "line"
    chat: bool = True
    instructions: str = ""
    templates: dict[str, str] = field(default_factory=dict, hash=False)
    actions: tuple[str, ...] = TUTOR_ACTIONS

    def allows(self, action: str) -> bool:
        """Whether the lesson lets the learner use tutor action `action` ("explain", ...)."""
        if action == "chat" and not self.chat:
            return False
        return action in self.actions


@dataclass(frozen=True)
class Lesson:
    """A lesson that loaded without errors.

    Attributes:
        id: the lesson folder's name.
        course_id: the course folder's name.
        title: shown in the lesson browser.
        goal: one line saying what the learner will do.
        language: one of `LANGUAGES`.
        main: the file run by checks, relative to starter/ and solution/.
        text: the lesson text (Markdown).
        path: the lesson folder.
        time_limit: seconds a run may take.
        hints: the hint ladder, first hint first.
        checks: the checks, in order.
        policy: what the tutor may do.
        starter_dir: the files the learner starts with.
        solution_dir: the hidden reference solution.
    """

    id: str
    course_id: str
    title: str
    goal: str
    language: str
    main: str
    text: str
    path: Path
    time_limit: float
    hints: tuple[str, ...]
    checks: tuple[CheckSpec, ...]
    policy: TutorPolicy
    starter_dir: Path
    solution_dir: Path

    @property
    def key(self) -> str:
        """The progress key, "course_id/lesson_id"."""
        return f"{self.course_id}/{self.id}"


@dataclass(frozen=True)
class BrokenLesson:
    """A lesson that could not be loaded; the browser shows it with its errors.

    Attributes:
        id: the lesson folder's name.
        course_id: the course folder's name.
        path: the lesson folder.
        title: the title from lesson.toml when it could be read, else the folder name.
        errors: every problem found (at least one).
    """

    id: str
    course_id: str
    path: Path
    title: str
    errors: tuple[LessonError, ...]

    @property
    def key(self) -> str:
        """The progress key, "course_id/lesson_id"."""
        return f"{self.course_id}/{self.id}"


@dataclass(frozen=True)
class Course:
    """A course folder and its lessons in order.

    Attributes:
        id: the course folder's name.
        title: from course.toml (the folder name when unreadable).
        language: the default language of its lessons ("" when unknown).
        description: from course.toml.
        path: the course folder.
        lessons: in course order; broken ones included.
        errors: problems with course.toml itself (not its lessons').
    """

    id: str
    title: str
    language: str
    description: str
    path: Path
    lessons: tuple[Lesson | BrokenLesson, ...]
    errors: tuple[LessonError, ...] = ()

    def all_errors(self) -> list[LessonError]:
        """The course's own errors, then every broken lesson's errors."""
        out = list(self.errors)
        for lesson in self.lessons:
            if isinstance(lesson, BrokenLesson):
                out.extend(lesson.errors)
        return out
