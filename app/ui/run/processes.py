"""Runs the learner's program and the lesson's checks for the UI, never blocking the UI thread.

Threads: every public method runs on the UI thread and returns at once. The runner calls back
from its reader threads; those callbacks only buffer data under a lock and post one queued
wake-up to this object, so a program printing thousands of tiny chunks costs the UI thread a
handful of events. Every public signal is emitted on the UI thread. Each run carries an id, and
output or results of a run that was replaced or stopped by `run()` are dropped.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance, Slot

from app.runner.checks import CheckSpec, run_checks
from app.runner.process import RunResult, RunSession, ToolchainMissingError
from app.ui.common.chunks import ChunkBuffer

log = logging.getLogger(__name__)


class ProgramRunner(QObject):
    """Starts, feeds and stops one program at a time, and runs checks in a background thread."""

    sig_run_started = Signal()
    """A program started (compiling first where its language needs it)."""
    sig_output_received = Signal(str, str)
    """(stream, text): the program printed `text` on "stdout" or "stderr"."""
    sig_run_finished = Signal(object)
    """(RunResult): the program ended; its message says how, in plain words."""
    sig_run_failed = Signal(str)
    """(message): the program could not start, e.g. its compiler or interpreter is missing."""
    sig_phase_changed = Signal(str)
    """(phase): "compiling" (a compile step starts) or "running" (the program starts)."""
    sig_checks_started = Signal()
    """The lesson's checks started running in the background."""
    sig_checks_finished = Signal(object)
    """(list[CheckResult]): the checks ended; one result per check, in order."""
    sig_checks_failed = Signal(str)
    """(message): the checks could not run, e.g. the language's toolchain is missing."""

    # Posted from runner and check threads; always queued, so the slots run on the UI thread.
    _sig_output_pending = Signal(int)
    _sig_session_finished = Signal(int, object)
    _sig_session_phase = Signal(int, str)
    _sig_checks_done = Signal(int, object)
    _sig_checks_error = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._run_id = 0
        self._live_id: int | None = None  # the run whose output is accepted (guarded by _lock)
        self._pending = ChunkBuffer()  # guarded by _lock
        self._wake_posted = False  # guarded by _lock
        self._session: RunSession | None = None
        self._checks_id = 0
        self._check_thread: threading.Thread | None = None
        self._closed = False
        queued = Qt.ConnectionType.QueuedConnection
        self._sig_output_pending.connect(self._on_session_output_pending, queued)
        self._sig_session_finished.connect(self._on_session_finished, queued)
        self._sig_session_phase.connect(self._on_session_phase, queued)
        self._sig_checks_done.connect(self._on_checks_done, queued)
        self._sig_checks_error.connect(self._on_checks_error, queued)

    # -- running a program ----------------------------------------------------------------
    @property
    def is_running(self) -> bool:
        """A program is running (from `run()` until `sig_run_finished`)."""
        return self._session is not None

    def run(
        self, language: str, main_file: Path, workdir: Path, time_limit_s: float = 10.0
    ) -> bool:
        """Run `main_file`; any program still running is stopped first and its output dropped.

        Args:
            language: the language id ("python", "cpp", ...).
            main_file: the file to run.
            workdir: the folder it runs in.
            time_limit_s: wall-clock seconds it may run (compiling not counted).

        Returns:
            True when it started; False when it could not (`sig_run_failed` says why).
        """
        if self._closed:
            return False
        if self._session is not None:
            self._session.stop()
            self._session = None
        with self._lock:
            self._run_id += 1
            run_id = self._live_id = self._run_id
            self._pending.clear()
            self._wake_posted = False
        session = RunSession(
            language,
            Path(main_file),
            Path(workdir),
            time_limit_s=time_limit_s,
            wait_for_input=True,
            on_output=functools.partial(self._take_output, run_id),
            on_finished=functools.partial(self._take_finished, run_id),
            on_phase=functools.partial(self._take_phase, run_id),
        )
        try:
            session.start()
        except ToolchainMissingError as exc:
            return self._fail_run(str(exc))
        except Exception as exc:  # a bad path or a runner bug must not take the window down
            log.exception("could not start %s", main_file)
            return self._fail_run(f"Could not run the program: {exc}")
        self._session = session
        self.sig_run_started.emit()
        return True

    def stop(self) -> None:
        """Stop the running program and everything it started; `sig_run_finished` follows."""
        if self._session is not None:
            self._session.stop()

    def write_stdin(self, text: str) -> None:
        """Send `text` to the running program's input (ignored when nothing runs)."""
        if self._session is not None:
            self._session.write_stdin(text)

    def close_stdin(self) -> None:
        """End the running program's input: its next read sees end of file."""
        if self._session is not None:
            self._session.close_stdin()

    def _fail_run(self, message: str) -> bool:
        """Forget the run that did not start and say why."""
        with self._lock:
            self._live_id = None
        self.sig_run_failed.emit(message)
        return False

    # -- running checks -------------------------------------------------------------------
    @property
    def checks_running(self) -> bool:
        """Checks are running (from `run_checks()` until their result signal)."""
        return self._check_thread is not None

    def run_checks(
        self,
        language: str,
        main_file: str,
        files_dir: Path,
        checks: Sequence[CheckSpec],
        time_limit_s: float = 10.0,
    ) -> bool:
        """Run the lesson's checks in a background thread; returns at once.

        Args:
            language: the language id of the learner's program.
            main_file: the program's entry file, relative to `files_dir`.
            files_dir: the learner's files (copied for each check, never changed).
            checks: the lesson's checks.
            time_limit_s: the time limit of each check's run.

        Returns:
            True when they started; False when checks are already running (the call is
            ignored) or the controller was shut down.
        """
        if self._closed or self._check_thread is not None:
            return False
        self._checks_id += 1
        thread = threading.Thread(
            target=self._check_in_thread,
            args=(self._checks_id, language, main_file, Path(files_dir), tuple(checks)),
            kwargs={"time_limit_s": time_limit_s},
            name="lesson-checks",
            daemon=True,
        )
        self._check_thread = thread
        thread.start()
        self.sig_checks_started.emit()
        return True

    def shutdown(self, timeout_s: float = 2.0) -> None:
        """Stop the program, drop what is still to come and wait up to `timeout_s` for checks."""
        self._closed = True
        with self._lock:
            self._live_id = None
        session, self._session = self._session, None
        if session is not None:
            session.stop()
            session.wait(timeout_s)
        thread, self._check_thread = self._check_thread, None
        if thread is not None:
            thread.join(timeout_s)

    # -- runner and check threads ---------------------------------------------------------
    def _take_output(self, run_id: int, stream: str, text: str) -> None:
        """Reader thread: buffer `text` and post one wake-up unless one is on its way."""
        with self._lock:
            if run_id != self._live_id:
                return
            self._pending.append(text, stream)
            if self._wake_posted:
                return
            self._wake_posted = True
        _post(self, "_sig_output_pending", run_id)

    def _take_phase(self, run_id: int, phase: str) -> None:
        """Runner thread: the run now compiles or runs."""
        _post(self, "_sig_session_phase", run_id, phase)

    def _take_finished(self, run_id: int, result: RunResult) -> None:
        """Runner thread: hand the result to the UI thread."""
        _post(self, "_sig_session_finished", run_id, result)

    def _check_in_thread(
        self,
        checks_id: int,
        language: str,
        main_file: str,
        files_dir: Path,
        checks: tuple[CheckSpec, ...],
        *,
        time_limit_s: float,
    ) -> None:
        """Check thread: run the checks (blocking) and post their results."""
        try:
            results = run_checks(language, main_file, files_dir, checks, time_limit_s=time_limit_s)
        except ToolchainMissingError as exc:
            _post(self, "_sig_checks_error", checks_id, str(exc))
        except Exception as exc:  # report it; a dead thread would leave checks "running"
            log.exception("checks failed")
            _post(self, "_sig_checks_error", checks_id, f"Could not run the checks: {exc}")
        else:
            _post(self, "_sig_checks_done", checks_id, results)

    # -- UI thread ------------------------------------------------------------------------
    @Slot(int)
    def _on_session_output_pending(self, run_id: int) -> None:
        """Pass on the output buffered for the current run."""
        if run_id == self._live_id:
            self._drain_output()

    def _drain_output(self) -> None:
        """Emit everything buffered, one signal per stretch of one stream."""
        with self._lock:
            pending = self._pending.take_all()
            self._wake_posted = False
        for stream, text in pending:
            self.sig_output_received.emit(stream, text)

    @Slot(int, str)
    def _on_session_phase(self, run_id: int, phase: str) -> None:
        if run_id == self._live_id:
            self.sig_phase_changed.emit(phase)

    @Slot(int, object)
    def _on_session_finished(self, run_id: int, result: RunResult) -> None:
        """The current run ended: pass on its last output, then its result."""
        if run_id != self._live_id:
            return
        self._drain_output()
        with self._lock:
            self._live_id = None
        self._session = None
        self.sig_run_finished.emit(result)

    @Slot(int, object)
    def _on_checks_done(self, checks_id: int, results: object) -> None:
        """The checks ended: pass on their results."""
        if self._finish_checks(checks_id):
            self.sig_checks_finished.emit(results)

    @Slot(int, str)
    def _on_checks_error(self, checks_id: int, message: str) -> None:
        """The checks could not run: say why."""
        if self._finish_checks(checks_id):
            self.sig_checks_failed.emit(message)

    def _finish_checks(self, checks_id: int) -> bool:
        """Mark the checks `checks_id` done; False when they are not the ones running."""
        if self._closed or checks_id != self._checks_id or self._check_thread is None:
            return False
        self._check_thread = None
        return True


def _post(controller: ProgramRunner, name: str, *args: object) -> None:
    """Emit the controller's queued private signal `name` from a worker thread.

    The controller may already be deleted when the app is closing; then nobody is listening.
    """
    try:
        signal: SignalInstance = getattr(controller, name)
        signal.emit(*args)
    except RuntimeError:  # "Internal C++ object already deleted"
        log.debug("run controller gone; dropped %s", name)
