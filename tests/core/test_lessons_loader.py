"""Tests of the lesson loader: good lessons load, every kind of bad content is located."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.lessons import (
    BrokenLesson,
    CheckSpec,
    Lesson,
    LessonError,
    load_course,
    load_courses,
    load_lesson,
)
from app.core.lessons.files import key_line


def broken(path: Path) -> BrokenLesson:
    """Load `path`, asserting that it is broken."""
    lesson = load_lesson(path)
    assert isinstance(lesson, BrokenLesson), lesson
    return lesson


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of the first line of `path` containing `needle`."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def test_good_lesson_loads_with_every_field(make_lesson):
    """A well-formed lesson loads with its text, checks, hints, policy and folders."""
    path = make_lesson()
    lesson = load_lesson(path)
    assert isinstance(lesson, Lesson), lesson
    assert (lesson.id, lesson.course_id, lesson.key) == ("01-hello", "py", "py/01-hello")
    assert lesson.title == "Say hello"
    assert lesson.goal == "Print a greeting"
    assert lesson.language == "python"  # from course.toml
    assert lesson.main == "main.py"
    assert lesson.text.startswith("# Say hello")
    assert lesson.time_limit == 10.0
    assert lesson.hints == ("Use print().", "Put the text in quotes.")
    assert lesson.checks == (
        CheckSpec("output", "Print exactly Hello, world!", "", "Hello, world!\n", "exact", None),
        CheckSpec("test", "The tests must pass", file=(path / "checks/test_main.py").absolute()),
    )
    assert lesson.checks[1].file.read_text().startswith("def test_nothing")
    assert lesson.policy.help == "hints"
    assert lesson.policy.completion == "off"
    assert lesson.policy.chat is True
    assert lesson.policy.instructions == "Do not mention f-strings yet."
    assert lesson.policy.templates == {
        "hint": "Give hint {hint_level} of {hint_count} for {lesson_title}."
    }
    assert (lesson.starter_dir / "main.py").read_text() == "# write your code here\n"
    assert (lesson.solution_dir / "main.py").is_file()
    assert hash(lesson)  # usable as a dict key


def test_lesson_defaults_and_own_language(make_lesson):
    """Optional keys take their defaults, and a lesson's language overrides the course's."""
    toml = """\
title = "Hello in Java"
goal = "Print a greeting"
language = "java"
main = "Main.java"
text = "text.md"
time_limit = 2.5

[[checks]]
kind = "runs"
message = "It must run"
"""
    files = {
        "text.md": "Java!",
        "starter/Main.java": "class Main {}",
        "solution/Main.java": "class Main {}",
    }
    lesson = load_lesson(make_lesson(toml, files=files))
    assert isinstance(lesson, Lesson), lesson
    assert (lesson.language, lesson.text, lesson.time_limit) == ("java", "Java!", 2.5)
    assert lesson.hints == ()
    assert lesson.policy.help == "hints" and lesson.policy.completion == "line"
    assert lesson.policy.chat is True and lesson.policy.templates == {}


def test_courses_load_in_order_with_hidden_folders_skipped(make_lesson, courses_root):
    """Lessons follow course.toml's order; folders starting with . or _ are not lessons."""
    for name in ("01-a", "02-b", "03-c"):
        make_lesson(lesson=name)
    (courses_root / "py" / "_drafts").mkdir()
    (courses_root / "py" / ".git").mkdir()
    (courses_root / "py" / "course.toml").write_text(
        'title = "Py"\nlanguage = "python"\norder = ["03-c", "01-a", "02-b"]\n'
    )
    courses = load_courses([courses_root])
    assert [c.id for c in courses] == ["py"]
    course = courses[0]
    assert (course.title, course.language, course.errors) == ("Py", "python", ())
    assert [lesson.id for lesson in course.lessons] == ["03-c", "01-a", "02-b"]
    assert all(isinstance(lesson, Lesson) for lesson in course.lessons)


def test_root_that_is_a_course_folder_is_accepted(make_lesson, courses_root):
    """A root holding course.toml itself is loaded as one course; missing roots are skipped."""
    make_lesson()
    courses = load_courses([courses_root / "py", courses_root / "nowhere"])
    assert [c.id for c in courses] == ["py"]
    assert courses[0].description == "First steps."


def test_broken_lesson_does_not_stop_its_siblings(make_lesson, courses_root):
    """A broken lesson is listed as broken, with a best-guess title, between good siblings."""
    make_lesson(lesson="01-a")
    make_lesson('title = "Half done"\ngoal = 3\n', lesson="02-b")
    make_lesson(lesson="03-c")
    course = load_courses([courses_root])[0]
    kinds = [type(lesson).__name__ for lesson in course.lessons]
    assert kinds == ["Lesson", "BrokenLesson", "Lesson"]
    bad = course.lessons[1]
    assert bad.title == "Half done"
    assert bad.key == "py/02-b"
    assert "'goal' must be a string, not an integer" in "\n".join(map(str, bad.errors))
    assert course.all_errors() == list(bad.errors)


def test_bad_toml_reports_its_line(make_lesson):
    """Invalid TOML gives one error naming lesson.toml and the line tomllib complains about."""
    path = make_lesson('title = "x"\ngoal = "y"\nmain = main.py\n')
    (error,) = broken(path).errors
    assert error.file == path / "lesson.toml"
    assert error.line == 3
    assert error.message.startswith("invalid TOML")
    assert str(error) == f"{path / 'lesson.toml'}:3: {error.message}"
    assert broken(path).title == "01-hello"


def test_unterminated_toml_reports_last_line(make_lesson):
    """TOML ending mid-value reports the line tomllib gives (or the file's last line)."""
    path = make_lesson('title = "x"\nhints = ["a",\n')
    (error,) = broken(path).errors
    assert error.line in (2, 3)
    assert "invalid TOML" in error.message


@pytest.mark.parametrize(
    ("missing", "needle", "expected"),
    [
        ("lesson.md", None, "lesson text 'lesson.md' does not exist"),
        ("starter/main.py", "main =", "main file 'starter/main.py' does not exist"),
        ("solution/main.py", "main =", "main file 'solution/main.py' does not exist"),
        (
            "checks/test_main.py",
            "file =",
            "check 2: test file 'checks/test_main.py' does not exist",
        ),
    ],
)
def test_missing_files_are_reported_with_the_key_line(make_lesson, missing, needle, expected):
    """A missing text, main file or check file is an error at the line that names it."""
    path = make_lesson(files={missing: None})
    errors = broken(path).errors
    assert [e.message for e in errors] == [expected]
    toml = path / "lesson.toml"
    assert errors[0].file == toml
    assert errors[0].line == (line_of(toml, needle) if needle else None)


def test_missing_lesson_toml_and_folders(make_lesson):
    """No lesson.toml, or no starter/ and solution/ folders, are errors naming them."""
    path = make_lesson(None)
    (error,) = broken(path).errors
    assert (error.file, error.message) == (path / "lesson.toml", "lesson.toml does not exist")
    other = make_lesson(lesson="02", files={"starter/main.py": None, "solution/main.py": None})
    for sub in ("starter", "solution"):
        (other / sub).rmdir()
    messages = {(e.file, e.message) for e in broken(other).errors}
    assert (other / "starter", "the starter/ folder is missing") in messages
    assert (other / "solution", "the solution/ folder is missing") in messages


def test_unknown_keys_are_reported_at_their_lines(make_lesson, good_lesson_toml):
    """Unknown keys at top level, in a check and in [tutor] each name their own line."""
    toml = good_lesson_toml.replace('goal = "Print', 'colour = "red"\ngoal = "Print')
    toml = toml.replace('file = "checks/test_main.py"', 'file = "checks/test_main.py"\ntimeout = 3')
    toml = toml.replace('help = "hints"', 'help = "hints"\nmood = "happy"\nchatt = false')
    path = make_lesson(toml)
    got = {e.message: e.line for e in broken(path).errors}
    toml_path = path / "lesson.toml"
    assert got == {
        "unknown key 'colour'": line_of(toml_path, "colour"),
        "check 2: unknown key 'timeout'": line_of(toml_path, "timeout"),
        "[tutor] unknown key 'mood'": line_of(toml_path, "mood"),
        "[tutor] unknown key 'chatt' (did you mean 'chat'?)": line_of(toml_path, "chatt"),
    }


def test_unknown_template_variable_is_an_error_at_its_line(make_lesson):
    """A template override using an unknown variable points at the line that uses it."""
    toml = (
        GOOD_HEAD + '[tutor.templates]\nexplain = "Explain {code}"\nhint = """\nHint {hint_level}\n'
        'for {lesson_titel}\n"""\nchat = "{0} {{literal}}"\n'
    )
    path = make_lesson(toml, files={"checks/test_main.py": None})
    toml_path = path / "lesson.toml"
    got = {e.message: e.line for e in broken(path).errors}
    assert got == {
        "template 'hint': unknown template variable {lesson_titel} "
        "(did you mean {lesson_title}?)": line_of(toml_path, "{lesson_titel}"),
        "template 'chat': unknown template variable {0}": line_of(toml_path, "chat ="),
    }


def test_malformed_template_and_unknown_template_name(make_lesson):
    """A single brace and an unknown template name are both reported."""
    toml = GOOD_HEAD + '[tutor.templates]\nhint = "Hint {hint_level"\nsummary = "x"\n'
    path = make_lesson(toml)
    messages = [e.message for e in broken(path).errors]
    assert any(m.startswith("template 'hint': malformed template") for m in messages), messages
    assert any(m.startswith("unknown template name 'summary'") for m in messages), messages


GOOD_HEAD = """\
title = "T"
goal = "G"
main = "main.py"

[[checks]]
kind = "runs"
message = "It runs"

"""


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('main = "main.py"', 'main = "../../etc/passwd"', "must stay inside the lesson folder"),
        ('main = "main.py"', 'main = "/etc/passwd"', "not an absolute path"),
        ('main = "main.py"', 'main = "C:\\\\Windows\\\\win.ini"', "not an absolute path"),
        ('file = "checks/test_main.py"', 'file = "../../x.py"', "must stay inside"),
        ('goal = "Print', 'text = "../../../etc/passwd"\ngoal = "Print', "must stay inside"),
    ],
)
def test_paths_escaping_the_lesson_are_refused(
    make_lesson, good_lesson_toml, replace, by, expected
):
    """Relative paths with .., absolute paths and drive letters are errors at their line."""
    path = make_lesson(good_lesson_toml.replace(replace, by))
    errors = broken(path).errors
    assert any(expected in e.message for e in errors), errors
    key = by.split(" =")[0].split("\n")[-1]
    assert {e.line for e in errors} == {line_of(path / "lesson.toml", f"{key} =")}


def test_symlinks_pointing_outside_are_refused(make_lesson, tmp_path):
    """A starter file or check file that is a symlink to outside the lesson is refused."""
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    path = make_lesson(files={"starter/main.py": None, "checks/test_main.py": None})
    os.symlink(secret, path / "starter" / "main.py")
    os.symlink(secret, path / "checks" / "test_main.py")
    messages = [str(e) for e in broken(path).errors]
    assert any(
        f"{path / 'starter' / 'main.py'}: lesson file points outside the lesson folder" in m
        for m in messages
    ), messages
    assert any("test file 'checks/test_main.py' points outside" in m for m in messages), messages


def test_lesson_folder_linked_from_outside_the_course_is_refused(make_lesson, tmp_path):
    """A lesson folder that is a symlink to a folder outside its course is broken, with a line."""
    from app.core.lessons.loader import load_course

    outside = make_lesson(course="elsewhere", lesson="real")
    course = make_lesson(course="py", lesson="01-hello").parent
    os.symlink(outside, course / "02-linked")
    lessons = {lesson.id: lesson for lesson in load_course(course).lessons}
    assert isinstance(lessons["01-hello"], Lesson)
    messages = [e.message for e in broken(course / "02-linked").errors]
    assert any("link to a folder outside the course" in m for m in messages), messages
    assert not isinstance(lessons["02-linked"], Lesson)


def test_symlink_inside_the_lesson_is_fine(make_lesson):
    """A symlink to another file of the same lesson is allowed."""
    path = make_lesson(files={"checks/test_main.py": None})
    os.symlink(path / "solution" / "main.py", path / "checks" / "test_main.py")
    assert isinstance(load_lesson(path), Lesson)


def test_huge_files_are_refused(make_lesson):
    """A file over 1 MB (lesson text or starter file) is an error naming it."""
    big = "x" * (1024 * 1024 + 1)
    path = make_lesson(files={"lesson.md": big, "starter/data.txt": big})
    messages = [str(e) for e in broken(path).errors]
    assert any("lesson text 'lesson.md' is larger than 1 MB" in m for m in messages), messages
    assert (
        f"{path / 'starter' / 'data.txt'}: lesson file is larger than 1 MB (1,048,577 bytes)"
        in messages
    )


def test_binary_files_are_refused(make_lesson):
    """Binary lesson files, and a binary lesson.toml, are refused."""
    path = make_lesson(files={"solution/picture.png": b"\x89PNG\x00\x01\x02"})
    (error,) = broken(path).errors
    assert error.file == path / "solution" / "picture.png"
    assert error.message == "lesson file is a binary file, not text"
    other = make_lesson(b"title = \xff\xfe\x00", lesson="02")
    (error,) = broken(other).errors
    assert error.file == other / "lesson.toml"
    assert "binary" in error.message


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('title = "Say hello"', "title = 3", "'title' must be a string, not an integer"),
        ('title = "Say hello"', 'title = "  "', "'title' must not be empty"),
        ('goal = "Print a greeting"', 'goal = """a\nb"""', "'goal' must be one line"),
        (
            'main = "main.py"',
            'main = "main.py"\ntime_limit = "ten"',
            "'time_limit' must be a number",
        ),
        ('main = "main.py"', 'main = "main.py"\ntime_limit = 500', "from 1 to 120"),
        ('main = "main.py"', 'main = "main.py"\ntime_limit = true', "from 1 to 120"),
        ('main = "main.py"', 'main = "main.py"\nlanguage = "cobol"', "'language' must be one of"),
        ('hints = ["Use print().", "Put the text in quotes."]', 'hints = "x"', "list of strings"),
        ('hints = ["Use print().", "Put the text in quotes."]', "hints = [1]", "item 1"),
        ("chat = true", 'chat = "yes"', "'chat' must be true or false, not a string"),
        ('help = "hints"', 'help = "all"', "'help' must be one of hints, full"),
        ('completion = "off"', 'completion = "word"', "'completion' must be one of"),
        ('kind = "output"', 'kind = "smell"', "check 1: 'kind' must be one of output, test, runs"),
        ('expected = "Hello', 'match = "fuzzy"\nexpected = "Hello', "'match' must be one of"),
        ('expected = "Hello, world!\\n"', 'match = "regex"\nexpected = "(("', "not a valid regex"),
        ('expected = "Hello, world!\\n"', "expected = 3", "'expected' must be a string"),
        (
            'file = "checks/test_main.py"',
            'file = "checks/test_main.py"\nstdin = "x"',
            "'stdin' is not used by test checks",
        ),
        ("hint = ", "hint = 4\nx = ", "template 'hint' must be a string"),
    ],
)
def test_wrong_types_and_values_are_errors_at_their_line(
    make_lesson, good_lesson_toml, replace, by, expected
):
    """Each wrongly typed or out-of-range value is reported at the line of its key."""
    toml = good_lesson_toml.replace(replace, by)
    assert toml != good_lesson_toml
    path = make_lesson(toml)
    errors = broken(path).errors
    matching = [e for e in errors if expected in e.message]
    assert matching, errors
    assert matching[0].file == path / "lesson.toml"
    assert matching[0].line is not None


def test_tutor_and_templates_must_be_tables(make_lesson):
    """`tutor` and `tutor.templates` given as plain values are errors at their lines."""
    path = make_lesson("tutor = 3\n" + GOOD_HEAD)
    (error,) = broken(path).errors
    assert (error.line, error.message) == (1, "'tutor' must be a table ([tutor])")
    other = make_lesson(GOOD_HEAD + '[tutor]\ntemplates = "hint"\n', lesson="02")
    (error,) = broken(other).errors
    assert (error.line, error.message) == (10, "'templates' must be a table ([tutor.templates])")


def test_missing_required_keys_and_checks(make_lesson):
    """Missing title, goal, main and checks each get an error."""
    path = make_lesson('language = "python"\n')
    messages = sorted(e.message for e in broken(path).errors)
    assert messages == [
        "a lesson needs at least one [[checks]] table",
        "missing required key 'goal'",
        "missing required key 'main'",
        "missing required key 'title'",
    ]
    other = make_lesson(
        'title = "T"\ngoal = "G"\nmain = "main.py"\ncheck = []\n[checks]\nkind = 1\n', lesson="02"
    )
    got = {e.message: e.line for e in broken(other).errors}
    assert got["'checks' must be written as [[checks]] tables"] == 5
    assert got["unknown key 'check' (did you mean 'checks'?)"] == 4


def test_missing_check_keys_point_at_their_table(make_lesson):
    """A check without message or expected is reported at its [[checks]] line."""
    toml = GOOD_HEAD + '[[checks]]\nkind = "output"\n'
    path = make_lesson(toml)
    got = {e.message: e.line for e in broken(path).errors}
    table_line = 9
    assert (path / "lesson.toml").read_text().splitlines()[table_line - 1] == "[[checks]]"
    assert got == {
        "check 2: missing required key 'message'": table_line,
        "check 2: missing required key 'expected'": table_line,
    }


def test_course_toml_problems_are_course_errors(make_lesson, courses_root):
    """A bad course.toml yields course errors with lines; its lessons still load."""
    make_lesson(
        course_toml='title = "P"\nlanguage = "python"\norder = ["01-hello", "09-gone"]\nlevel = 1\n'
    )
    make_lesson(lesson="02-more")
    course = load_courses([courses_root])[0]
    toml = courses_root / "py" / "course.toml"
    assert {(e.file, e.line, e.message) for e in course.errors} == {
        (toml, 3, "'order' lists '09-gone', but there is no lesson folder '09-gone'"),
        (toml, 3, "lesson folder '02-more' is not listed in 'order'"),
        (toml, 4, "unknown key 'level'"),
    }
    assert [type(x).__name__ for x in course.lessons] == ["Lesson", "Lesson"]


def test_course_without_course_toml_is_still_shown(make_lesson, courses_root):
    """A course folder lacking course.toml is loaded with an error; lessons need a language."""
    make_lesson(course_toml=None)
    (course,) = load_courses([courses_root])
    assert course.title == "py"
    assert [e.message for e in course.errors] == ["course.toml does not exist"]
    (lesson,) = course.lessons
    assert isinstance(lesson, BrokenLesson)
    assert "no 'language' here" in lesson.errors[0].message
    (same,) = load_courses([courses_root / "py"])  # given directly, it is still a course
    assert same.errors == course.errors


def test_load_course_never_raises_on_a_missing_folder(tmp_path):
    """Loading a course folder that does not exist gives a course with an error."""
    course = load_course(tmp_path / "nope")
    assert course.lessons == ()
    assert course.errors and "does not exist" in course.errors[0].message


def test_lesson_error_str_without_line():
    """LessonError prints as file:line: message, or file: message without a line."""
    assert str(LessonError(Path("a/b.toml"), 4, "bad")) == "a/b.toml:4: bad"
    assert str(LessonError(Path("a/b.toml"), None, "bad")) == "a/b.toml: bad"


def test_key_line_finds_nested_keys_and_skips_strings():
    """key_line locates keys in tables and arrays of tables, ignoring multi-line strings."""
    text = (
        'title = "x"\n'
        'text = """\n'
        "goal = not a key\n"
        '"""\n'
        "goal = 'g'\n"
        "[[checks]]\n"
        "kind = 'a'\n"
        "[[checks]]\n"
        "  kind = 'b'\n"
        "[tutor.templates]\n"
        '"hint" = "h"\n'
    )
    assert key_line(text, ("goal",)) == 5
    assert key_line(text, ("checks", 1, "kind")) == 9
    assert key_line(text, ("checks", 1, "message")) == 8  # the table, as the nearest
    assert key_line(text, ("tutor", "templates", "hint")) == 11
    assert key_line(text, ("tutor",)) == 10
    assert key_line(text, ("nothing",)) is None


def test_bytecode_and_caches_in_lesson_folders_are_ignored(make_lesson):
    """__pycache__ folders and .pyc files (left by running Python) are not lesson errors."""
    from app.core.lessons import Lesson, load_lesson

    path = make_lesson()
    cache = path / "starter" / "__pycache__"
    cache.mkdir()
    (cache / "main.cpython-311.pyc").write_bytes(b"\x00\x01binary")
    (path / "solution" / "Main.class").write_bytes(b"\xca\xfe\xba\xbe")
    assert isinstance(load_lesson(path), Lesson)
