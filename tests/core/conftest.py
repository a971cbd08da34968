"""Builders for lesson folders on disk, shared by the lesson tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

GOOD_COURSE_TOML = """\
title = "Python for beginners"
language = "python"
description = "First steps."
"""

GOOD_LESSON_TOML = """\
title = "Say hello"
goal = "Print a greeting"
main = "main.py"
hints = ["Use print().", "Put the text in quotes."]

[[checks]]
kind = "output"
message = "Print exactly Hello, world!"
expected = "Hello, world!\\n"

[[checks]]
kind = "test"
message = "The tests must pass"
file = "checks/test_main.py"

[tutor]
help = "hints"
completion = "off"
chat = true
instructions = "Do not mention f-strings yet."

[tutor.templates]
hint = "Give hint {hint_level} of {hint_count} for {lesson_title}."
"""

GOOD_FILES: dict[str, str | bytes | None] = {
    "lesson.md": "# Say hello\n\nUse `print`.\n",
    "starter/main.py": "# write your code here\n",
    "solution/main.py": 'print("Hello, world!")\n',
    "checks/test_main.py": "def test_nothing():\n    assert True\n",
}

MakeLesson = Callable[..., Path]


def write_lesson(
    lesson_dir: Path,
    toml: str | bytes | None = GOOD_LESSON_TOML,
    files: dict[str, str | bytes | None] | None = None,
) -> Path:
    """Write a lesson folder: lesson.toml plus the good files, with `files` overriding
    (None removes a file)."""
    lesson_dir.mkdir(parents=True, exist_ok=True)
    content = {**GOOD_FILES, **(files or {})}
    if toml is not None:
        content["lesson.toml"] = toml
    for name, data in content.items():
        path = lesson_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if data is None:
            continue
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(data, encoding="utf-8")
    return lesson_dir


@pytest.fixture
def courses_root(tmp_path: Path) -> Path:
    """An empty folder to hold course folders."""
    root = tmp_path / "courses"
    root.mkdir()
    return root


@pytest.fixture
def make_lesson(courses_root: Path) -> MakeLesson:
    """A function writing a lesson into a course under `courses_root` and returning its path."""

    def make(
        toml: str | bytes | None = GOOD_LESSON_TOML,
        *,
        course: str = "py",
        lesson: str = "01-hello",
        files: dict[str, str | bytes | None] | None = None,
        course_toml: str | None = GOOD_COURSE_TOML,
    ) -> Path:
        course_dir = courses_root / course
        course_dir.mkdir(exist_ok=True)
        if course_toml is not None and not (course_dir / "course.toml").exists():
            (course_dir / "course.toml").write_text(course_toml, encoding="utf-8")
        return write_lesson(course_dir / lesson, toml, files)

    return make


@pytest.fixture
def good_lesson_toml() -> str:
    """The lesson.toml of a lesson that loads cleanly (as `make_lesson` writes by default)."""
    return GOOD_LESSON_TOML
