"""Runs a lesson's checks (output, tests, "it runs") against a copy of the learner's files."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.lessons.model import CheckSpec
from app.runner.process import RunResult, run_command, run_program
from app.runner.toolchains import ToolchainMissingError, child_env, find_toolchain, python_command

PASSED = "Passed"
DETAILS_LIMIT = 4000
"""Details longer than this many characters keep their start and end."""

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".DS_Store")

# Runs a pytest-style file without pytest: imports it, calls every test* function defined in it,
# prints each failure's traceback and a summary, exits 1 when any failed.
_PY_DRIVER = r"""
import inspect, os, sys, traceback
import importlib.util
path = os.path.abspath(sys.argv[1])
sys.argv = [path]
sys.path.insert(0, os.path.dirname(path))
name = os.path.splitext(os.path.basename(path))[0]
spec = importlib.util.spec_from_file_location(name, path)
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
def own_frames(exc):
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith("<"):
        tb = tb.tb_next
    return tb
try:
    spec.loader.exec_module(module)
except BaseException as exc:
    print(f"ERROR: the tests in {os.path.basename(path)} could not start:")
    traceback.print_exception(type(exc), exc, own_frames(exc), file=sys.stdout)
    sys.exit(2)
tests = [
    (n, f) for n, f in vars(module).items()
    if n.startswith("test") and inspect.isfunction(f) and f.__module__ == name
]
if not tests:
    print(f"ERROR: no test functions found in {os.path.basename(path)}.")
    sys.exit(2)
failed = []
for test_name, func in tests:
    try:
        if inspect.signature(func).parameters:
            raise TypeError(f"{test_name} takes arguments (pytest fixtures are not supported)")
        func()
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        failed.append(test_name)
        print(f"FAILED {test_name}: {type(exc).__name__}: {exc}".rstrip(": "))
        traceback.print_exception(type(exc), exc, own_frames(exc), file=sys.stdout)
    else:
        print(f"passed {test_name}")
passed = len(tests) - len(failed)
print(f"{len(failed)} failed, {passed} passed" if failed else f"{passed} passed")
sys.exit(1 if failed else 0)
"""


def specs_from_lesson(checks: Sequence[CheckSpec]) -> list[CheckSpec]:
    """The checks of a lesson as a list to run (lessons and the runner share `CheckSpec`)."""
    return list(checks)


@dataclass(frozen=True)
class CheckResult:
    """How one check went.

    Attributes:
        passed: the check passed.
        message: `PASSED` when it passed, else the check's own message.
        details: what was expected and what came, or the test output (at most ~4 KB).
    """

    passed: bool
    message: str
    details: str


def run_checks(
    language: str,
    main_file: str,
    files_dir: Path,
    checks: Sequence[CheckSpec],
    *,
    time_limit_s: float = 10.0,
) -> list[CheckResult]:
    """Run `checks` one by one, each in a fresh copy of `files_dir` (which is never modified).

    Args:
        language: the language id of the learner's program.
        main_file: the program's entry file, relative to `files_dir`.
        files_dir: the learner's files.
        checks: the lesson's checks.
        time_limit_s: the time limit of each check's run.

    Returns:
        One result per check, in order. Paths in details are relative to the learner's folder.

    Raises:
        ToolchainMissingError: the language's compiler or interpreter is not installed.
    """
    toolchain = find_toolchain(language)
    if not toolchain.available:
        raise ToolchainMissingError(toolchain.missing_message)
    return [
        _run_check(language, main_file, Path(files_dir), check, time_limit_s) for check in checks
    ]


def _run_check(
    language: str, main_file: str, files_dir: Path, check: CheckSpec, time_limit_s: float
) -> CheckResult:
    """Copy the learner's files to a temporary folder and run one check there."""
    with tempfile.TemporaryDirectory(prefix="codetutor-check-") as tmp:
        work = Path(tmp) / "work"
        try:
            shutil.copytree(files_dir, work, ignore=_IGNORED, ignore_dangling_symlinks=True)
        except (OSError, shutil.Error) as exc:
            return CheckResult(False, check.message, f"Could not copy your files to check: {exc}")
        if check.kind == "output":
            result = _output_check(language, work / main_file, work, check, time_limit_s)
        elif check.kind == "runs":
            result = _runs_check(language, work / main_file, work, check, time_limit_s)
        elif check.kind == "test":
            result = _test_check(language, work / main_file, work, check, time_limit_s)
        else:
            result = CheckResult(
                False,
                check.message,
                f"Unknown check kind “{check.kind}”: use output, test or runs.",
            )
        return CheckResult(result.passed, result.message, _tidy(result.details, work))


def _output_check(
    language: str, main: Path, work: Path, check: CheckSpec, limit: float
) -> CheckResult:
    """Run the program with the check's stdin and compare what it printed."""
    run = run_program(language, main, work, stdin=check.stdin, time_limit_s=limit)
    if run.compile_failed or run.killed:
        return CheckResult(False, check.message, _problem(run))
    try:
        matched = _matches(run.stdout, check.expected, check.match, limit)
    except (re.error, ValueError) as exc:
        return CheckResult(False, check.message, f"The lesson's check is broken: {exc}")
    except subprocess.TimeoutExpired:
        return CheckResult(
            False,
            check.message,
            f"The lesson's check is broken: its pattern took longer than {limit:g} s to match "
            "this output (a pattern like (a+)+ can take for ever). Tell your teacher.",
        )
    if not matched:
        return CheckResult(False, check.message, _difference(run, check))
    if run.exit_code != 0:
        return CheckResult(False, check.message, f"The output was right, but: {_problem(run)}")
    return CheckResult(True, PASSED, "")


def _runs_check(
    language: str, main: Path, work: Path, check: CheckSpec, limit: float
) -> CheckResult:
    """Run the program; it passes when it ends by itself with exit code 0."""
    run = run_program(language, main, work, stdin=check.stdin, time_limit_s=limit)
    if run.exit_code == 0 and not run.killed:
        return CheckResult(True, PASSED, "")
    return CheckResult(False, check.message, _problem(run))


def _test_check(
    language: str, main: Path, work: Path, check: CheckSpec, limit: float
) -> CheckResult:
    """Copy the test file next to the learner's files and run it there; exit 0 passes."""
    if check.file is None or not Path(check.file).is_file():
        return CheckResult(False, check.message, f"The lesson's test file is missing: {check.file}")
    test_file = work / Path(check.file).name
    shutil.copyfile(check.file, test_file)
    if language == "python":
        argv = python_command(test_file)
        argv[-1:] = ["-c", _PY_DRIVER, str(test_file)]
    else:
        bash = find_toolchain("bash")
        if not bash.available:
            return CheckResult(False, check.message, bash.missing_message)
        argv = [shutil.which("bash") or "bash", str(test_file), str(main)]
    run = run_command(argv, work, env=child_env(language), time_limit_s=limit)
    if run.exit_code == 0 and not run.killed:
        return CheckResult(True, PASSED, "")
    output = "\n".join(part.rstrip("\n") for part in (run.stdout, run.stderr) if part.strip())
    if run.killed:
        output = f"{output}\n{run.message}".strip()
    return CheckResult(False, check.message, output or run.message)


def _matches(stdout: str, expected: str, mode: str, limit: float = 10.0) -> bool:
    """Whether `stdout` matches `expected` in `mode` ("exact", "contains" or "regex").

    A regular expression is matched in a child process under `limit` seconds: Python's `re`
    holds the interpreter while it backtracks, so a pattern like `^(a+)+$` would freeze the
    app for minutes.

    Raises:
        re.error: the pattern is not a valid regular expression.
        subprocess.TimeoutExpired: matching took longer than `limit`.
    """
    if mode == "exact":
        return _normalize(stdout) == _normalize(expected)
    if mode == "contains":
        return expected.replace("\r\n", "\n") in stdout.replace("\r\n", "\n")
    if mode == "regex":
        re.compile(expected, re.MULTILINE)  # a broken pattern is reported as such
        found = subprocess.run(
            [sys.executable, "-I", "-c", _REGEX_CHILD],
            input=json.dumps([expected, stdout]),
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
        )
        return found.stdout.strip() == "1"
    raise ValueError(f"unknown match “{mode}”: use exact, contains or regex")


_REGEX_CHILD = (
    "import json, re, sys; p, s = json.load(sys.stdin); "
    "print(1 if re.search(p, s, re.MULTILINE) else 0)"
)


def _normalize(text: str) -> list[str]:
    """Lines without trailing whitespace, trailing blank lines dropped."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _difference(run: RunResult, check: CheckSpec) -> str:
    """Expected vs got, naming the first line that differs for an exact match."""
    how = {"contains": "containing", "regex": "matching"}.get(check.match, "")
    parts = [f"Expected output{' ' + how if how else ''}:", check.expected.rstrip("\n"), ""]
    parts += ["Your program printed:", run.stdout.rstrip("\n") or "(nothing)"]
    if check.match == "exact":
        want, got = _normalize(check.expected), _normalize(run.stdout)
        for number in range(1, max(len(want), len(got)) + 1):
            a = want[number - 1] if number <= len(want) else "(no line)"
            b = got[number - 1] if number <= len(got) else "(no line)"
            if a != b:
                parts += ["", f"Line {number} differs: expected {a!r}, got {b!r}."]
                break
    if run.stderr.strip():
        parts += ["", "Error output:", run.stderr.rstrip("\n")]
    return "\n".join(parts)


def _problem(run: RunResult) -> str:
    """The run's message followed by its error output."""
    text = run.message
    if run.stderr.strip():
        text += "\n" + run.stderr.rstrip("\n")
    return text


def _tidy(details: str, work: Path) -> str:
    """Show paths inside the temporary copy relative to it, and keep details short."""
    for root in {str(work), str(work.resolve())}:
        details = details.replace(root + os.sep, "").replace(root, ".")
    if len(details) > DETAILS_LIMIT:
        head, tail = details[: DETAILS_LIMIT * 3 // 4], details[-DETAILS_LIMIT // 4 :]
        details = f"{head}\n… (output shortened) …\n{tail}"
    return details
