"""Loads courses and lessons from folders; bad content becomes errors, never exceptions."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.core.lessons.files import (
    Where,
    file_problem,
    folder_files,
    key_line,
    read_text,
    relative_path_problem,
)
from app.core.lessons.model import (
    CHECK_KINDS,
    COMPLETION_MODES,
    HELP_MODES,
    LANGUAGES,
    MATCH_MODES,
    TUTOR_ACTIONS,
    BrokenLesson,
    CheckSpec,
    Course,
    Lesson,
    LessonError,
    TutorPolicy,
)
from app.core.lessons.tomlreader import MISSING, TomlReader, read_toml
from app.core.prompts.templates import DEFAULT_TEMPLATE_NAMES, template_problems

COURSE_KEYS = ("title", "language", "description", "order")
LESSON_KEYS = ("title", "goal", "language", "main", "text", "time_limit", "hints", "checks")
LESSON_TABLES = ("tutor",)
CHECK_KEYS = {
    "output": ("kind", "message", "stdin", "expected", "match"),
    "test": ("kind", "message", "file"),
    "runs": ("kind", "message", "stdin"),
}
TUTOR_KEYS = ("help", "completion", "chat", "instructions", "templates", "actions")
_ALL_CHECK_KEYS = ("kind", "message", "stdin", "expected", "match", "file")


def _course_language(course_dir: Path) -> str | None:
    reader, data, _errors = read_toml(course_dir / "course.toml", course_dir)
    language = data.get("language") if reader else None
    return language if isinstance(language, str) and language in LANGUAGES else None


def load_lesson(
    path: Path, course_id: str | None = None, course_language: str | None = None
) -> Lesson | BrokenLesson:
    """Load one lesson folder; never raises on bad content.

    Args:
        path: the lesson folder (holding lesson.toml).
        course_id: the course's id; defaults to the parent folder's name.
        course_language: the course's language, used when lesson.toml names none; read
            from the parent's course.toml when not given.

    Returns:
        The lesson, or a BrokenLesson carrying every error found.
    """
    path = Path(path)
    course_id = course_id or path.absolute().parent.name
    try:
        if course_language is None:
            course_language = _course_language(path.parent)
        return _load_lesson(path, course_id, course_language)
    except Exception as exc:  # noqa: BLE001 - a loader bug must not take the browser down
        error = LessonError(path, None, f"unexpected error while loading: {exc!r}")
        return BrokenLesson(path.name, course_id, path, path.name, (error,))


def _load_lesson(path: Path, course_id: str, course_language: str | None) -> Lesson | BrokenLesson:
    toml_path = path / "lesson.toml"
    if not path.is_dir():
        error = LessonError(path, None, "the lesson folder does not exist")
        return BrokenLesson(path.name, course_id, path, path.name, (error,))
    if path.is_symlink() and not path.resolve().is_relative_to(path.parent.resolve()):
        error = LessonError(
            path, None, "the lesson folder is a link to a folder outside the course; refused"
        )
        return BrokenLesson(path.name, course_id, path, path.name, (error,))
    r, data, errors = read_toml(toml_path, path)
    if r is None:
        return BrokenLesson(path.name, course_id, path, path.name, tuple(errors))

    r.unknown_keys(data, (), (*LESSON_KEYS, *LESSON_TABLES))
    title = r.string(data, (), "title")
    goal = r.string(data, (), "goal", one_line=True)
    language = r.choice(data, (), "language", LANGUAGES, default=course_language or "")
    if not language and "language" not in data:
        r.error(None, "no 'language' here and none (valid) in the course's course.toml")
    main = r.string(data, (), "main")
    text_name = r.string(data, (), "text", default="lesson.md")
    time_limit = _time_limit(r, data)
    hints = r.str_list(data, (), "hints")
    checks = _checks(r, data, path)
    policy = _policy(r, data)
    text = _lesson_files(r, data, path, main, text_name)

    if r.errors or title is None or goal is None or main is None or text is None:
        guess = title if isinstance(title, str) else path.name
        return BrokenLesson(path.name, course_id, path, guess, tuple(r.errors))
    return Lesson(
        id=path.name,
        course_id=course_id,
        title=title.strip(),
        goal=goal.strip(),
        language=language or "",
        main=main,
        text=text,
        path=path,
        time_limit=time_limit,
        hints=hints,
        checks=checks,
        policy=policy,
        starter_dir=path / "starter",
        solution_dir=path / "solution",
    )


def _time_limit(r: TomlReader, data: dict[str, Any]) -> float:
    value = data.get("time_limit", 10)
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not (1 <= value <= 120):  # NaN fails the comparison too
        r.error(("time_limit",), "'time_limit' must be a number of seconds from 1 to 120")
        return 10.0
    return float(value)


def _checks(r: TomlReader, data: dict[str, Any], lesson_dir: Path) -> tuple[CheckSpec, ...]:
    raw = data.get("checks", MISSING)
    if raw is MISSING or raw == []:
        r.error(None, "a lesson needs at least one [[checks]] table")
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, dict) for c in raw):
        r.error(("checks",), "'checks' must be written as [[checks]] tables")
        return ()
    checks: list[CheckSpec] = []
    for i, table in enumerate(raw):
        where: Where = ("checks", i)
        label = f"check {i + 1}: "
        kind = r.choice(table, where, "kind", CHECK_KINDS, default=None, label=label)
        allowed = CHECK_KEYS.get(kind or "", _ALL_CHECK_KEYS)
        for key in table:
            if key in _ALL_CHECK_KEYS and key not in allowed:
                r.error((*where, key), f"{label}'{key}' is not used by {kind} checks")
        others = {k: v for k, v in table.items() if k not in _ALL_CHECK_KEYS}
        r.unknown_keys(others, where, _ALL_CHECK_KEYS, label)
        message = r.string(table, where, "message", label=label)
        stdin = expected = ""
        match = "exact"
        file: Path | None = None
        if kind in ("output", "runs"):
            stdin = r.string(table, where, "stdin", default="", label=label, non_empty=False) or ""
        if kind == "output":
            expected_value = r.string(table, where, "expected", label=label, non_empty=False)
            expected = expected_value or ""
            match = r.choice(table, where, "match", MATCH_MODES, default="exact", label=label)
            if match == "regex" and expected_value is not None:
                try:
                    re.compile(expected)
                except re.error as exc:
                    r.error((*where, "expected"), f"{label}'expected' is not a valid regex: {exc}")
        elif kind == "test":
            file = _check_file(r, table, where, label, lesson_dir)
        if kind is not None and message is not None:
            checks.append(CheckSpec(kind, message, stdin, expected, match or "exact", file))
    return tuple(checks)


def _check_file(
    r: TomlReader, table: dict[str, Any], where: Where, label: str, lesson_dir: Path
) -> Path | None:
    rel = r.string(table, where, "file", label=label)
    if rel is None:
        return None
    problem = relative_path_problem(rel)
    if problem is None:
        _text, problem = read_text(lesson_dir / rel, lesson_dir)
    if problem:
        r.error((*where, "file"), f"{label}test file '{rel}' {problem}")
        return None
    return (lesson_dir / rel).absolute()


def _policy(r: TomlReader, data: dict[str, Any]) -> TutorPolicy:
    raw = data.get("tutor", {})
    if not isinstance(raw, dict):
        r.error(("tutor",), "'tutor' must be a table ([tutor])")
        return TutorPolicy()
    where: Where = ("tutor",)
    r.unknown_keys(raw, where, TUTOR_KEYS, "[tutor] ")
    help_mode = r.choice(raw, where, "help", HELP_MODES, default="hints") or "hints"
    completion = r.choice(raw, where, "completion", COMPLETION_MODES, default="line") or "line"
    chat = r.boolean(raw, where, "chat", True)
    instructions = r.string(raw, where, "instructions", default="", non_empty=False) or ""
    actions = _actions(r, raw, where)
    return TutorPolicy(help_mode, completion, chat, instructions, _templates(r, raw), actions)


def _actions(r: TomlReader, raw: dict[str, Any], where: Where) -> tuple[str, ...]:
    """`[tutor] actions`: a list of known action names; all of them when absent."""
    if "actions" not in raw:
        return TUTOR_ACTIONS
    names = r.str_list(raw, where, "actions")
    if not names and raw["actions"] != []:
        return TUTOR_ACTIONS  # the reader said what is wrong
    unknown = [n for n in names if n not in TUTOR_ACTIONS]
    for name in unknown:
        r.error(
            (*where, "actions"),
            f"unknown tutor action '{name}' (known: {', '.join(TUTOR_ACTIONS)})",
        )
    if unknown:
        return TUTOR_ACTIONS
    return tuple(dict.fromkeys(names))


def _templates(r: TomlReader, tutor: dict[str, Any]) -> dict[str, str]:
    raw = tutor.get("templates", {})
    where: Where = ("tutor", "templates")
    if not isinstance(raw, dict):
        r.error(where, "'templates' must be a table ([tutor.templates])")
        return {}
    templates: dict[str, str] = {}
    for name, value in raw.items():
        if name not in DEFAULT_TEMPLATE_NAMES:
            known = ", ".join(DEFAULT_TEMPLATE_NAMES)
            r.error((*where, name), f"unknown template name '{name}' (known: {known})")
        elif not isinstance(value, str):
            r.error((*where, name), f"template '{name}' must be a string")
        else:
            problems = template_problems(value)
            start = key_line(r.text, (*where, name))
            for problem in problems:
                line = _template_problem_line(r.text, start, value, problem)
                r.errors.append(LessonError(r.file, line, f"template '{name}': {problem}"))
            if not problems:
                templates[name] = value
    return templates


def _template_problem_line(text: str, start: int | None, value: str, problem: str) -> int | None:
    """The line of an unknown variable inside a (multi-line) template, else `start`."""
    m = re.match(r"unknown template variable (\{[^{}]*\})", problem)
    if start is None or m is None:
        return start
    lines = text.split("\n")
    for offset in range(value.count("\n") + 2):
        index = start - 1 + offset
        if index < len(lines) and m.group(1) in lines[index]:
            return start + offset
    return start


def _lesson_files(
    r: TomlReader, data: dict[str, Any], lesson_dir: Path, main: str | None, text_name: str | None
) -> str | None:
    """Check the text, starter/ and solution/; returns the lesson text when readable."""
    text: str | None = None
    if text_name is not None:
        problem = relative_path_problem(text_name)
        if problem is None:
            text, problem = read_text(lesson_dir / text_name, lesson_dir)
        if problem:
            r.error(("text",) if "text" in data else None, f"lesson text '{text_name}' {problem}")
    for folder_name in ("starter", "solution"):
        folder = lesson_dir / folder_name
        if not folder.is_dir() or not _inside_lesson(folder, lesson_dir):
            what = "is missing" if not folder.exists() else "is not a folder inside the lesson"
            r.errors.append(LessonError(folder, None, f"the {folder_name}/ folder {what}"))
            continue
        _good, bad = folder_files(folder, lesson_dir)
        for bad_path, problem in bad:
            r.errors.append(LessonError(bad_path, None, f"lesson file {problem}"))
        if main is None:
            continue
        problem = relative_path_problem(main)
        if problem is None:
            problem = file_problem(folder / main, lesson_dir)
        if problem:
            r.error(("main",), f"main file '{folder_name}/{main}' {problem}")
    return text


def _inside_lesson(folder: Path, lesson_dir: Path) -> bool:
    return file_problem(folder, lesson_dir) in (None, "is not a file")


def _lesson_folders(course_dir: Path) -> list[str]:
    try:
        return sorted(
            d.name for d in course_dir.iterdir() if d.is_dir() and not d.name.startswith((".", "_"))
        )
    except OSError:
        return []


def load_course(path: Path) -> Course:
    """Load one course folder and all its lessons; never raises on bad content.

    Args:
        path: the course folder (holding course.toml and one folder per lesson).

    Returns:
        The course; problems with course.toml are in `errors`, broken lessons inside.
    """
    path = Path(path)
    r, data, errors = read_toml(path / "course.toml", path)
    title, language, description = path.name, "", ""
    folders = _lesson_folders(path)
    order = folders
    if r is not None:
        r.unknown_keys(data, (), COURSE_KEYS)
        title = (r.string(data, (), "title") or path.name).strip()
        language = r.choice(data, (), "language", LANGUAGES, default=None) or ""
        description = r.string(data, (), "description", default="", non_empty=False) or ""
        if "order" in data:
            order = _order(r, data, folders)
        errors = r.errors
    lessons = tuple(load_lesson(path / name, path.name, language or "") for name in order)
    return Course(path.name, title, language, description, path, lessons, tuple(errors))


def _order(r: TomlReader, data: dict[str, Any], folders: list[str]) -> list[str]:
    listed = r.str_list(data, (), "order")
    order: list[str] = []
    for name in listed:
        if name in order:
            r.error(("order",), f"'order' lists '{name}' twice")
        elif name not in folders:
            r.error(("order",), f"'order' lists '{name}', but there is no lesson folder '{name}'")
        else:
            order.append(name)
    for name in folders:
        if name not in order:
            r.error(("order",), f"lesson folder '{name}' is not listed in 'order'")
            order.append(name)
    return order


def is_course_folder(path: Path) -> bool:
    """Whether `path` looks like a course: it has course.toml or a lesson folder."""
    if (path / "course.toml").is_file():
        return True
    return any((path / name / "lesson.toml").is_file() for name in _lesson_folders(path))


def load_courses(roots: Sequence[Path]) -> list[Course]:
    """Load every course under the given folders; never raises.

    Args:
        roots: folders holding course folders; a root that is itself a course folder (it
            has course.toml or lesson folders) is loaded as one course. Missing roots are
            skipped.

    Returns:
        The courses, root by root, each root's courses sorted by folder name.
    """
    courses: list[Course] = []
    for root in roots:
        root = Path(root)
        try:
            if is_course_folder(root):
                courses.append(load_course(root))
                continue
            for name in _lesson_folders(root):
                if is_course_folder(root / name):
                    courses.append(load_course(root / name))
        except OSError:
            continue
    return courses


def lessons_by_key(roots: Sequence[Path]) -> dict[str, Lesson]:
    """Every lesson of the courses in `roots` that loaded, by its key "course/lesson"."""
    return {
        lesson.key: lesson
        for course in load_courses(roots)
        for lesson in course.lessons
        if isinstance(lesson, Lesson)
    }
