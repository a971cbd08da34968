"""`codetutor lessons check`: validate courses with the real runner doing the checks.

The glue between app.core.lessons.validate (which must not import the runner) and app.runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from app.core.lessons.loader import is_course_folder
from app.core.lessons.model import CheckSpec
from app.core.lessons.validate import RunChecks, ToolchainProbe, validate


def runner_adapter() -> tuple[RunChecks, ToolchainProbe] | str:
    """The real runner from `app.runner`, adapted to `RunChecks`; or why it is unavailable.

    Imported lazily so that a broken runner still lets the files be validated.
    """
    try:
        from app.runner.checks import run_checks as real_run_checks
        from app.runner.toolchains import find_toolchain
    except ImportError as exc:
        return f"the code runner is not available ({exc})"

    def run(
        language: str, main_file: str, files_dir: Path, checks: Sequence[CheckSpec], **kw: Any
    ) -> Sequence[Any]:
        return real_run_checks(language, main_file, files_dir, checks, **kw)

    def missing(language: str) -> str | None:
        toolchain = find_toolchain(language)
        if toolchain.available:
            return None
        return toolchain.missing_message or f"no {language} toolchain found"

    return run, missing


def check_main(paths: list[str], out: TextIO) -> int:
    """`codetutor lessons check [PATH ...]`: print every error; 0 when clean, else 1.

    Args:
        paths: course, lesson or course-root folders; none means the built-in lessons/.
        out: where to print.
    """
    from app.core.resources import BUILTIN_LESSONS_DIR

    targets = [Path(p) for p in paths]
    if not targets:
        builtin = BUILTIN_LESSONS_DIR
        if not builtin.is_dir() or not any(
            is_course_folder(d) for d in builtin.iterdir() if d.is_dir()
        ):
            print(f"No built-in courses in {builtin}: nothing to check.", file=out)
            return 0
        targets = [builtin]
    adapter = runner_adapter()
    if isinstance(adapter, str):
        run_checks, probe = None, None
        print(f"note: checks are not run on solutions and starters: {adapter}", file=out)
    else:
        run_checks, probe = adapter
    report = validate(targets, run_checks, probe)
    for note in report.notes:
        print(f"note: {note}", file=out)
    for error in report.errors:
        print(error, file=out)
    count = len(report.errors)
    found = "no errors" if count == 0 else f"{count} error{'s' if count != 1 else ''}"
    lessons = f"{report.lessons} lesson{'s' if report.lessons != 1 else ''}"
    courses = f"{report.courses} course{'s' if report.courses != 1 else ''}"
    print(f"Checked {lessons} in {courses}: {found}.", file=out)
    return 1 if count else 0
