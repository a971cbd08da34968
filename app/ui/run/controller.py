"""Run (F5) and Check (F6): what runs, the output panel, the editor's error markers, and the
last run's result, which the tutor reads (`run_brief`).

Runs on the UI thread; programs and checks run in child processes through ProgramRunner.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Protocol

from PySide6.QtCore import QObject, Signal, Slot

from app.core.filetypes import LANGUAGE_NAMES, language_for_path
from app.core.lessons import Lesson
from app.core.tutor.context import RunBrief
from app.runner import sandbox
from app.runner.checks import CheckResult
from app.runner.errors import ErrorLocation, parse_errors
from app.runner.result import RunResult
from app.ui.common.view import View
from app.ui.editor.document import DocumentController
from app.ui.run.output_panel import OutputPanel
from app.ui.run.processes import ProgramRunner

LAST_SAVED = (
    "Your latest changes could not be saved, so this uses the last saved version of {name}."
)
ERROR_TAIL_CHARS = 2000
FREE_TIME_LIMIT_S = 10.0


class LessonSource(Protocol):
    """What Run and Check need of the lessons (the lesson controller is one)."""

    @property
    def lesson(self) -> Lesson | None:
        """The open lesson, or None in free editing."""
        ...

    def editing_lesson_file(self) -> bool:
        """The editor shows a file of the open lesson's workspace."""
        ...

    def save_now(self) -> bool:
        """Write the lesson file now; False when it could not be written."""
        ...

    def workspace_dir(self, lesson: Lesson) -> Path:
        """Where the learner's files of `lesson` are."""
        ...


class RunController(QObject):
    """Runs the learner's program and the lesson's checks, and keeps their last results."""

    sig_checks_finished = Signal(object, object)
    """(Lesson, list[CheckResult]): the checks of a lesson ended (recorded by the lessons)."""
    sig_outcome_changed = Signal(bool)
    """(failed): the last Run or Check failed (the tutor's Debug is offered), or not."""

    def __init__(
        self,
        runner: ProgramRunner,
        document: DocumentController,
        output: OutputPanel,
        view: View,
        lessons: LessonSource,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._document = document
        self._output = output
        self._view = view
        self._lessons = lessons
        self._checking: Lesson | None = None
        self._unsaved_run = False
        self._run_language = "python"
        self._run_file: Path | None = None
        self.last_result: RunResult | None = None
        self.last_checks: list[CheckResult] = []
        self._last_error = ""
        self._last_kind = "run"
        self._typed: list[str] = []
        self._location: ErrorLocation | None = None
        self._check_input = ""
        runner.sig_run_started.connect(self._on_runner_started)
        runner.sig_output_received.connect(output.append_output)
        runner.sig_run_finished.connect(self._on_runner_finished)
        runner.sig_run_failed.connect(output.show_failure)
        runner.sig_phase_changed.connect(output.set_phase)
        runner.sig_checks_finished.connect(self._on_runner_checks_finished)
        runner.sig_checks_failed.connect(output.show_checks_failure)
        output.sig_input_entered.connect(runner.write_stdin)
        output.sig_input_entered.connect(self._typed.append)
        output.sig_end_of_input_requested.connect(runner.close_stdin)
        output.sig_stop_requested.connect(runner.stop)

    @property
    def runner(self) -> ProgramRunner:
        """The child-process runner."""
        return self._runner

    def run_brief(self) -> RunBrief:
        """The last Run/Check as the tutor needs it: what failed, the error's place, the
        output and the input."""
        checking = self._last_kind == "check"
        tail = "" if checking or not self.last_result else self.last_result.stdout
        failed = tuple((r.message, r.details) for r in self.last_checks if not r.passed)
        loc = self._location
        return RunBrief(
            error=self._last_error,
            output_tail=tail[-ERROR_TAIL_CHARS:],
            failed_checks=failed if checking else (),
            kind=self._last_kind,
            program_input=self._check_input if checking else "".join(self._typed),
            error_file=Path(loc.file).name if loc else "",
            error_line=loc.line if loc else None,
            error_message=loc.message if loc else "",
        )

    @property
    def failed(self) -> bool:
        """The last Run or Check went wrong."""
        return self.run_brief().failed

    def _outcome(self) -> None:
        failed = self.failed
        self._output.offer_ask_why(
            failed and self._last_kind == "run", failed and self._last_kind == "check"
        )
        self.sig_outcome_changed.emit(failed)

    def reset(self) -> None:
        """Forget the last results and clear the panel (another lesson was opened)."""
        self._runner.stop()
        self.last_result = None
        self.last_checks = []
        self._last_error = ""
        self._location = None
        self._typed.clear()
        self._output.clear()
        self._output.clear_results()
        self._outcome()

    # -- Run ------------------------------------------------------------------------------
    def _program(self) -> tuple[str, Path] | None:
        """Save and return (language, file) of what Run would run, or None if unsaved."""
        doc, lesson = self._document, self._lessons.lesson
        if self._lessons.editing_lesson_file() and lesson is not None and doc.path is not None:
            self._unsaved_run = not self._lessons.save_now()
            return lesson.language, doc.path
        self._unsaved_run = False
        if (doc.path is None or doc.editor.is_modified()) and not doc.save():
            return None
        if doc.path is None:
            return None
        return language_for_path(doc.path), doc.path

    @Slot()
    def run(self) -> None:
        """Run the current file in a child process (F5)."""
        program = self._program()
        if program is None:
            return
        language, path = program
        if language == "text":
            self._output.show_failure(
                f"Code Tutor does not know how to run “{path.name}”. Save it with an extension "
                f"such as .py, .js or .cpp ({', '.join(sorted(LANGUAGE_NAMES.values()))})."
            )
            return
        self._document.editor.clear_errors()
        self._typed.clear()
        self._run_language, self._run_file = language, path
        lesson = self._lessons.lesson
        limit = lesson.time_limit if lesson else FREE_TIME_LIMIT_S
        self._output.begin_run(f"Running {path.name}")
        if self._unsaved_run:
            self._output.show_warning(LAST_SAVED.format(name=path.name))
        self._output.set_path_alias(f"{path.parent}{os.sep}")
        self._runner.run(language, path, path.parent, limit)

    @Slot()
    def stop(self) -> None:
        """Stop the running program (Shift+F5)."""
        self._runner.stop()

    @Slot()
    def _on_runner_started(self) -> None:
        self._view.show_status("Program running… (Shift+F5 stops it)", 3000)

    @Slot(object)
    def _on_runner_finished(self, result: RunResult) -> None:
        self._output.end_run(result)
        self._view.show_status("", 1)  # "Program running…" goes as the program ends
        self.last_result = result
        self._last_kind = "run"
        stopped = result.killed and not (result.timed_out or result.output_capped)
        failed = result.exit_code != 0 and not stopped
        self._last_error = (result.stderr[-ERROR_TAIL_CHARS:] or result.message) if failed else ""
        self._location = None
        if self._run_file is not None:  # the tutor reads "main.py", as the output panel shows
            self._last_error = self._last_error.replace(f"{self._run_file.parent}{os.sep}", "")
        if self._run_file is None or not failed:
            self._outcome()
            return
        output = f"{result.stdout}\n{result.stderr}"
        for loc in parse_errors(self._run_language, output):
            if self._location is None:
                self._location = loc
            if Path(loc.file).name == self._run_file.name and self._document.path == self._run_file:
                self._document.editor.show_error(loc.line, loc.message)
        self._outcome()

    # -- Check ----------------------------------------------------------------------------
    @Slot()
    def check(self) -> None:
        """Run the lesson's checks on the learner's code (F6)."""
        lesson = self._lessons.lesson
        if lesson is None:
            self._view.show_status("Open a lesson to check your code.", 4000)
            return
        saved = self._lessons.save_now()
        checks = list(lesson.checks)
        workspace = self._lessons.workspace_dir(lesson)
        if not self._runner.run_checks(
            lesson.language, lesson.main, workspace, checks, lesson.time_limit
        ):
            self._view.show_status("Checks are still running…", 3000)
            return
        self._checking = lesson
        self._output.show_checks_running(len(checks))
        notes = [] if saved else [LAST_SAVED.format(name=PurePosixPath(lesson.main).name)]
        if not sandbox.available():
            notes.append(f"The checks run without a sandbox: {sandbox.status()}.")
        if notes:
            self._output.show_warning(" ".join(notes))

    @Slot(object)
    def _on_runner_checks_finished(self, results: list[CheckResult]) -> None:
        lesson, self._checking = self._checking, None
        if lesson is None:
            return
        if lesson is self._lessons.lesson:  # results belong to their lesson: not shown in another
            labels = [check_label(c.message) for c in lesson.checks]
            crash = program_crash(lesson, results)
            self._output.show_check_results(results, labels, crash[0] if crash else None)
            if crash and self._document.path == self._lessons.workspace_dir(lesson) / lesson.main:
                self._document.editor.show_error(crash[1].line, crash[1].message)
            self.last_checks = list(results)
            failed = [r for r in results if not r.passed]
            self._last_error = f"{failed[0].message}\n{failed[0].details}" if failed else ""
            self._last_kind = "check"
            self._location = crash[1] if crash else _first_error(lesson, failed)
            first_failed = next(
                (c for c, r in zip(lesson.checks, results, strict=False) if not r.passed), None
            )
            self._check_input = first_failed.stdin if first_failed else ""
            self._outcome()
        self.sig_checks_finished.emit(lesson, results)


def _first_error(lesson: Lesson, failed: list[CheckResult]) -> ErrorLocation | None:
    """The first error in the learner's main file that a failed check's details show."""
    main = PurePosixPath(lesson.main).name
    for result in failed:
        for loc in parse_errors(lesson.language, result.details):
            if Path(loc.file).name == main:
                return loc
    return None


def program_crash(lesson: Lesson, results: list[CheckResult]) -> tuple[str, ErrorLocation] | None:
    """When every check failed because the learner's program itself stops with an error
    (the same error, in the main file, in each), that in plain words, once, with the error;
    None when the checks really looked at the program.

    Returns:
        (the sentence, the error's place) or None.
    """
    if not results or any(r.passed for r in results):
        return None
    main = PurePosixPath(lesson.main).name
    places = []
    for result in results:
        errors = [
            e for e in parse_errors(lesson.language, result.details) if Path(e.file).name == main
        ]
        if not errors:
            return None
        places.append(errors[0])
    first = places[0]
    if any((p.line, p.message) != (first.line, first.message) for p in places):
        return None
    kind = first.message.split(":", 1)[0].strip() or "an error"
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    sentence = (
        f"Your program stops with {article} {kind} on line {first.line} before the checks can "
        f"look at it: {first.message}. Fix that first (Run shows it too), then Check again."
    )
    return sentence, first


def check_label(message: str) -> str:
    """What a check looks at, for its row once it passed: the first line of its message
    ("When the input is Ada, your program should print exactly")."""
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first.rstrip(":").strip()
