"""Tests of the lesson validator: loader errors, behavioral checks, and the CLI."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import app.core.resources
from app.cli import main as cli_main
from app.core.lessons import Lesson, load_lesson
from app.core.lessons.validate import validate, validate_courses
from app.runner import lessons_check as validate_module
from app.runner.lessons_check import check_main


@dataclass(frozen=True)
class FakeResult:
    """Stands in for app.runner.checks.CheckResult."""

    passed: bool
    message: str
    details: str = ""


class FakeRunner:
    """Passes a check when the main file contains the expected output text.

    `broken` maps a check index to the details it reports when it fails.
    """

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, Path, int, float]] = []

    def __call__(self, language, main_file, files_dir, checks, *, time_limit_s):
        """Run the checks: an output check passes when the code contains its text."""
        code = (files_dir / main_file).read_text()
        self.seen.append((language, main_file, files_dir, len(checks), time_limit_s))
        results = []
        for check in checks:
            if check.kind == "output":
                ok = check.expected.strip() in code
                results.append(FakeResult(ok, check.message, f"expected {check.expected!r}"))
            else:
                results.append(FakeResult("print" in code, check.message, "no print call"))
        return results


def lines(path: Path) -> list[str]:
    """The lines of a file."""
    return path.read_text().splitlines()


def test_clean_lesson_has_no_errors_and_runs_on_copies(make_lesson, courses_root):
    """A good lesson validates cleanly; checks run on copies of solution and starter."""
    lesson = make_lesson()
    runner = FakeRunner()
    assert validate_courses([courses_root], runner) == []
    assert [s[:2] for s in runner.seen] == [("python", "main.py")] * 2
    solution_dir, starter_dir = runner.seen[0][2], runner.seen[1][2]
    assert solution_dir.name == "solution" and starter_dir.name == "starter"
    assert lesson not in solution_dir.parents  # a temporary copy, not the lesson itself
    assert not solution_dir.exists()  # cleaned up
    assert runner.seen[0][3:] == (2, 10.0)


def test_check_failing_on_the_reference_solution(make_lesson):
    """A check that fails on the solution is reported at its [[checks]] line with details."""
    path = make_lesson(files={"solution/main.py": 'print("Goodbye")\n'})
    errors = validate_courses([path], FakeRunner())
    assert len(errors) == 1
    toml = path / "lesson.toml"
    assert errors[0].file == toml
    assert lines(toml)[errors[0].line - 1] == "[[checks]]"
    assert errors[0].line == 6
    assert errors[0].message.startswith(
        "check 1 (output) fails on the reference solution: Print exactly Hello, world!"
    )
    assert "expected 'Hello, world!\\n'" in errors[0].message


def test_starter_already_passing_is_an_error(make_lesson):
    """A starter that passes every check leaves nothing to learn: an error."""
    path = make_lesson(files={"starter/main.py": 'print("Hello, world!")\n'})
    errors = validate_courses([path], FakeRunner())
    toml = (path / "lesson.toml").read_text().splitlines()
    first_check = toml.index("[[checks]]") + 1
    assert [str(e) for e in errors] == [
        f"{path / 'lesson.toml'}:{first_check}: the starter already passes all checks: "
        "the learner has nothing to do"
    ]


def test_missing_toolchain_skips_with_a_note(make_lesson):
    """A language without a toolchain skips behavioral checks with a note, not an error."""
    path = make_lesson(files={"solution/main.py": "broken"})
    notes: list[str] = []
    errors = validate_courses(
        [path],
        FakeRunner(),
        toolchain_missing=lambda language: "Python 3 is not installed",
        on_note=notes.append,
    )
    assert errors == []
    assert notes == ["python: checks not run for 1 lesson: Python 3 is not installed"]


def test_runner_failure_is_reported_not_raised(make_lesson):
    """A runner that raises, or returns the wrong number of results, becomes an error."""
    path = make_lesson()

    def exploding(*args, **kwargs):
        raise RuntimeError("boom")

    errors = validate_courses([path], exploding)
    assert [e.message for e in errors] == ["cannot run the checks: RuntimeError: boom"]
    errors = validate_courses([path], lambda *a, **k: [])
    assert errors[0].message == "cannot run the checks: the runner gave 0 results for 2 checks"


def test_loader_errors_and_template_variables_are_included(make_lesson, good_lesson_toml):
    """validate_courses returns the loader's errors, e.g. an unknown template variable."""
    toml = good_lesson_toml.replace("{lesson_title}", "{lesson_name}")
    path = make_lesson(toml)
    errors = validate_courses([path.parent], FakeRunner())
    assert [(e.file, e.line, e.message) for e in errors] == [
        (
            path / "lesson.toml",
            len(lines(path / "lesson.toml")),
            "template 'hint': unknown template variable {lesson_name} "
            "(did you mean {lesson_goal}?)",
        )
    ]


def test_missing_and_empty_paths_are_errors(tmp_path):
    """A path that does not exist, or holds no course, is an error."""
    (tmp_path / "empty").mkdir()
    errors = validate_courses([tmp_path / "nope", tmp_path / "empty"])
    assert [(e.file, e.message) for e in errors] == [
        (tmp_path / "nope", "no such folder"),
        (tmp_path / "empty", "no course here (a course folder holds course.toml and its lessons)"),
    ]


def test_report_counts_courses_and_lessons(make_lesson, courses_root):
    """Validate counts what it checked, including broken lessons."""
    make_lesson(lesson="01")
    make_lesson("title = 1", lesson="02")
    js_toml = 'title = "JS"\nlanguage = "javascript"\n'
    make_lesson(None, course="js", course_toml=js_toml)
    report = validate([courses_root])
    assert (report.courses, report.lessons) == (2, 3)
    assert {e.file for e in report.errors} == {
        courses_root / "py" / "02" / "lesson.toml",
        courses_root / "js" / "01-hello" / "lesson.toml",
    }


def test_check_main_prints_errors_and_summary(make_lesson, monkeypatch):
    """check_main prints file:line: message per error, a summary, and exits 1."""
    monkeypatch.setattr(validate_module, "runner_adapter", lambda: (FakeRunner(), lambda _: None))
    good = make_lesson()
    bad = make_lesson(files={"solution/main.py": "pass\n"}, lesson="02-bad")
    out = io.StringIO()
    assert check_main([str(good.parent)], out) == 1
    text = out.getvalue().splitlines()
    assert text[0].startswith(f"{bad / 'lesson.toml'}:6: check 1 (output) fails on the reference")
    assert text[-1] == "Checked 2 lessons in 1 course: 2 errors."
    out = io.StringIO()
    assert check_main([str(good)], out) == 0
    assert out.getvalue() == "Checked 1 lesson in 0 courses: no errors.\n"


def test_check_main_without_runner_notes_it(make_lesson, monkeypatch):
    """Without app.runner, check_main still validates the files and says checks were not run."""
    monkeypatch.setattr(validate_module, "runner_adapter", lambda: "the runner is missing")
    path = make_lesson()
    out = io.StringIO()
    assert check_main([str(path)], out) == 0
    assert out.getvalue().splitlines() == [
        "note: checks are not run on solutions and starters: the runner is missing",
        "Checked 1 lesson in 0 courses: no errors.",
    ]


def test_check_main_defaults_to_builtin_lessons(tmp_path, make_lesson, courses_root, monkeypatch):
    """With no paths, check_main validates the built-in lessons folder (empty: nothing to do)."""
    monkeypatch.setattr(validate_module, "runner_adapter", lambda: "no runner")
    monkeypatch.setattr(app.core.resources, "BUILTIN_LESSONS_DIR", tmp_path / "none")
    out = io.StringIO()
    assert check_main([], out) == 0
    assert "nothing to check" in out.getvalue()
    make_lesson("title = 1")
    monkeypatch.setattr(app.core.resources, "BUILTIN_LESSONS_DIR", courses_root)
    out = io.StringIO()
    assert check_main([], out) == 1
    assert "'title' must be a string, not an integer" in out.getvalue()


def test_codetutor_lessons_check_command(make_lesson, monkeypatch, capsys):
    """`codetutor lessons check PATH` prints the errors and exits 1."""
    monkeypatch.setattr(validate_module, "runner_adapter", lambda: "no runner")
    path = make_lesson(files={"lesson.md": None})
    assert cli_main(["lessons", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path / 'lesson.toml'}: lesson text 'lesson.md' does not exist" in out


@pytest.mark.slow
def test_real_runner_validates_a_python_lesson(make_lesson, tmp_path):
    """With the real app.runner, a good output lesson passes and a wrong solution fails."""
    pytest.importorskip("app.runner.checks")
    pytest.importorskip("app.runner.toolchains")
    adapter = validate_module.runner_adapter()
    assert not isinstance(adapter, str), adapter
    run, missing = adapter
    if missing("python"):
        pytest.skip(missing("python"))
    toml = (
        'title = "Hi"\ngoal = "Greet"\nmain = "main.py"\n\n[[checks]]\nkind = "output"\n'
        'message = "Say hello"\nstdin = "Ada\\n"\nexpected = "Hello, Ada!\\n"\n'
    )
    good = make_lesson(
        toml,
        files={
            "starter/main.py": "name = input()\n",
            "solution/main.py": 'name = input()\nprint(f"Hello, {name}!")\n',
            "checks/test_main.py": None,
        },
    )
    assert validate_courses([good], run, toolchain_missing=missing) == []
    bad = make_lesson(toml, lesson="02", files={"solution/main.py": 'print("Hello")\n'})
    errors = validate_courses([bad], run, toolchain_missing=missing)
    assert len(errors) == 1
    assert errors[0].line == 5
    assert "check 1 (output) fails on the reference solution" in errors[0].message


README = app.core.resources.BUILTIN_LESSONS_DIR / "README.md"


def readme_example(target: Path) -> Path:
    """Write the example course shown in lessons/README.md under `target`; return its folder."""
    text = README.read_text(encoding="utf-8")
    part = text[text.index("## A complete example lesson") : text.index("## Common errors")]
    block = re.compile(r"^`(python-first-steps/[^`]+)`\n\n(`{3,4})[a-z]*\n(.*?)\n\2$", re.S | re.M)
    written = []
    for match in block.finditer(part):
        path = target / match.group(1)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(match.group(3) + "\n", encoding="utf-8")
        written.append(match.group(1))
    assert len(written) == 6, written
    return target / "python-first-steps"


def test_readme_example_lesson_is_valid(tmp_path):
    """The complete example in lessons/README.md loads cleanly and passes validation."""
    course = readme_example(tmp_path)
    lesson = load_lesson(course / "01-greet")
    assert isinstance(lesson, Lesson), lesson
    assert [c.kind for c in lesson.checks] == ["test", "output", "runs"]
    assert set(lesson.policy.templates) == {"hint"}
    adapter = validate_module.runner_adapter()
    if isinstance(adapter, str) or adapter[1]("python"):
        assert validate_courses([course]) == []
    else:
        assert validate_courses([course], adapter[0], toolchain_missing=adapter[1]) == []
