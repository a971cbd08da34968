"""Tests of the solution guard on the real built-in lessons: replies holding a full solution are
found, wrong, hanging and flooding ones are not, the budget and cancelling hold, and the
learner's files are never touched."""

from __future__ import annotations

import ast
import shutil
import threading
import time
from pathlib import Path

import pytest
from runner_helpers import need_toolchain

from app.core.lessons import Lesson, lessons_by_key
from app.paths import BUILTIN_LESSONS_DIR
from app.runner.guard import (
    CANCELLED_NOTE,
    GRACE_S,
    OUT_OF_TIME_NOTE,
    GuardVerdict,
    judge_reply,
    order_checks,
)

pytestmark = pytest.mark.slow

LESSONS = lessons_by_key([BUILTIN_LESSONS_DIR])
HELLO = LESSONS["python-basics/01-print-and-variables"]
FUNCTIONS = LESSONS["python-basics/06-functions"]


def _solution(lesson: Lesson) -> str:
    return (lesson.solution_dir / lesson.main).read_text(encoding="utf-8")


def _starter(lesson: Lesson) -> str:
    return (lesson.starter_dir / lesson.main).read_text(encoding="utf-8")


def _fence(code: str, language: str = "python") -> str:
    return f"```{language}\n{code.rstrip()}\n```"


@pytest.fixture
def workspace(tmp_path: Path):
    """A learner's workspace per lesson: a copy of its starter files in a temporary folder."""

    def make(lesson: Lesson) -> Path:
        folder = tmp_path / "workspaces" / lesson.id
        shutil.copytree(lesson.starter_dir, folder)
        return folder

    return make


def _judge(lesson: Lesson, files: Path, reply: str, **options) -> GuardVerdict:
    """Judge `reply` in `lesson` with the learner's files in `files`."""
    learner = (files / lesson.main).read_text(encoding="utf-8")
    options.setdefault("time_limit_s", lesson.time_limit)
    return judge_reply(
        reply,
        learner,
        language=lesson.language,
        main_file=lesson.main,
        files_dir=files,
        checks=lesson.checks,
        **options,
    )


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and modification time."""
    return {
        str(path.relative_to(folder)): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


PYTHON_LESSONS = [lesson for key, lesson in LESSONS.items() if key.startswith("python-basics/")]
WITH_FUNCTIONS = [lesson for lesson in PYTHON_LESSONS if "def " in _solution(lesson)]
MAIN_PART_LEFT = {"10-files", "11-errors-and-debugging", "12-small-project"}
"""Lessons whose starter also leaves the main part (not only functions) to the learner."""


def _functions(code: str) -> str:
    """The top-level functions of `code`, separated by two blank lines."""
    tree = ast.parse(code)
    return "\n\n\n".join(
        ast.get_source_segment(code, node) or ""
        for node in tree.body
        if isinstance(node, ast.FunctionDef)
    )


@pytest.mark.parametrize("lesson", PYTHON_LESSONS, ids=[lesson.id for lesson in PYTHON_LESSONS])
def test_the_reference_solution_in_a_reply_is_found(workspace, lesson):
    """A reply holding a Python lesson's reference solution: its block solves the lesson,
    found by running that one candidate."""
    files = workspace(lesson)
    reply = f"Here is the whole program:\n\n{_fence(_solution(lesson))}\n\nRun it!"
    verdict = _judge(lesson, files, reply)
    assert verdict.solving == {0}
    assert verdict.complete and verdict.note == ""
    assert verdict.checked == 1
    assert verdict.seconds < 8.0


@pytest.mark.parametrize("lesson", WITH_FUNCTIONS, ids=[lesson.id for lesson in WITH_FUNCTIONS])
def test_the_fixed_functions_alone_are_found(workspace, lesson):
    """A reply with only the solution's functions (no main part) solves the lesson once they
    are put into the learner's starter file; where the starter leaves the main part to the
    learner too (lessons 10 to 12), the functions alone are rightly no full solution."""
    files = workspace(lesson)
    reply = f"Use these:\n\n{_fence(_functions(_solution(lesson)))}\n"
    verdict = _judge(lesson, files, reply)
    assert verdict.complete
    assert verdict.checked == 2  # the block alone, and the learner's file with it
    assert verdict.solving == (frozenset() if lesson.id in MAIN_PART_LEFT else {0})


def test_each_fixed_function_in_its_own_block_is_found(workspace):
    """Lesson 06's two functions in two blocks (and a block of output): both blocks solve it,
    the output block does not."""
    files = workspace(FUNCTIONS)
    reply = (
        "First greet:\n\n"
        + _fence('def greet(name):\n    return f"Hello, {name}!"')
        + "\n\nthen area:\n\n"
        + _fence("def area(width, height):\n    return width * height")
        + "\n\nIt prints:\n\n"
        + _fence("The area is 12.", "text")
    )
    verdict = _judge(FUNCTIONS, files, reply)
    assert verdict.solving == {0, 1}
    assert verdict.complete


def test_the_solution_split_over_two_blocks_is_found(workspace):
    """Lesson 01's solution told in two blocks (variables, then prints), with a block of the
    output after them: the two code blocks together solve it; neither alone does."""
    files = workspace(HELLO)
    lines = _solution(HELLO).splitlines()
    cut = lines.index("")
    reply = (
        "Make the variables:\n\n"
        + _fence("\n".join(lines[:cut]))
        + "\n\nThen print them:\n\n"
        + _fence("\n".join(lines[cut + 1 :]))
        + "\n\nYou will see:\n\n"
        + _fence("My name is Ada.\nI am 36 years old.\nNext year I will be 37.", "")
    )
    verdict = _judge(HELLO, files, reply)
    assert verdict.solving == {0, 1}
    assert verdict.complete


def test_a_wrong_answer_is_not_a_solution(workspace):
    """A reply whose code prints the wrong age solves nothing; everything was judged."""
    files = workspace(HELLO)
    wrong = _solution(HELLO).replace("age = 36", "age = 35")
    verdict = _judge(HELLO, files, f"Try this:\n\n{_fence(wrong)}")
    assert verdict == GuardVerdict(frozenset(), 1, True, verdict.seconds, "")


def test_hints_without_code_are_judged_at_once(workspace):
    """A reply with no code block is judged without running anything."""
    files = workspace(HELLO)
    verdict = _judge(HELLO, files, "Think about what `print` does with a comma.")
    assert verdict == GuardVerdict(frozenset(), 0, True, verdict.seconds, "")
    assert verdict.seconds < 0.05


def test_a_hanging_reply_is_ended_by_the_time_limit(workspace):
    """Code that loops for ever is ended by the run's time limit and solves nothing; the
    other candidates are still judged (the fixed function after it is found)."""
    files = workspace(FUNCTIONS)
    reply = (
        _fence("while True:\n    pass")
        + "\n\n"
        + _fence("def area(width, height):\n    return width * height")
        + "\n\n"
        + _fence('def greet(name):\n    return f"Hello, {name}!"')
    )
    started = time.monotonic()
    verdict = _judge(FUNCTIONS, files, reply, time_limit_s=1.0)
    assert 1.0 <= time.monotonic() - started < 6.0
    assert 0 not in verdict.solving
    assert verdict.solving == {1, 2}
    assert verdict.complete


def test_a_hanging_reply_past_the_budget_is_shown_unchecked(workspace):
    """With the lesson's 10 s limit and a 1.5 s budget, a hanging program makes the verdict
    incomplete, on time, with a note saying so."""
    files = workspace(HELLO)
    started = time.monotonic()
    verdict = _judge(HELLO, files, _fence("while True:\n    pass"), budget_s=1.5)
    assert time.monotonic() - started < 1.5 + GRACE_S + 0.5
    assert verdict.complete is False
    assert verdict.note == OUT_OF_TIME_NOTE
    assert verdict.solving == frozenset()


def test_a_flooding_reply_is_ended_by_the_output_limit(workspace):
    """Code printing 50 MB is stopped by the output limit long before the time limit."""
    files = workspace(HELLO)
    flood = _solution(HELLO) + '\nprint("x" * 50_000_000)\n'
    started = time.monotonic()
    verdict = _judge(HELLO, files, _fence(flood))
    assert time.monotonic() - started < 5.0
    assert verdict == GuardVerdict(frozenset(), 1, True, verdict.seconds, "")


def test_a_budget_too_small_checks_nothing_and_says_so(workspace):
    """A budget too short to start a run leaves the solution unjudged: not complete, with
    the note for the learner."""
    files = workspace(HELLO)
    verdict = _judge(HELLO, files, _fence(_solution(HELLO)), budget_s=0.05)
    assert verdict.solving == frozenset()
    assert verdict.complete is False
    assert verdict.note == OUT_OF_TIME_NOTE


def test_cancelling_stops_a_judgement_at_once(workspace):
    """Setting the cancel event while a program hangs ends the judgement within a moment,
    incomplete, with the cancelled note."""
    files = workspace(HELLO)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    started = time.monotonic()
    verdict = _judge(HELLO, files, _fence("while True:\n    pass"), cancel=cancel, budget_s=3)
    assert time.monotonic() - started < 1.5
    assert verdict.complete is False
    assert verdict.note == CANCELLED_NOTE


def test_the_learners_files_are_never_touched(workspace):
    """After judging a solution, a program that writes over main.py and a program that
    deletes every file, the learner's folder holds the same files, unchanged."""
    files = workspace(FUNCTIONS)
    (files / "notes.txt").write_text("mine\n")
    before = _snapshot(files)
    vandal = (
        "import os, pathlib\n"
        "pathlib.Path('main.py').write_text('print(1)')\n"
        "for name in os.listdir('.'):\n"
        "    os.remove(name)\n"
    )
    reply = f"{_fence(_solution(FUNCTIONS))}\n\n{_fence(vandal)}"
    verdict = _judge(FUNCTIONS, files, reply)
    assert verdict.solving == {0}
    assert _snapshot(files) == before


def test_another_language_lesson_is_judged_with_its_toolchain(workspace):
    """In the JavaScript lesson the reference solution in a ```js block solves it, and a
    Python block is not tried."""
    lesson = LESSONS["javascript-first-steps/01-hello"]
    need_toolchain(lesson.language)
    files = workspace(lesson)
    reply = f"{_fence(_solution(lesson), 'js')}\n\n{_fence(_solution(HELLO))}"
    verdict = _judge(lesson, files, reply)
    assert verdict.solving == {0}
    assert verdict.checked == 1


def test_a_missing_toolchain_is_named_in_the_verdict(workspace, tmp_path, monkeypatch):
    """With bash not on PATH, the bash lesson's reply is shown unchecked and the note says
    what to install."""
    lesson = LESSONS["bash-first-steps/01-hello"]
    files = workspace(lesson)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    verdict = _judge(lesson, files, _fence(_solution(lesson), "bash"))
    assert verdict.complete is False
    assert "bash" in verdict.note and "install" in verdict.note.lower()
    assert verdict.checked == 0


def test_checks_are_ordered_to_reject_wrong_programs_first():
    """Output checks come first, then test files, then "it runs"; lesson order within a kind."""
    kinds = [check.kind for check in order_checks(HELLO.checks)]
    assert [check.kind for check in HELLO.checks] == ["output", "runs", "test"]
    assert kinds == ["output", "test", "runs"]
