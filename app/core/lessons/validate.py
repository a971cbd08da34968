"""Validates courses for teachers: every loader error, plus checks run on solution and starter.

Running code belongs to `app.runner`, which core must not import. So `validate_courses`
takes the runner as a callable; `app.runner.lessons_check` (the glue behind
`codetutor lessons check`) passes the real one in.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.lessons.files import copy_files, key_line, read_text
from app.core.lessons.loader import load_courses, load_lesson
from app.core.lessons.model import BrokenLesson, Lesson, LessonError

RunChecks = Callable[..., Sequence[Any]]
"""`run(language, main_file, files_dir, checks: Sequence[CheckSpec], *, time_limit_s)`.

Returns one result per check, each with `passed`, `message` and `details` attributes
(as `app.runner.checks.CheckResult`).
"""

ToolchainProbe = Callable[[str], str | None]
"""Given a language, why its toolchain is missing here, or None when it is available."""

MAX_DETAIL_LINES = 12


@dataclass
class ValidationReport:
    """What a validation found.

    Attributes:
        errors: every error, in course and lesson order.
        notes: things worth saying that are not errors (e.g. checks skipped).
        courses: how many courses were checked.
        lessons: how many lessons were checked.
    """

    errors: list[LessonError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    courses: int = 0
    lessons: int = 0


def validate_courses(
    paths: Sequence[Path | str],
    run_checks: RunChecks | None = None,
    *,
    toolchain_missing: ToolchainProbe | None = None,
    on_note: Callable[[str], None] | None = None,
) -> list[LessonError]:
    """Every error in the given courses or lessons.

    Args:
        paths: folders holding courses, course folders, or lesson folders.
        run_checks: runs a lesson's checks (see `RunChecks`); None skips the behavioral
            checks (each check passes on the solution; the starter does not pass them all).
        toolchain_missing: says when a language cannot run here; such lessons skip the
            behavioral checks with a note.
        on_note: receives each note.

    Returns:
        The errors: loader errors (bad TOML, missing files, unknown keys, unknown template
        variables ...) and behavioral ones.
    """
    report = validate(paths, run_checks, toolchain_missing)
    for note in report.notes:
        if on_note is not None:
            on_note(note)
    return report.errors


def validate(
    paths: Sequence[Path | str],
    run_checks: RunChecks | None = None,
    toolchain_missing: ToolchainProbe | None = None,
) -> ValidationReport:
    """Like `validate_courses`, returning the notes and counts as well."""
    report = ValidationReport()
    skipped: dict[str, tuple[str, int]] = {}
    probe = _cached(toolchain_missing)
    for raw in paths:
        path = Path(raw)
        if path.is_file() and path.name in ("lesson.toml", "course.toml"):
            path = path.parent
        if not path.is_dir():
            report.errors.append(LessonError(path, None, "no such folder"))
        elif (path / "lesson.toml").is_file() and not (path / "course.toml").is_file():
            _check_lesson(load_lesson(path), report, run_checks, probe, skipped)
        else:
            courses = load_courses([path])
            if not courses:
                message = "no course here (a course folder holds course.toml and its lessons)"
                report.errors.append(LessonError(path, None, message))
            for course in courses:
                report.courses += 1
                report.errors.extend(course.errors)
                for lesson in course.lessons:
                    _check_lesson(lesson, report, run_checks, probe, skipped)
    for language, (reason, count) in sorted(skipped.items()):
        lessons = "lesson" if count == 1 else "lessons"
        report.notes.append(f"{language}: checks not run for {count} {lessons}: {reason}")
    return report


def _cached(probe: ToolchainProbe | None) -> ToolchainProbe:
    answers: dict[str, str | None] = {}

    def cached(language: str) -> str | None:
        if probe is None:
            return None
        if language not in answers:
            try:
                answers[language] = probe(language)
            except Exception as exc:  # noqa: BLE001 - a probe failure only skips checks
                answers[language] = f"cannot tell whether it is installed ({exc})"
        return answers[language]

    return cached


def _check_lesson(
    lesson: Lesson | BrokenLesson,
    report: ValidationReport,
    run_checks: RunChecks | None,
    probe: ToolchainProbe,
    skipped: dict[str, tuple[str, int]],
) -> None:
    report.lessons += 1
    if isinstance(lesson, BrokenLesson):
        report.errors.extend(lesson.errors)
        return
    if run_checks is None:
        return
    reason = probe(lesson.language)
    if reason:
        _reason, count = skipped.get(lesson.language, (reason, 0))
        skipped[lesson.language] = (reason, count + 1)
        return
    report.errors.extend(behaviour_errors(lesson, run_checks))


def behaviour_errors(lesson: Lesson, run_checks: RunChecks) -> list[LessonError]:
    """Run the lesson's checks on copies of its solution and its starter.

    Args:
        lesson: a lesson that loaded.
        run_checks: the runner (see `RunChecks`).

    Returns:
        An error for each check failing on the reference solution, and one when the
        starter already passes every check.
    """
    toml_path = lesson.path / "lesson.toml"
    toml_text = read_text(toml_path, lesson.path)[0] or ""
    errors: list[LessonError] = []
    first_check = key_line(toml_text, ("checks", 0))
    with tempfile.TemporaryDirectory(prefix="codetutor-check-") as tmp:
        solution = _run(lesson, run_checks, lesson.solution_dir, Path(tmp) / "solution")
        if isinstance(solution, str):
            return [LessonError(toml_path, first_check, f"cannot run the checks: {solution}")]
        for index, (check, result) in enumerate(zip(lesson.checks, solution, strict=False)):
            if not getattr(result, "passed", False):
                line = key_line(toml_text, ("checks", index))
                message = f"check {index + 1} ({check.kind}) fails on the reference solution"
                errors.append(LessonError(toml_path, line, message + _describe(result)))
        starter = _run(lesson, run_checks, lesson.starter_dir, Path(tmp) / "starter")
        if isinstance(starter, str):
            errors.append(LessonError(toml_path, first_check, f"cannot run the checks: {starter}"))
        elif all(getattr(result, "passed", False) for result in starter):
            message = "the starter already passes all checks: the learner has nothing to do"
            errors.append(LessonError(toml_path, first_check, message))
    return errors


def _run(lesson: Lesson, run_checks: RunChecks, source: Path, work: Path) -> list[Any] | str:
    """The check results for the files in `source` (copied to `work`), or why none."""
    try:
        copy_files(source, work)
        results = list(
            run_checks(
                lesson.language, lesson.main, work, lesson.checks, time_limit_s=lesson.time_limit
            )
        )
    except Exception as exc:  # noqa: BLE001 - a runner failure is reported, not raised
        return f"{exc.__class__.__name__}: {exc}"
    if len(results) != len(lesson.checks):
        return f"the runner gave {len(results)} results for {len(lesson.checks)} checks"
    return results


def _describe(result: Any) -> str:
    """The result's first message line, then its details indented and cut short."""
    lines = str(getattr(result, "message", "") or "").strip().splitlines()
    text = f": {lines[0]}" if lines else ""
    if len(lines) > 1:
        text += " ..."
    details = str(getattr(result, "details", "") or "").strip()
    if details:
        lines = details.splitlines()
        if len(lines) > MAX_DETAIL_LINES:
            lines = [*lines[:MAX_DETAIL_LINES], "..."]
        text += "\n" + "\n".join(f"    {line}" for line in lines)
    return text
