"""The output panel: a running program's output and input line, Stop, and the check results.

Output is buffered and painted on a timer (every 40 ms), never per chunk, and each paint has a
time budget, so a program printing as fast as it can does not freeze the window: a backlog is
painted over the next ticks, and buffered lines that the view would trim anyway (more than
`MAX_BLOCKS` newer ones follow) are never painted. Lines longer than `MAX_LINE_CHARS` are broken,
because Qt lays out a block whole: one endless line would otherwise cost seconds per paint.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFontDatabase,
    QKeySequence,
    QShortcut,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.runner.checks import CheckResult
from app.runner.result import RunResult
from app.ui.common.chunks import ChunkBuffer
from app.ui.common.theme import THEME, failure_style, notice_style

FLUSH_INTERVAL_MS = 40
FLUSH_BUDGET_S = 0.02
"""Painting stops after this long; the rest waits for the next tick."""
PAINT_SLICE_CHARS = 8_000
"""At most this much text is inserted in one go."""
MAX_BLOCKS = 20_000
"""Lines kept in the output view; older ones are dropped."""
MAX_LINE_CHARS = 1_000
"""Longer output lines are broken into lines of this length."""
STDERR_COLOUR = THEME.stderr
INPUT_COLOUR = THEME.input
_NOTICE_STYLE = notice_style()
_FAILURE_STYLE = failure_style()
_PASSED_COLOUR = THEME.passed
CHECK_PROMPT = "Press Check to test your program against the lesson."
_FAILED_COLOUR = THEME.failed


def _format(colour: str | None = None, bold: bool = False) -> QTextCharFormat:
    """A character format for the output view."""
    fmt = QTextCharFormat()
    if colour:
        fmt.setForeground(QColor(colour))
    if bold:
        fmt.setFontWeight(700)
    return fmt


def _stack(parent: QWidget, *items: QWidget | QHBoxLayout) -> QWidget:
    """A widget holding `items` top to bottom; text views and splitters get the spare room."""
    widget = QWidget(parent)
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(4, 4, 4, 4)
    for item in items:
        if isinstance(item, QHBoxLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item, 1 if isinstance(item, QPlainTextEdit | QSplitter) else 0)
    return widget


ASK_WHY = "Ask the tutor why"
ASK_WHY_TIP = "The tutor looks at your code and what went wrong, and explains the cause (F8)"


class OutputPanel(QWidget):
    """Shows what the learner's program prints, takes its input, and lists check results."""

    sig_input_entered = Signal(str)
    """(text): a line the learner typed for the program, ending in a newline."""
    sig_stop_requested = Signal()
    """The learner pressed Stop."""
    sig_end_of_input_requested = Signal()
    """The learner ended the program's input (End input, or Ctrl+D in the input line)."""
    sig_ask_why_requested = Signal()
    """The learner asked the tutor why the run or the checks failed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pending = ChunkBuffer()
        self._from_top = False  # a failed compile is read from its first error
        self._path_prefix = ""
        self._column = 0  # characters on the output's last line
        self._running = False
        self._title = ""
        self.flush_count = 0
        self._formats = {
            "stdout": _format(),
            "stderr": _format(STDERR_COLOUR),
            "input": _format(INPUT_COLOUR, bold=True),
        }
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)

        self.tabs = QTabWidget(self)
        self.title_label = QLabel("Run your program to see its output here.", self)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.title_label.setStyleSheet("QLabel { font-weight: bold; }")
        self.status_label = QLabel(self)
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice = QLabel(self)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.setWordWrap(True)
        self.notice.hide()
        self.view = QPlainTextEdit(self)
        self.view.setReadOnly(True)
        self.view.setFont(fixed)
        self.view.setMaximumBlockCount(MAX_BLOCKS)
        self.view.setPlaceholderText("What your program prints appears here.")
        self.input_line = QLineEdit(self)
        self.input_line.setFont(fixed)
        self.input_line.setPlaceholderText("Input for your program: type, then Enter")
        self.input_line.returnPressed.connect(self._on_input_line_return_pressed)
        self.end_input_button = QPushButton("End input", self)
        self.end_input_button.setToolTip(
            "Tell your program there is no more input (Ctrl+D), for programs that read "
            "everything until the end"
        )
        self.end_input_button.clicked.connect(self.end_input)
        end_shortcut = QShortcut(QKeySequence("Ctrl+D"), self.input_line)
        end_shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        end_shortcut.activated.connect(self.end_input)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("Stop your program")
        self.stop_button.clicked.connect(self.sig_stop_requested)

        self.ask_why_button = QPushButton(ASK_WHY, self)
        self.ask_why_button.setToolTip(ASK_WHY_TIP)
        self.ask_why_button.clicked.connect(self.sig_ask_why_requested)
        self.ask_why_button.hide()
        self.ask_why_checks_button = QPushButton(ASK_WHY, self)
        self.ask_why_checks_button.setToolTip(ASK_WHY_TIP)
        self.ask_why_checks_button.clicked.connect(self.sig_ask_why_requested)
        self.ask_why_checks_button.hide()

        header = QHBoxLayout()
        header.addWidget(self.title_label)
        header.addStretch(1)
        header.addWidget(self.status_label)
        header.addWidget(self.ask_why_button)
        input_row = QHBoxLayout()
        input_row.addWidget(self.input_line, 1)
        input_row.addWidget(self.end_input_button)
        input_row.addWidget(self.stop_button)
        output_tab = _stack(self, header, self.notice, self.view, input_row)

        self.summary_label = QLabel(CHECK_PROMPT, self)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        self.summary_label.setWordWrap(True)
        self.results_list = QListWidget(self)
        self.results_list.setWordWrap(True)
        self.results_list.currentRowChanged.connect(self._on_results_list_current_row_changed)
        self.details_view = QPlainTextEdit(self)
        self.details_view.setReadOnly(True)
        self.details_view.setFont(fixed)
        self.details_view.setPlaceholderText("Select a check to see what was expected.")
        # Side by side, so both get the panel's whole height: the list of checks and, beside
        # it, what the selected one expected (stacked, each was 3 to 5 lines tall).
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.results_list)
        splitter.addWidget(self.details_view)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        self.results_splitter = splitter
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary_label, 1)
        summary_row.addWidget(self.ask_why_checks_button)
        checks_tab = _stack(self, summary_row, splitter)

        self.tabs.addTab(output_tab, "Output")
        self.tabs.addTab(checks_tab, "Check results")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

        self._details: list[str] = []
        self._timer = QTimer(self)
        self._timer.setInterval(FLUSH_INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._set_running(False)

    def offer_ask_why(self, run_failed: bool, checks_failed: bool) -> None:
        """Show "Ask the tutor why" beside a failed run's status and a failed Check's
        summary (and hide it when the last one went well)."""
        self.ask_why_button.setVisible(run_failed)
        self.ask_why_checks_button.setVisible(checks_failed)

    # -- a run ----------------------------------------------------------------------------
    def begin_run(self, title: str) -> None:
        """Clear the output, show the Output tab and `title` (e.g. "Running main.py")."""
        self.clear()
        self.tabs.setCurrentIndex(0)
        self._title = title
        self.title_label.setText(title)
        self._set_status("Running…")
        self._set_running(True)
        self.input_line.setFocus()

    @Slot(str)
    def set_phase(self, phase: str) -> None:
        """Say what the run is doing: "compiling" (C++, Java, C#, TypeScript) or "running"."""
        if self._running:
            self._set_status("Compiling…" if phase == "compiling" else "Running…")

    def set_path_alias(self, prefix: str) -> None:
        """Show paths starting with `prefix` without it ("main.py", line 2), "" for none."""
        self._path_prefix = prefix

    @Slot(str, str)
    def append_output(self, stream: str, text: str) -> None:
        """Buffer `text` printed on `stream` ("stdout" or "stderr"); the timer paints it."""
        if not text:
            return
        self._pending.append(text, stream)
        if not self._timer.isActive():
            self._timer.start()

    @Slot(object)
    def end_run(self, result: RunResult) -> None:
        """Say how the run ended; output still buffered is painted on the next ticks.

        A clean exit shows "Finished (exit code 0) in 0.3 s" and an error exit the result's
        message. A stop, time limit, output cap or failed compile gets a short status and its
        message in a banner above the output.
        """
        self._set_running(False)
        self.title_label.setText(self._title.removeprefix("Running "))
        seconds = f"{result.duration_s:.1f} s"
        if result.exit_code == 0 and not result.killed:
            compiled = f", compiled in {result.compile_s:.1f} s" if result.compile_s else ""
            self._set_status(f"Finished (exit code 0) in {seconds}{compiled}")
            return
        if result.compile_failed:
            status = "Did not compile"
            self._from_top = True  # the first error is the one to read: show the top
            self.view.verticalScrollBar().setValue(0)
        elif result.timed_out:
            status = "Time limit reached"
        elif result.output_capped:
            status = "Too much output"
        elif result.killed:
            status = f"Stopped after {seconds}"
        else:  # it ended by itself with an error: the message says so
            self._set_status(result.message, error=True)
            return
        self._set_status(status, error=not status.startswith("Stopped"))
        self._show_notice(result.message, failure=result.compile_failed)

    @Slot(str)
    def show_failure(self, message: str) -> None:
        """The program could not run (e.g. its toolchain is missing): say so in plain words."""
        self._set_running(False)
        self.tabs.setCurrentIndex(0)
        self._set_status("Could not run", error=True)
        self.append_output("stderr", f"\n{message}\n")
        self._show_notice(message, failure=True)

    def clear(self) -> None:
        """Empty the output and forget what was still to be painted."""
        self._from_top = False
        self._pending.clear()
        self._timer.stop()
        self._column = 0
        self.view.clear()
        self.notice.hide()
        self._set_status("")

    def clear_results(self) -> None:
        """Back to "Press Check…": no rows, no details."""
        self.results_list.clear()
        self.details_view.clear()
        self._details = []
        self.summary_label.setText(CHECK_PROMPT)
        self.summary_label.setStyleSheet("")
        self.tabs.setCurrentIndex(0)

    def output_text(self) -> str:
        """The output as shown (painted so far), as plain text."""
        return self.view.toPlainText()

    @property
    def painting(self) -> bool:
        """Output is buffered and not painted yet."""
        return bool(self._pending)

    # -- check results --------------------------------------------------------------------
    def show_checks_running(self, count: int) -> None:
        """Show the Check results tab with a note that `count` checks are running."""
        self._set_results([], f"Running {count} {'check' if count == 1 else 'checks'}…")

    def show_check_results(
        self, results: list[CheckResult], labels: list[str] | None = None, crash: str | None = None
    ) -> None:
        """Show one row per check and a summary; the first failed check's details are shown.

        Args:
            results: one per check, in order.
            labels: what each check looks at (the first line of its message), so a passed
                row says what passed; None for "Passed".
            crash: the sentence saying the program stops with an error before any check
                could look at it; it replaces the summary (the rows stay, for the details).
        """
        passed, total = sum(result.passed for result in results), len(results)
        if total == 0:
            summary = "This lesson has no checks."
        elif passed == total:
            summary = f"All {total} checks passed" if total > 1 else "The check passed"
            summary += " — lesson done!"
        else:
            summary = f"{passed} of {total} {'check' if total == 1 else 'checks'} passed"
        colour = _PASSED_COLOUR if passed == total else _FAILED_COLOUR
        self._set_results(results, crash or summary, colour, labels or [])
        failed = [row for row, result in enumerate(results) if not result.passed]
        if results:
            self.results_list.setCurrentRow(failed[0] if failed else 0)

    @Slot(str)
    def show_checks_failure(self, message: str) -> None:
        """The checks could not run: say why on the Check results tab."""
        self._set_results([], message, _FAILED_COLOUR)

    def results_text(self) -> str:
        """The summary, then each row with its details indented, as plain text."""
        lines = [self.summary_label.text()]
        for row in range(self.results_list.count()):
            lines.append(self.results_list.item(row).text())
            lines += ["    " + line for line in self._details[row].splitlines()]
        return "\n".join(lines)

    def _set_results(
        self,
        results: list[CheckResult],
        summary: str,
        colour: str = "",
        labels: list[str] | tuple[str, ...] = (),
    ) -> None:
        """Show the Check results tab with `summary` (in `colour`) and one row per result."""
        self.tabs.setCurrentIndex(1)
        self.summary_label.setText(summary)
        self.summary_label.setStyleSheet(f"QLabel {{ font-weight: bold; color: {colour}; }}")
        self.results_list.clear()
        self.details_view.clear()
        self._details = [result.details for result in results]
        for index, result in enumerate(results):
            label = labels[index] if index < len(labels) else ""
            text = (
                (f"✓ {label}" if label else "✓ Passed") if result.passed else f"✗ {result.message}"
            )
            item = QListWidgetItem(text)
            item.setForeground(QColor(_PASSED_COLOUR if result.passed else _FAILED_COLOUR))
            self.results_list.addItem(item)

    @Slot(int)
    def _on_results_list_current_row_changed(self, row: int) -> None:
        """Show the selected check's details."""
        if not 0 <= row < len(self._details):
            self.details_view.clear()
            return
        self.details_view.setPlainText(self._details[row] or "This check passed.")

    # -- painting -------------------------------------------------------------------------
    @Slot()
    def _on_timer_timeout(self) -> None:
        """Paint what arrived since the last tick; stop ticking when nothing is left."""
        if not self._pending:
            self._timer.stop()
            return
        self.flush_count += 1
        runs = self._drop_hidden_backlog(self._pending.take_all())
        deadline = time.monotonic() + FLUSH_BUDGET_S
        while runs and time.monotonic() < deadline:
            stream, text = runs.pop(0)  # chunks were joined first: a split path is whole
            if self._path_prefix:
                text = text.replace(self._path_prefix, "")
            if len(text) > PAINT_SLICE_CHARS:
                runs.insert(0, (stream, text[PAINT_SLICE_CHARS:]))
                text = text[:PAINT_SLICE_CHARS]
            self._insert(stream, text)
        self._pending.put_back(runs)
        bar = self.view.verticalScrollBar()
        bar.setValue(0 if self._from_top else bar.maximum())

    def _drop_hidden_backlog(self, runs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Drop output followed by `MAX_BLOCKS` newer lines: the view would trim it anyway."""
        lines = 0
        for index in range(len(runs) - 1, -1, -1):
            stream, text = runs[index]
            count = text.count("\n")
            if lines + count < MAX_BLOCKS:
                lines += count
                continue
            cut = len(text)
            for _ in range(MAX_BLOCKS - lines):
                cut = text.rfind("\n", 0, cut)
            self.view.clear()
            self._column = 0
            return [(stream, text[cut + 1 :]), *runs[index + 1 :]]
        return runs

    def _insert(self, stream: str, text: str) -> None:
        """Append `text` at the end in the format of `stream`, breaking over-long lines."""
        cursor = QTextCursor(self.view.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(self._break_long_lines(text), self._formats[stream])

    def _break_long_lines(self, text: str) -> str:
        """`text` with a newline after every `MAX_LINE_CHARS` characters of one line."""
        lines = text.split("\n")
        column = self._column
        for index, line in enumerate(lines):
            if index:
                column = 0
            if column + len(line) <= MAX_LINE_CHARS:
                column += len(line)
                continue
            room = MAX_LINE_CHARS - column
            pieces = [line[:room]]
            pieces += [line[i : i + MAX_LINE_CHARS] for i in range(room, len(line), MAX_LINE_CHARS)]
            lines[index] = "\n".join(pieces)
            column = len(pieces[-1])
        self._column = column
        return "\n".join(lines)

    # -- input and state ------------------------------------------------------------------
    def _set_running(self, running: bool) -> None:
        """Enable the input line and Stop only while a program runs."""
        self._running = running
        self._input_ended = False
        self.input_line.setEnabled(running)
        self.end_input_button.setEnabled(running)
        self.stop_button.setEnabled(running)
        if not running:
            self.input_line.clear()

    def _set_status(self, text: str, error: bool = False) -> None:
        """Show `text` at the top right, in red for an error."""
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"QLabel {{ color: {_FAILED_COLOUR}; }}" if error else "")

    def show_warning(self, message: str) -> None:
        """Show `message` above the output (e.g. that the last saved version runs)."""
        self._show_notice(message, failure=False)

    def _show_notice(self, message: str, failure: bool) -> None:
        """Show `message` prominently above the output."""
        self.notice.setText(message)
        self.notice.setStyleSheet(_FAILURE_STYLE if failure else _NOTICE_STYLE)
        self.notice.show()

    @Slot()
    def end_input(self) -> None:
        """End the program's input: what is typed goes first, then the end of input."""
        if not self._running or self._input_ended:
            return
        if self.input_line.text():
            self._on_input_line_return_pressed()
        self._input_ended = True
        self.append_output("input", "[end of input]\n")
        self.input_line.setEnabled(False)
        self.end_input_button.setEnabled(False)
        self.sig_end_of_input_requested.emit()

    @Slot()
    def _on_input_line_return_pressed(self) -> None:
        """Send the typed line to the program and echo it in the output."""
        if not self._running:
            return
        text = self.input_line.text() + "\n"
        self.input_line.clear()
        self.append_output("input", text)  # after the prompt that is maybe still buffered
        self.sig_input_entered.emit(text)
