"""Tests for app.runner.checks: a lesson's checks run on a copy of the learner's real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from runner_helpers import write_source as _write

import app.runner
from app.core.lessons import CheckSpec as LessonCheck
from app.runner.checks import PASSED, CheckResult, CheckSpec, run_checks, specs_from_lesson
from app.runner.process import ToolchainMissingError

pytestmark = pytest.mark.slow

ECHO_PROGRAM = """
name = input()
print(f"Hello, {name}!   ")
print()
"""


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and modification time."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _one(language: str, main: str, folder: Path, check: CheckSpec, **kw: float) -> CheckResult:
    """Run a single check and return its result."""
    results = run_checks(language, main, folder, [check], **kw)
    assert len(results) == 1
    return results[0]


@pytest.fixture
def learner(tmp_path: Path) -> Path:
    """A learner's folder with main.py greeting the name it reads."""
    folder = tmp_path / "learner"
    _write(folder, "main.py", ECHO_PROGRAM)
    return folder


def test_output_check_passes_ignoring_trailing_spaces_and_blank_lines(learner: Path) -> None:
    """An exact output check passes when only trailing whitespace and blank lines differ."""
    check = CheckSpec("output", "Greet the learner.", stdin="Ada\n", expected="Hello, Ada!\n")
    assert _one("python", "main.py", learner, check) == CheckResult(True, PASSED, "")


def test_output_check_failure_shows_expected_and_got(learner: Path) -> None:
    """A failing output check gives the lesson's message and what was expected vs printed."""
    check = CheckSpec("output", "Say hello with a comma.", stdin="Ada\n", expected="Hello Ada!")
    result = _one("python", "main.py", learner, check)
    assert not result.passed
    assert result.message == "Say hello with a comma."
    assert "Expected output:\nHello Ada!" in result.details
    assert "Your program printed:\nHello, Ada!" in result.details
    assert "Line 1 differs: expected 'Hello Ada!', got 'Hello, Ada!'." in result.details


@pytest.mark.parametrize(
    ("match", "expected", "passed"),
    [
        ("contains", "Ada", True),
        ("contains", "Bob", False),
        ("regex", r"^Hello, \w+!", True),
        ("regex", r"^Bye", False),
    ],
)
def test_contains_and_regex_matches(learner: Path, match: str, expected: str, passed: bool) -> None:
    """Match "contains" looks for the text and "regex" searches the pattern in the output."""
    check = CheckSpec("output", "Greet.", stdin="Ada\n", expected=expected, match=match)
    assert _one("python", "main.py", learner, check).passed is passed


def test_broken_regex_is_reported_as_a_lesson_problem(learner: Path) -> None:
    """An invalid pattern fails the check with a message that the lesson's check is broken."""
    check = CheckSpec("output", "Greet.", stdin="Ada\n", expected="(unclosed", match="regex")
    result = _one("python", "main.py", learner, check)
    assert not result.passed and "The lesson's check is broken" in result.details


def test_output_check_fails_when_the_program_crashes_before_printing(tmp_path: Path) -> None:
    """A crash fails an output check, and details show the error in the learner's file name."""
    folder = tmp_path / "learner"
    _write(folder, "main.py", "print(undefined_name)\n")
    result = _one("python", "main.py", folder, CheckSpec("output", "Print 3.", expected="3"))
    assert not result.passed
    assert "NameError: name 'undefined_name' is not defined" in result.details
    assert 'File "main.py", line 1' in result.details
    assert "codetutor-check" not in result.details  # no temporary paths shown


def test_output_check_stops_at_the_time_limit(tmp_path: Path) -> None:
    """A program that never ends fails with the time-limit message."""
    folder = tmp_path / "learner"
    _write(folder, "main.py", "while True:\n    pass\n")
    check = CheckSpec("output", "Print 3.", expected="3")
    result = _one("python", "main.py", folder, check, time_limit_s=1)
    assert not result.passed
    assert "Your program ran longer than 1 s and was stopped." in result.details


def test_runs_check_passes_on_exit_code_zero(learner: Path) -> None:
    """A "runs" check passes when the program ends by itself with exit code 0."""
    check = CheckSpec("runs", "The program must run.", stdin="Ada\n")
    assert _one("python", "main.py", learner, check).passed


def test_runs_check_fails_on_an_error(tmp_path: Path) -> None:
    """A "runs" check fails on a non-zero exit and shows the program's error."""
    folder = tmp_path / "learner"
    _write(folder, "main.py", "raise SystemExit('Not ready yet')\n")
    result = _one("python", "main.py", folder, CheckSpec("runs", "The program must run."))
    assert result == CheckResult(
        False,
        "The program must run.",
        "Your program stopped with an error (exit code 1).\nNot ready yet",
    )


def _python_lesson(tmp_path: Path, learner_code: str) -> tuple[Path, CheckSpec]:
    """A learner folder with maths.py and a lesson test file calling its add()."""
    folder = tmp_path / "learner"
    _write(folder, "maths.py", learner_code)
    test_file = _write(
        tmp_path / "lesson",
        "test_maths.py",
        """
        from maths import add

        def test_small_numbers():
            assert add(2, 3) == 5

        def test_negative_numbers():
            assert add(-2, -3) == -5
        """,
    )
    return folder, CheckSpec("test", "add() must add two numbers.", file=test_file)


def test_python_test_file_passes(tmp_path: Path) -> None:
    """Every test_* function of the lesson's test file passes against a correct solution."""
    folder, check = _python_lesson(tmp_path, "def add(a, b):\n    return a + b\n")
    assert _one("python", "maths.py", folder, check) == CheckResult(True, PASSED, "")


def test_python_test_file_failure_names_the_test_and_the_line(tmp_path: Path) -> None:
    """A failing test is named, with its assert line and the summary, in the details."""
    folder, check = _python_lesson(tmp_path, "def add(a, b):\n    return abs(a) + abs(b)\n")
    result = _one("python", "maths.py", folder, check)
    assert not result.passed
    assert result.message == "add() must add two numbers."
    assert "passed test_small_numbers" in result.details
    assert "FAILED test_negative_numbers: AssertionError" in result.details
    assert "assert add(-2, -3) == -5" in result.details
    assert result.details.rstrip().endswith("1 failed, 1 passed")


def test_python_test_file_reports_an_import_error_in_the_learners_code(tmp_path: Path) -> None:
    """A learner file that does not even load makes the tests fail with its SyntaxError."""
    folder, check = _python_lesson(tmp_path, "def add(a, b)\n    return a + b\n")
    result = _one("python", "maths.py", folder, check)
    assert not result.passed
    assert "could not start" in result.details and "SyntaxError" in result.details


def test_missing_test_file_is_a_lesson_problem(learner: Path, tmp_path: Path) -> None:
    """A test check whose file does not exist fails, naming the missing file."""
    check = CheckSpec("test", "Run the tests.", file=tmp_path / "nope.py")
    result = _one("python", "main.py", learner, check)
    assert not result.passed and "test file is missing" in result.details


def test_script_test_for_other_languages_gets_the_main_file(tmp_path: Path) -> None:
    """For other languages the test is a bash script given the main file path; exit 0 passes."""
    folder = tmp_path / "learner"
    _write(folder, "main.sh", 'echo "sum: $((2 + 3))"\n')
    script = _write(
        tmp_path / "lesson",
        "check.sh",
        """
        out=$(bash "$1")
        [ "$out" = "sum: 5" ] || { echo "expected 'sum: 5', got '$out'"; exit 1; }
        """,
    )
    check = CheckSpec("test", "Print the sum.", file=script)
    assert _one("bash", "main.sh", folder, check).passed
    _write(folder, "main.sh", 'echo "sum: 23"\n')
    result = _one("bash", "main.sh", folder, check)
    assert result == CheckResult(False, "Print the sum.", "expected 'sum: 5', got 'sum: 23'")


def test_lesson_checks_are_the_runners_specs() -> None:
    """A lesson's checks are the runner's CheckSpec, so they run as loaded, unconverted."""
    assert CheckSpec is LessonCheck is app.runner.CheckSpec
    checks = (LessonCheck("runs", "Runs."), LessonCheck("output", "Hi.", expected="hi"))
    assert specs_from_lesson(checks) == list(checks)


def test_unknown_check_kind_fails_with_an_explanation(learner: Path) -> None:
    """A check kind the runner does not know fails instead of passing silently."""
    result = _one("python", "main.py", learner, CheckSpec("lint", "Be tidy."))
    assert not result.passed and "Unknown check kind" in result.details


def test_missing_toolchain_raises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking a C++ lesson without g++ raises ToolchainMissingError with the install hint."""
    monkeypatch.setenv("PATH", str(tmp_path))
    folder = tmp_path / "learner"
    _write(folder, "main.cpp", "int main() {}\n")
    with pytest.raises(ToolchainMissingError, match="g\\+\\+"):
        run_checks("cpp", "main.cpp", folder, [CheckSpec("runs", "Runs.")])


def test_learner_folder_is_never_modified(tmp_path: Path) -> None:
    """Checks that write, delete and compile leave the learner's folder exactly as it was."""
    folder = tmp_path / "learner"
    _write(
        folder,
        "main.py",
        """
        import os
        open("out.txt", "w").write("new file")
        os.remove("data.txt")
        import helper
        print(helper.VALUE)
        """,
    )
    _write(folder, "helper.py", "VALUE = 7\n")
    _write(folder / "sub", "data.txt", "nested\n")
    _write(folder, "data.txt", "keep me\n")
    test_file = _write(tmp_path / "lesson", "test_main.py", "def test_value():\n    import main\n")
    before = _snapshot(folder)
    results = run_checks(
        "python",
        "main.py",
        folder,
        [
            CheckSpec("output", "Print 7.", expected="7"),
            CheckSpec("runs", "Runs."),
            CheckSpec("test", "Imports.", file=test_file),
        ],
    )
    assert [r.passed for r in results] == [True, True, True], results
    assert _snapshot(folder) == before
    assert not any(name.endswith("__pycache__") for name in os.listdir(folder))


def test_catastrophic_regex_is_ended_at_the_time_limit_without_freezing_the_app(
    tmp_path: Path,
) -> None:
    """`^(a+)+$` on 27 a's and a b: matching runs in a child and ends at the check's limit,
    while this process stays free to run other threads (no GIL held)."""
    import threading
    import time

    folder = tmp_path / "learner"
    _write(folder, "main.py", "print('a' * 27 + 'b')\n")
    check = CheckSpec("output", "Print the a's.", expected=r"^(a+)+$", match="regex")
    ticks: list[float] = []
    stop = threading.Event()

    def tick() -> None:
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.05)

    ticker = threading.Thread(target=tick)
    ticker.start()
    try:
        result = _one("python", "main.py", folder, check, time_limit_s=2.0)
    finally:
        stop.set()
        ticker.join()
    assert not result.passed
    assert "took longer than 2 s" in result.details and "Tell your teacher" in result.details
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert max(gaps) < 1.0  # another thread kept running throughout


def test_regex_output_check_still_matches(tmp_path: Path) -> None:
    """An ordinary regex check passes and fails as before."""
    folder = tmp_path / "learner"
    _write(folder, "main.py", "print('Total: 42')\n")
    good = CheckSpec("output", "Print the total.", expected=r"^Total: \d+$", match="regex")
    bad = CheckSpec("output", "Print the total.", expected=r"^Sum: \d+$", match="regex")
    assert _one("python", "main.py", folder, good).passed
    assert not _one("python", "main.py", folder, bad).passed
