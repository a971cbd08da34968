"""Ending a program's input: every built-in lesson can be done with Run and typed input, and
a program that reads until the end of input (the JavaScript lesson) finishes on End input."""

from __future__ import annotations

import re
import shutil

import pytest
from PySide6.QtCore import Qt

from app.core.lessons import load_courses
from app.paths import BUILTIN_LESSONS_DIR
from app.runner.toolchains import find_toolchain
from app.ui.run.output_panel import OutputPanel

pytestmark = pytest.mark.slow  # real child programs and compilers

LESSONS = [lesson for course in load_courses([BUILTIN_LESSONS_DIR]) for lesson in course.lessons]


def _type_and_end(qtbot, panel: OutputPanel, stdin: str, key_end: bool) -> None:
    """Type each line of `stdin` into the input line with Enter, then end the input."""
    for line in stdin.splitlines():
        qtbot.keyClicks(panel.input_line, line)
        qtbot.keyClick(panel.input_line, Qt.Key.Key_Return)
    if key_end:
        qtbot.keyClick(panel.input_line, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    else:
        qtbot.mouseClick(panel.end_input_button, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.key for lesson in LESSONS])
def test_every_lesson_can_be_done_with_run_and_typed_input(qtbot, wired, tmp_path, lesson):
    """The reference solution, run as a learner runs it (input typed line by line, then End
    input), finishes and prints what the lesson's output check expects."""
    toolchain = find_toolchain(lesson.language)
    if not toolchain.available:
        pytest.skip(toolchain.missing_message)
    runner, panel = wired
    work = tmp_path / "work"
    shutil.copytree(lesson.solution_dir, work)
    check = next((c for c in lesson.checks if c.kind == "output"), None)
    stdin = check.stdin if check else next((c.stdin for c in lesson.checks), "")
    stdout: list[str] = []
    runner.sig_output_received.connect(lambda s, t: stdout.append(t) if s == "stdout" else None)
    panel.begin_run(f"Running {lesson.main}")
    with qtbot.waitSignal(runner.sig_run_finished, timeout=60_000) as finished:
        assert runner.run(lesson.language, work / lesson.main, work, lesson.time_limit)
        qtbot.waitUntil(panel.input_line.isEnabled, timeout=30_000)
        _type_and_end(qtbot, panel, stdin, key_end=lesson.language != "javascript")
    result = finished.args[0]
    assert result.exit_code == 0, result.message + result.stderr
    if check is None:
        return
    printed = "".join(stdout)
    if check.match == "exact":
        lines = [line.rstrip() for line in printed.rstrip("\n").splitlines()]
        assert lines == [line.rstrip() for line in check.expected.rstrip("\n").splitlines()]
    elif check.match == "contains":
        assert check.expected in printed
    else:
        assert re.search(check.expected, printed, re.MULTILINE)


def test_a_program_reading_to_the_end_waits_until_end_input(qtbot, wired, tmp_path):
    """The JavaScript lesson's way of reading keeps running after Enter and finishes on
    End input, with the typed name in its answer; the input line is then closed."""
    if not find_toolchain("javascript").available:
        pytest.skip(find_toolchain("javascript").missing_message)
    runner, panel = wired
    main = tmp_path / "main.js"
    main.write_text(
        'const name = require("fs").readFileSync(0, "utf8").split("\\n")[0].trim();\n'
        "console.log(`Hello, ${name}!`);\n"
    )
    results: list = []
    runner.sig_run_finished.connect(results.append)
    panel.begin_run("Running main.js")
    assert runner.run("javascript", main, tmp_path, 10.0)
    qtbot.waitUntil(panel.input_line.isEnabled, timeout=30_000)
    qtbot.keyClicks(panel.input_line, "Ada")
    qtbot.keyClick(panel.input_line, Qt.Key.Key_Return)
    with qtbot.assertNotEmitted(runner.sig_run_finished, wait=500):
        pass  # still reading: the input has not ended
    with qtbot.waitSignal(runner.sig_run_finished, timeout=10_000):
        qtbot.mouseClick(panel.end_input_button, Qt.MouseButton.LeftButton)
    assert results[0].exit_code == 0 and results[0].stdout == "Hello, Ada!\n"
    qtbot.waitUntil(lambda: "Hello, Ada!" in panel.output_text(), timeout=5000)
    assert panel.output_text().index("[end of input]") < panel.output_text().index("Hello")
    assert not panel.input_line.isEnabled() and not panel.end_input_button.isEnabled()
