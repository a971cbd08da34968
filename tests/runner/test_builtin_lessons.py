"""Every shipped lesson: its reference solution passes its checks, its starter does not."""

from __future__ import annotations

import pytest

from app.core.lessons import Lesson, load_courses
from app.paths import BUILTIN_LESSONS_DIR
from app.runner.checks import run_checks
from app.runner.toolchains import find_toolchain

COURSES = load_courses([BUILTIN_LESSONS_DIR])
LESSONS = [lesson for course in COURSES for lesson in course.lessons]


def test_builtin_courses_are_complete():
    """Python for beginners has at least 12 lessons, and each other language has a course."""
    by_language = {c.language: c for c in COURSES}
    assert len(by_language["python"].lessons) >= 12
    for language in ("cpp", "java", "javascript", "typescript", "php", "csharp", "bash"):
        assert by_language[language].lessons, language
    assert all(isinstance(lesson, Lesson) for lesson in LESSONS)
    for lesson in LESSONS:
        assert 2 <= len(lesson.hints) <= 4 and lesson.checks


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.key for lesson in LESSONS])
def test_reference_solution_passes_and_starter_does_not(lesson):
    """The hidden solution passes every check; the starter fails at least one."""
    toolchain = find_toolchain(lesson.language)
    if not toolchain.available:
        pytest.skip(toolchain.missing_message)
    solved = run_checks(
        lesson.language,
        lesson.main,
        lesson.solution_dir,
        lesson.checks,
        time_limit_s=lesson.time_limit,
    )
    assert all(r.passed for r in solved), [r.details for r in solved if not r.passed]
    started = run_checks(
        lesson.language,
        lesson.main,
        lesson.starter_dir,
        lesson.checks,
        time_limit_s=lesson.time_limit,
    )
    assert not all(r.passed for r in started)
