"""The run controller with the output panel: real child programs, input, Stop, limits, checks."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer

from app.runner.checks import CheckSpec
from app.ui.run.output_panel import MAX_BLOCKS, OutputPanel
from app.ui.run.processes import ProgramRunner

pytestmark = pytest.mark.slow  # runs real child processes


def _program(tmp_path: Path, source: str, name: str = "main.py") -> Path:
    """Write `source` (dedented) to tmp_path/name."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def _run(controller: ProgramRunner, panel: OutputPanel, main: Path, limit: float = 10.0) -> bool:
    """Start `main` the way the app does: the panel first, then the controller."""
    panel.begin_run(f"Running {main.name}")
    return controller.run("python", main, main.parent, time_limit_s=limit)


def test_program_output_reaches_the_panel(qtbot, wired, tmp_path):
    """What a Python program prints on stdout and stderr appears in the panel, then its status."""
    controller, panel = wired
    # Whole lines in one write each: the two pipes are read by separate threads, so a line
    # printed in two writes (text, then newline) can be interleaved with the other stream.
    main = _program(
        tmp_path, "import sys\nsys.stdout.write('hello\\n')\nsys.stderr.write('oops\\n')\n"
    )
    with qtbot.waitSignal(controller.sig_run_finished, timeout=10_000) as finished:
        assert _run(controller, panel, main)
        assert controller.is_running
    assert finished.args[0].exit_code == 0
    assert not controller.is_running
    qtbot.waitUntil(lambda: not panel.painting, timeout=1000)
    assert "hello\n" in panel.output_text()
    assert "oops\n" in panel.output_text()
    assert panel.status_label.text().startswith("Finished (exit code 0) in ")


def test_input_is_answered_through_the_panel(qtbot, wired, tmp_path):
    """The prompt shows, the learner types into the input line, the program uses the answer."""
    controller, panel = wired
    main = _program(tmp_path, "name = input('Name? ')\nprint(f'Hello, {name}!')\n")
    assert _run(controller, panel, main)
    qtbot.waitUntil(lambda: panel.output_text() == "Name? ", timeout=10_000)
    assert panel.input_line.isEnabled()
    qtbot.keyClicks(panel.input_line, "Ada")
    with qtbot.waitSignal(controller.sig_run_finished, timeout=10_000):
        qtbot.keyClick(panel.input_line, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not panel.painting, timeout=1000)
    assert panel.output_text() == "Name? Ada\nHello, Ada!\n"
    assert not panel.input_line.isEnabled()


def test_stop_ends_an_endless_loop_quickly(qtbot, wired, tmp_path):
    """Stop ends `while True` within a second and the status says the learner stopped it."""
    controller, panel = wired
    main = _program(tmp_path, "print('looping', flush=True)\nwhile True:\n    pass\n")
    assert _run(controller, panel, main)
    qtbot.waitUntil(lambda: "looping" in panel.output_text(), timeout=10_000)
    started = time.monotonic()
    with qtbot.waitSignal(controller.sig_run_finished, timeout=5_000) as finished:
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert time.monotonic() - started < 1.0
    assert finished.args[0].killed
    assert panel.status_label.text().startswith("Stopped after ")
    assert panel.notice.text() == "You stopped the program."


def test_time_limit_is_explained(qtbot, wired, tmp_path):
    """A program that computes past its time limit is stopped and the message names the limit."""
    controller, panel = wired
    main = _program(tmp_path, "while True:\n    pass\n")
    with qtbot.waitSignal(controller.sig_run_finished, timeout=10_000) as finished:
        assert _run(controller, panel, main, limit=0.5)
    assert finished.args[0].timed_out
    assert panel.notice.text() == "Your program ran longer than 0.5 s and was stopped."
    assert panel.status_label.text() == "Time limit reached"
    assert panel.notice.isVisible()


def test_output_flood_is_capped_and_the_window_stays_responsive(qtbot, wired, tmp_path):
    """A program printing megabytes as fast as it can is capped; a UI timer keeps firing."""
    controller, panel = wired
    main = _program(
        tmp_path,
        """
        i = 0
        while True:  # many tiny writes: python runs with -u, so each print is one chunk
            print(i)
            i += 1
        """,
    )
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: ticks.append(time.monotonic()))
    heartbeat.start()
    with qtbot.waitSignal(controller.sig_run_finished, timeout=15_000) as finished:
        assert _run(controller, panel, main)
    qtbot.waitUntil(lambda: not panel.painting, timeout=5_000)
    heartbeat.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert finished.args[0].output_capped
    assert panel.notice.text() == "Your program printed more than 1 MB and was stopped."
    assert panel.status_label.text() == "Too much output"
    assert max(gaps) < 0.25, f"the event loop was stuck for {max(gaps):.3f} s"
    assert panel.flush_count < 60
    lines = panel.output_text().splitlines()
    assert MAX_BLOCKS - 2 <= len(lines) <= MAX_BLOCKS
    assert [int(n) + 1 for n in lines[-100:-2]] == [int(n) for n in lines[-99:-1]]


def test_missing_toolchain_is_explained(qtbot, wired, tmp_path, monkeypatch):
    """Running a .js file without node on PATH fails at once with what to install."""
    controller, panel = wired
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    main = _program(tmp_path, "console.log('hi');\n", name="main.js")
    panel.begin_run("Running main.js")
    with qtbot.waitSignal(controller.sig_run_failed, timeout=1_000) as failed:
        assert not controller.run("javascript", main, tmp_path)
    qtbot.waitUntil(lambda: not panel.painting, timeout=1000)
    assert "Node.js" in failed.args[0]
    assert "Node.js" in panel.output_text()
    assert not controller.is_running
    assert not panel.input_line.isEnabled()


def test_a_new_run_drops_the_output_of_the_old_one(qtbot, wired, tmp_path):
    """Starting a run while one is printing stops it; none of its output or result arrives."""
    controller, panel = wired
    old = _program(
        tmp_path, "import time\nwhile True:\n    print('old')\n    time.sleep(0.01)\n", "old.py"
    )
    new = _program(tmp_path, "import time\ntime.sleep(0.3)\nprint('new')\n", "new.py")
    received: list[tuple[str, str]] = []
    results = []
    assert _run(controller, panel, old)
    qtbot.waitUntil(lambda: "old" in panel.output_text(), timeout=10_000)
    controller.sig_output_received.connect(lambda stream, text: received.append((stream, text)))
    controller.sig_run_finished.connect(results.append)
    assert _run(controller, panel, new)
    qtbot.waitUntil(lambda: bool(results), timeout=10_000)
    with qtbot.assertNotEmitted(controller.sig_output_received, wait=100):  # nothing late
        pass
    assert received == [("stdout", "new\n")]
    assert len(results) == 1
    assert panel.output_text() == "new\n"


@pytest.fixture
def lesson(tmp_path: Path) -> Path:
    """A tiny lesson folder whose main.py prints "hi"."""
    folder = tmp_path / "lesson"
    folder.mkdir()
    (folder / "main.py").write_text("print('hi')\n", encoding="utf-8")
    return folder


def test_checks_run_in_the_background_and_results_appear(qtbot, wired, lesson):
    """run_checks returns at once; the results list one passed and one failed check."""
    controller, panel = wired
    checks = [
        CheckSpec(kind="output", message="say hi", expected="hi\n"),
        CheckSpec(kind="output", message="say bye", expected="bye\n"),
    ]
    panel.show_checks_running(len(checks))
    with qtbot.waitSignal(controller.sig_checks_finished, timeout=15_000) as finished:
        started = time.monotonic()
        assert controller.run_checks("python", "main.py", lesson, checks, time_limit_s=5.0)
        assert time.monotonic() - started < 0.2
        assert controller.checks_running
        assert panel.results_text() == "Running 2 checks…"
        assert not controller.run_checks("python", "main.py", lesson, checks, time_limit_s=5.0)
    assert [result.passed for result in finished.args[0]] == [True, False]
    assert not controller.checks_running
    text = panel.results_text()
    assert text.splitlines()[:3] == ["1 of 2 checks passed", "✓ Passed", "✗ say bye"]
    assert "Your program printed:" in text
    assert "Line 1 differs: expected 'bye', got 'hi'." in panel.details_view.toPlainText()


def test_checks_without_toolchain_report_why(qtbot, wired, lesson, monkeypatch):
    """Checks of a .js lesson without node on PATH fail with what to install."""
    controller, panel = wired
    monkeypatch.setenv("PATH", str(lesson / "empty"))
    check = CheckSpec(kind="runs", message="it runs")
    with qtbot.waitSignal(controller.sig_checks_failed, timeout=5_000) as failed:
        assert controller.run_checks("javascript", "main.js", lesson, [check], time_limit_s=5.0)
    assert "Node.js" in failed.args[0]
    assert "Node.js" in panel.results_text()
    assert not controller.checks_running


def test_shutdown_stops_the_program_and_drops_its_result(qtbot, tmp_path):
    """shutdown() ends a running program promptly; no signal follows it."""
    controller = ProgramRunner()
    main = _program(tmp_path, "while True:\n    pass\n")
    results = []
    controller.sig_run_finished.connect(results.append)
    assert controller.run("python", main, tmp_path)
    started = time.monotonic()
    controller.shutdown(timeout_s=2.0)
    assert time.monotonic() - started < 2.0
    assert not controller.is_running
    with qtbot.assertNotEmitted(controller.sig_run_finished, wait=100):
        pass
    assert results == []
    assert not controller.run("python", main, tmp_path)


def test_the_panel_says_compiling_then_running(qtbot, wired, tmp_path):
    """A C++ program is "Compiling…" first and "Running…" once it runs; Python only runs."""
    from app.runner.toolchains import find_toolchain

    if not find_toolchain("cpp").available:
        pytest.skip(find_toolchain("cpp").missing_message)
    controller, panel = wired
    phases: list[str] = []
    statuses: list[str] = []
    controller.sig_phase_changed.connect(phases.append)
    controller.sig_phase_changed.connect(lambda _p: statuses.append(panel.status_label.text()))
    main = _program(tmp_path, '#include <cstdio>\nint main() { std::puts("hi"); }\n', "m.cpp")
    panel.begin_run("Running m.cpp")
    with qtbot.waitSignal(controller.sig_run_finished, timeout=60_000):
        assert controller.run("cpp", main, tmp_path)
    assert phases == ["compiling", "running"] and statuses == ["Compiling…", "Running…"]
    phases.clear()
    with qtbot.waitSignal(controller.sig_run_finished, timeout=20_000):
        assert _run(controller, panel, _program(tmp_path, "print('hi')\n"))
    assert phases == ["running"]


def test_a_failed_compile_is_shown_from_its_first_error(qtbot, wired, tmp_path):
    """g++'s long error output is shown from the top, where the first error is, not
    scrolled to its end."""
    from app.runner.toolchains import find_toolchain

    if not find_toolchain("cpp").available:
        pytest.skip(find_toolchain("cpp").missing_message)
    controller, panel = wired
    body = "\n".join(f"    undefined_{i} = {i};" for i in range(80))
    main = _program(tmp_path, f"int main() {{\n{body}\n}}\n", "m.cpp")
    panel.begin_run("Running m.cpp")
    with qtbot.waitSignal(controller.sig_run_finished, timeout=60_000) as done:
        assert controller.run("cpp", main, tmp_path)
    assert done.args[0].compile_failed
    qtbot.waitUntil(lambda: not panel.painting, timeout=10_000)
    bar = panel.view.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    top = panel.view.cursorForPosition(panel.view.viewport().rect().topLeft()).block().text()
    assert "m.cpp" in top or "error" in top
