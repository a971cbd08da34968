"""Runs one learner program in a child process: compile, run, stream, limit, and kill its tree."""

from __future__ import annotations

import atexit
import codecs
import dataclasses
import logging
import os
import queue
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from app.runner import proctree, sandbox
from app.runner.result import (
    COMPILE_TIME_LIMIT_S,
    STOPPED_MESSAGE,
    WAITING_CAP_S,
    RunResult,
    Step,
    compile_result,
    run_result,
)
from app.runner.toolchains import LaunchPlan, ToolchainMissingError, build_plan, child_env

__all__ = [
    "COMPILE_TIME_LIMIT_S",
    "STOPPED_MESSAGE",
    "RunResult",
    "RunSession",
    "ToolchainMissingError",
    "run_command",
    "run_program",
]

log = logging.getLogger(__name__)

OutputCallback = Callable[[str, str], None]
FinishedCallback = Callable[[RunResult], None]
PhaseCallback = Callable[[str], None]

_END = object()  # tells the stdin writer that the program has ended

_running: weakref.WeakSet[RunSession] = weakref.WeakSet()
"""Sessions still running; stopped when the app exits so no learner program outlives it."""


@atexit.register
def _stop_all_at_exit() -> None:
    """Stop every learner program still running (the app is exiting)."""
    for session in list(_running):
        session.stop()


class RunSession:
    """One run of a program in a child process.

    Thread-safe; callbacks are called from reader threads:
    `on_output(stream, text)` receives "stdout"/"stderr" text as it arrives (a prompt without a
    newline arrives at once); `on_finished(result)` is called once, from a runner thread.
    """

    def __init__(
        self,
        language: str,
        main_file: Path,
        workdir: Path,
        *,
        time_limit_s: float = 10.0,
        output_limit_bytes: int = 1_000_000,
        on_output: OutputCallback | None = None,
        on_finished: FinishedCallback | None = None,
        wait_for_input: bool = False,
        on_phase: PhaseCallback | None = None,
    ) -> None:
        """Prepare a run; nothing starts until `start()`.

        Args:
            language: the language id ("python", "cpp", ...).
            main_file: the file to run.
            workdir: the folder it runs in (its sibling files can be imported/read).
            time_limit_s: wall-clock seconds the program may run (compiling not counted).
            output_limit_bytes: how much stdout + stderr it may print before it is stopped.
            on_output: called with (stream, text) as output arrives.
            on_finished: called with the result once the run has ended.
            wait_for_input: a person types the input (the Run button). Then the time limit
                counts the processor time the program uses (Linux), so waiting for the
                learner to type is free; a wall-clock cap of max(120 s, 12 x the limit) still
                ends a program that sleeps forever.
            on_phase: called with "compiling" before a compile step and "running" before
                the program itself starts.
        """
        self._wait_for_input = wait_for_input
        self._marker = uuid.uuid4().hex
        self._language = language
        self._main_file = Path(main_file)
        self._workdir = Path(workdir)
        self._build_dir: Path | None = None
        self._time_limit_s = time_limit_s
        self._output_limit = output_limit_bytes
        self._on_output = on_output
        self._on_finished = on_finished
        self._on_phase = on_phase
        self._command: LaunchPlan | None = None
        self._lock = threading.Lock()
        self._stdin: queue.Queue[object] = queue.Queue()
        self._started = False
        self._stop_requested = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._step_done = True
        self._reason: str | None = None
        self._capped = False
        self._out_bytes = 0
        self._done = threading.Event()
        self._result: RunResult | None = None

    @classmethod
    def from_command(
        cls,
        argv: Sequence[str],
        workdir: Path,
        *,
        env: Mapping[str, str] | None = None,
        time_limit_s: float = 10.0,
        output_limit_bytes: int = 1_000_000,
        on_output: OutputCallback | None = None,
        on_finished: FinishedCallback | None = None,
    ) -> RunSession:
        """A session that runs a ready command (no compile step) with the same limits and kill.

        Args:
            argv: the command.
            workdir: its working directory.
            env: its environment; default `child_env()`.
            time_limit_s: see `__init__`.
            output_limit_bytes: see `__init__`.
            on_output: see `__init__`.
            on_finished: see `__init__`.

        Returns:
            The session, not started.
        """
        session = cls(
            "command",
            Path(argv[0]),
            workdir,
            time_limit_s=time_limit_s,
            output_limit_bytes=output_limit_bytes,
            on_output=on_output,
            on_finished=on_finished,
        )
        session._command = LaunchPlan((), tuple(argv), dict(env or child_env()))
        return session

    def start(self) -> None:
        """Compile (where the language needs it) and run, in the background; returns at once.

        Raises:
            ToolchainMissingError: the language's compiler or interpreter is not installed.
            RuntimeError: the session was already started.
        """
        with self._lock:
            if self._started:
                raise RuntimeError("This run was already started; make a new RunSession.")
            self._started = True
        build_dir = Path(tempfile.mkdtemp(prefix="codetutor-build-"))
        try:
            plan = self._command or build_plan(
                self._language, self._main_file, self._workdir, build_dir
            )
        except BaseException:
            shutil.rmtree(build_dir, ignore_errors=True)
            with self._lock:
                self._started = False
            raise
        _running.add(self)
        threading.Thread(
            target=self._supervise, args=(plan, build_dir), name="runner-supervisor", daemon=True
        ).start()

    def write_stdin(self, text: str) -> None:
        """Send `text` to the program's stdin (queued; never blocks the caller)."""
        self._stdin.put(text.encode("utf-8"))

    def close_stdin(self) -> None:
        """Close the program's stdin: its next read sees end of input."""
        self._stdin.put(None)

    def stop(self) -> None:
        """End the program and every process it started (the whole tree); returns at once."""
        with self._lock:
            self._stop_requested = True
            if self._proc is not None and not self._step_done:
                if self._reason is None:
                    self._reason = "stopped"
                proctree.kill_tree(self._proc, self._marker)

    def wait(self, timeout: float | None = None) -> RunResult | None:
        """Wait for the run to end.

        Args:
            timeout: seconds to wait; None waits as long as it takes.

        Returns:
            The result, or None when it has not ended in time (or was never started).
        """
        if not self._started:
            return None
        return self._result if self._done.wait(timeout) else None

    # --- runner threads -------------------------------------------------------------------

    def _supervise(self, plan: LaunchPlan, build_dir: Path) -> None:
        """Run every step, publish the result and call `on_finished` (supervisor thread)."""
        self._build_dir = build_dir
        try:
            result = self._execute(plan)
        except Exception as exc:  # a bug here must still end the run with a message
            log.exception("runner failed")
            result = RunResult(
                None, "", "", False, False, False, 0.0, False, f"Could not run the program: {exc}"
            )
        finally:
            shutil.rmtree(build_dir, ignore_errors=True)
        self._result = result
        _running.discard(self)
        self._done.set()
        if self._on_finished is not None:
            try:
                self._on_finished(result)
            except Exception:
                log.exception("on_finished callback failed")

    def _execute(self, plan: LaunchPlan) -> RunResult:
        """Compile steps, then the program; the result of whichever ended the run."""
        compiling = 0.0
        for argv in plan.compile_steps:
            self._phase("compiling")
            step = self._run_step(argv, plan.env, COMPILE_TIME_LIMIT_S, interactive=False)
            if step.reason or step.launch_error or step.returncode != 0:
                return compile_result(step, self._output_limit)
            compiling += step.duration_s
        self._phase("running")
        step = self._run_step(plan.run_argv, plan.env, self._time_limit_s, interactive=True)
        return dataclasses.replace(
            run_result(step, self._time_limit_s, self._output_limit), compile_s=compiling
        )

    def _phase(self, phase: str) -> None:
        if self._on_phase is not None:
            try:
                self._on_phase(phase)
            except Exception:
                log.exception("on_phase callback failed")

    def _run_step(
        self, argv: Sequence[str], env: Mapping[str, str], limit_s: float, *, interactive: bool
    ) -> Step:
        """Run one child to its end, streaming its output, within `limit_s` and the output cap."""
        with self._lock:
            if self._stop_requested:
                return Step(None, "", "", "stopped", False, 0.0)
            self._reason, self._capped, self._out_bytes = None, False, 0
            started = time.monotonic()
            env = {**env, proctree.MARKER_VAR: self._marker}
            cpu_s = limit_s if interactive and self._wait_for_input else None
            caps = proctree.resource_caps(cpu_s) if interactive else []
            writable = [self._workdir, *([self._build_dir] if self._build_dir else [])]
            boxed = sandbox.wrap(argv, writable, caps)
            if boxed is not None and self._build_dir:
                env = {**env, "TMPDIR": str(self._build_dir)}  # /tmp is read-only inside
            try:
                proc = proctree.spawn(boxed or argv, self._workdir, env, stdin_pipe=interactive)
            except OSError as exc:
                return Step(None, "", "", None, False, 0.0, exc.strerror or str(exc))
            self._proc, self._step_done = proc, False
            if boxed is None and interactive:  # the learner's program (not a compiler)
                proctree.limit_resources(proc.pid)
            cpu_capped = boxed is not None and cpu_s is not None
            if cpu_s is not None and (cpu_capped or proctree.limit_cpu(proc.pid, limit_s)):
                limit_s = max(WAITING_CAP_S, limit_s * 12)
        parts: dict[str, list[str]] = {"stdout": [], "stderr": []}
        streams = ((proc.stdout, "stdout"), (proc.stderr, "stderr"))
        if os.name == "posix":
            # One reader for both pipes keeps stdout and stderr in the order they were written
            # far better than a thread per pipe.
            threads = [threading.Thread(target=self._read_both, args=(streams, parts), daemon=True)]
        else:  # pipes cannot be select()ed on Windows
            threads = [
                threading.Thread(target=self._read, args=(pipe, name, parts[name]), daemon=True)
                for pipe, name in streams
            ]
        if interactive:
            threads.append(threading.Thread(target=self._feed, args=(proc.stdin,), daemon=True))
        for thread in threads:
            thread.start()
        timer = threading.Timer(limit_s, self._on_time_limit, args=(proc,))
        timer.daemon = True
        timer.start()
        proctree.wait_exit(proc)
        with self._lock:
            self._step_done = True
        duration = time.monotonic() - started
        timer.cancel()
        proctree.kill_tree(proc, self._marker)  # whatever it left running in the background
        returncode = proc.wait()
        if boxed is not None:
            returncode = sandbox.program_returncode(returncode)
        proctree.reap_group(proc.pid)
        if interactive:
            self._stdin.put(_END)
        for thread in threads:
            thread.join(timeout=2.0)
        with self._lock:
            self._proc = None
            reason, capped = self._reason, self._capped
        if reason is None and returncode == -getattr(signal, "SIGXCPU", -1):
            reason = "timeout"  # the processor-time limit ended it
        out, err = "".join(parts["stdout"]), "".join(parts["stderr"])
        return Step(returncode, out, err, reason, capped, duration)

    def _on_time_limit(self, proc: subprocess.Popen[bytes]) -> None:
        """Timer thread: the step ran past its limit; end its tree."""
        with self._lock:
            if self._proc is proc and not self._step_done and self._reason is None:
                self._reason = "timeout"
                proctree.kill_tree(proc, self._marker)

    def _read(self, pipe: IO[bytes], stream: str, parts: list[str]) -> None:
        """Reader thread: pass chunks of `pipe` on as they arrive (not line by line)."""
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        fd = pipe.fileno()
        try:
            while True:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                self._emit(stream, decoder.decode(self._admit(data)), parts)
            self._emit(stream, decoder.decode(b"", final=True), parts)
        finally:
            pipe.close()

    def _read_both(
        self, streams: Sequence[tuple[IO[bytes], str]], parts: dict[str, list[str]]
    ) -> None:
        """Reader thread (POSIX): pass chunks of stdout and stderr on in arrival order."""
        selector = selectors.DefaultSelector()
        decoders = {}
        for pipe, name in streams:
            selector.register(pipe.fileno(), selectors.EVENT_READ, name)
            decoders[name] = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            while selector.get_map():
                for key, _events in selector.select():
                    name = key.data
                    try:
                        data = os.read(key.fd, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        selector.unregister(key.fd)
                        self._emit(name, decoders[name].decode(b"", final=True), parts[name])
                        continue
                    self._emit(name, decoders[name].decode(self._admit(data)), parts[name])
        finally:
            selector.close()
            for pipe, _name in streams:
                pipe.close()

    def _admit(self, data: bytes) -> bytes:
        """The part of `data` within the output cap; past it, end the program."""
        with self._lock:
            room = self._output_limit - self._out_bytes
            if len(data) <= room:
                self._out_bytes += len(data)
                return data
            self._out_bytes = self._output_limit
            self._capped = True
            if self._proc is not None and not self._step_done and self._reason is None:
                self._reason = "capped"
                proctree.kill_tree(self._proc, self._marker)
            return data[: max(room, 0)]

    def _emit(self, stream: str, text: str, parts: list[str]) -> None:
        """Keep `text` and hand it to `on_output`."""
        if not text:
            return
        parts.append(text)
        if self._on_output is not None:
            try:
                self._on_output(stream, text)
            except Exception:
                log.exception("on_output callback failed")

    def _feed(self, pipe: IO[bytes]) -> None:
        """Writer thread: copy queued input to the program's stdin until it ends or is closed."""
        fd = pipe.fileno()
        try:
            while True:
                item = self._stdin.get()
                if not isinstance(item, bytes):  # None (closed) or _END (program ended)
                    return
                view = memoryview(item)
                while view:
                    view = view[os.write(fd, view) :]
        except OSError:  # the program ended or closed its stdin
            return
        finally:
            pipe.close()


def run_program(
    language: str,
    main_file: Path,
    workdir: Path,
    *,
    stdin: str = "",
    time_limit_s: float = 10.0,
    output_limit_bytes: int = 1_000_000,
) -> RunResult:
    """Run a program to its end with `stdin` as its whole input (blocking).

    Raises:
        ToolchainMissingError: the language's compiler or interpreter is not installed.
    """
    session = RunSession(
        language,
        Path(main_file),
        Path(workdir),
        time_limit_s=time_limit_s,
        output_limit_bytes=output_limit_bytes,
    )
    return _run_to_end(session, stdin)


def run_command(
    argv: Sequence[str],
    workdir: Path,
    *,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
    time_limit_s: float = 10.0,
    output_limit_bytes: int = 1_000_000,
) -> RunResult:
    """Run a ready command to its end like `run_program` (limits, tree kill), blocking."""
    session = RunSession.from_command(
        argv,
        Path(workdir),
        env=env,
        time_limit_s=time_limit_s,
        output_limit_bytes=output_limit_bytes,
    )
    return _run_to_end(session, stdin)


def _run_to_end(session: RunSession, stdin: str) -> RunResult:
    """Start `session`, give it `stdin`, close stdin and wait for the result."""
    if stdin:
        session.write_stdin(stdin)
    session.close_stdin()
    session.start()
    result = session.wait()
    assert result is not None
    return result
