"""The output panel: throttled painting, stderr colour, the input line, status and check results."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QTextCursor

from app.runner.checks import CheckResult
from app.runner.result import RunResult
from app.ui.run.output_panel import (
    INPUT_COLOUR,
    MAX_BLOCKS,
    MAX_LINE_CHARS,
    STDERR_COLOUR,
    OutputPanel,
)


def _result(**changes: object) -> RunResult:
    """A RunResult of a program that finished, with `changes` applied."""
    fields: dict[str, object] = {
        "exit_code": 0,
        "stdout": "",
        "stderr": "",
        "timed_out": False,
        "output_capped": False,
        "killed": False,
        "duration_s": 0.31,
        "compile_failed": False,
        "message": "Your program finished.",
    }
    fields.update(changes)
    return RunResult(**fields)  # type: ignore[arg-type]


def _colour_at(panel: OutputPanel, text: str) -> QColor:
    """The foreground colour of the first character of `text` in the output view."""
    document = panel.view.document()
    found = document.find(text)
    assert not found.isNull(), f"{text!r} not shown"
    cursor = QTextCursor(document)
    cursor.setPosition(found.selectionStart() + 1)
    return cursor.charFormat().foreground().color()


def _panel(qtbot) -> OutputPanel:
    panel = OutputPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 400)
    panel.show()
    return panel


def test_flood_of_one_megabyte_is_painted_in_few_flushes_and_window_stays_responsive(qtbot):
    """1 MB arriving in 4 KB chunks is painted in a few timer flushes; a timer keeps firing."""
    panel = _panel(qtbot)
    panel.begin_run("Running flood.py")
    line = "0123456789" * 7 + "abcdefghi\n"  # 80 characters
    chunk = line * (4096 // len(line))
    chunks = [chunk] * (1_000_000 // len(chunk) + 1)
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(10)
    heartbeat.timeout.connect(lambda: ticks.append(time.monotonic()))
    feeder = QTimer()
    feeder.setInterval(0)

    def feed() -> None:
        for _ in range(16):  # like a controller draining a backlog each event-loop turn
            if chunks:
                panel.append_output("stdout", chunks.pop())
        if not chunks:
            feeder.stop()

    feeder.timeout.connect(feed)
    heartbeat.start()
    feeder.start()
    total = sum(len(c) for c in chunks)
    qtbot.waitUntil(lambda: len(panel.output_text()) == total, timeout=5000)
    heartbeat.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert panel.flush_count <= 15
    assert len(ticks) >= 3
    assert max(gaps) < 0.25, f"the event loop was stuck for {max(gaps):.3f} s"
    assert panel.output_text().endswith("abcdefghi\n")
    assert panel.view.document().blockCount() <= MAX_BLOCKS


def _painted(qtbot, panel: OutputPanel) -> float:
    """Wait until all buffered output is painted; the longest the event loop was stuck (s)."""
    ticks: list[float] = []
    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(lambda: ticks.append(time.monotonic()))
    heartbeat.start()
    qtbot.waitUntil(lambda: not panel.painting, timeout=5000)
    heartbeat.stop()
    return max((b - a for a, b in zip(ticks, ticks[1:], strict=False)), default=0.0)


def test_one_endless_line_is_broken_and_painted_without_stalling(qtbot):
    """A 1 MB line without newlines is shown in short lines; no paint stalls the window."""
    panel = _panel(qtbot)
    panel.begin_run("Running dots.py")
    for _ in range(250):
        panel.append_output("stdout", "." * 4000)
    panel.end_run(_result())
    assert _painted(qtbot, panel) < 0.2
    lines = panel.output_text().split("\n")
    assert max(len(line) for line in lines) == MAX_LINE_CHARS
    assert sum(len(line) for line in lines) == 1_000_000


def test_stderr_is_dark_red_and_stdout_is_not(qtbot):
    """Error output is painted in dark red; normal output in the default colour."""
    panel = _panel(qtbot)
    panel.begin_run("Running main.py")
    panel.append_output("stdout", "all good\n")
    panel.append_output("stderr", "Traceback: boom\n")
    panel.end_run(_result(exit_code=1, message="Your program stopped with an error (exit code 1)."))
    _painted(qtbot, panel)
    assert panel.output_text() == "all good\nTraceback: boom\n"
    assert _colour_at(panel, "Traceback") == QColor(STDERR_COLOUR)
    assert _colour_at(panel, "all good") != QColor(STDERR_COLOUR)
    assert panel.status_label.text() == "Your program stopped with an error (exit code 1)."
    assert panel.notice.isHidden()


def test_input_line_works_only_while_running_and_echoes_in_its_own_colour(qtbot):
    """Enter sends the typed line plus a newline and shows it after the prompt, in green."""
    panel = _panel(qtbot)
    assert not panel.input_line.isEnabled()
    assert not panel.stop_button.isEnabled()
    panel.begin_run("Running main.py")
    assert panel.input_line.isEnabled()
    assert panel.stop_button.isEnabled()
    panel.append_output("stdout", "Name? ")
    qtbot.keyClicks(panel.input_line, "Ada")
    with qtbot.waitSignal(panel.sig_input_entered) as entered:
        qtbot.keyClick(panel.input_line, Qt.Key.Key_Return)
    assert entered.args == ["Ada\n"]
    _painted(qtbot, panel)
    assert panel.output_text() == "Name? Ada\n"
    assert _colour_at(panel, "Ada") == QColor(INPUT_COLOUR)
    assert panel.input_line.text() == ""
    with qtbot.waitSignal(panel.sig_stop_requested):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    panel.end_run(_result(exit_code=None, killed=True, message="You stopped the program."))
    assert not panel.input_line.isEnabled()
    assert not panel.stop_button.isEnabled()


def test_status_says_how_the_run_ended(qtbot):
    """Success shows exit code and time; a time limit is shown prominently above the output."""
    panel = _panel(qtbot)
    panel.begin_run("Running main.py")
    assert panel.title_label.text() == "Running main.py"
    assert panel.status_label.text() == "Running…"
    panel.end_run(_result(duration_s=0.31))
    assert panel.status_label.text() == "Finished (exit code 0) in 0.3 s"
    assert panel.title_label.text() == "main.py"
    panel.begin_run("Running main.ts")
    panel.end_run(_result(duration_s=0.04, compile_s=2.42))  # tsc's seconds are said too
    assert panel.status_label.text() == "Finished (exit code 0) in 0.0 s, compiled in 2.4 s"
    panel.begin_run("Running main.py")
    panel.end_run(_result(duration_s=0.31))
    assert panel.notice.isHidden()
    message = "Your program ran longer than 10 s and was stopped."
    panel.begin_run("Running main.py")
    panel.end_run(_result(exit_code=None, timed_out=True, killed=True, message=message))
    assert panel.status_label.text() == "Time limit reached"
    assert panel.notice.isVisible()
    assert panel.notice.text() == message


def test_failure_is_shown_in_the_output_in_plain_words(qtbot):
    """A missing toolchain is explained in the output area and the run controls are off."""
    panel = _panel(qtbot)
    panel.begin_run("Running main.js")
    message = "To run JavaScript you need Node.js. Install it with: sudo apt install nodejs."
    panel.show_failure(message)
    _painted(qtbot, panel)
    assert message in panel.output_text()
    assert panel.notice.text() == message
    assert panel.status_label.text() == "Could not run"
    assert not panel.input_line.isEnabled()


def test_check_results_list_summary_and_details(qtbot):
    """Each check gets a row; the summary counts passes; selecting a row shows its details."""
    panel = _panel(qtbot)
    panel.show_checks_running(3)
    assert panel.tabs.tabText(panel.tabs.currentIndex()) == "Check results"
    assert panel.results_text() == "Running 3 checks…"
    results = [
        CheckResult(True, "Passed", ""),
        CheckResult(False, "Print the total", "Expected output:\n6\n\nYour program printed:\n5"),
        CheckResult(True, "Passed", ""),
    ]
    panel.show_check_results(results)
    assert panel.results_text().splitlines()[:3] == [
        "2 of 3 checks passed",
        "✓ Passed",
        "✗ Print the total",
    ]
    assert panel.details_view.toPlainText().startswith("Expected output:\n6")
    panel.results_list.setCurrentRow(0)
    assert panel.details_view.toPlainText() == "This check passed."
    panel.show_check_results([CheckResult(True, "Passed", "")] * 4)
    assert panel.results_text().splitlines()[0] == "All 4 checks passed — lesson done!"


def test_begin_run_clears_and_returns_to_the_output_tab(qtbot):
    """A new run starts with an empty output on the Output tab."""
    panel = _panel(qtbot)
    panel.begin_run("Running a.py")
    panel.append_output("stdout", "old\n")
    panel.end_run(_result())
    panel.show_check_results([CheckResult(True, "Passed", "")])
    panel.begin_run("Running b.py")
    assert panel.tabs.currentIndex() == 0
    assert panel.output_text() == ""
    panel.append_output("stdout", "new\n")
    qtbot.waitUntil(lambda: panel.output_text() == "new\n", timeout=1000)


def test_backlog_of_more_lines_than_kept_shows_only_the_newest(qtbot):
    """200,000 short lines at once: the newest 20,000 are shown, painted without stalling."""
    panel = _panel(qtbot)
    panel.begin_run("Running count.py")
    text = "".join(f"{n}\n" for n in range(200_000))
    for start in range(0, len(text), 4096):
        panel.append_output("stdout", text[start : start + 4096])
    panel.end_run(_result())
    assert _painted(qtbot, panel) < 0.2
    lines = panel.output_text().splitlines()
    assert len(lines) == MAX_BLOCKS - 1
    assert lines[-1] == "199999"
    assert lines[0] == str(200_000 - MAX_BLOCKS + 1)
