"""What a run of learner code ended with, and the plain words that tell the learner."""

from __future__ import annotations

import signal
from dataclasses import dataclass

COMPILE_TIME_LIMIT_S = 60.0
WAITING_CAP_S = 120.0  # wall-clock cap of a Run that waits for typed input (CPU time is limited)
"""How long a compile step (g++, javac, tsc, mcs) may take."""

STOPPED_MESSAGE = "You stopped the program."


@dataclass(frozen=True)
class RunResult:
    """How one run ended.

    Attributes:
        exit_code: the program's exit status (negative: ended by that signal); None when the
            runner ended it (stop, time limit, output cap) or it could not start. For a failed
            compile, the compiler's exit status.
        stdout: everything it printed to stdout (up to the output cap).
        stderr: everything it printed to stderr, or the compiler's messages.
        timed_out: it ran past the time limit and was ended.
        output_capped: it printed more than the output cap; the rest was dropped.
        killed: the runner ended it (stop(), time limit or output cap).
        duration_s: wall time of the run step (of the compile step when that failed).
        compile_failed: the compile step failed, so the program did not run.
        message: a plain-words summary for the learner.
        compile_s: wall time of the compile steps before the run step (0.0 when the
            language has none, or when the compile itself is `duration_s`).
    """

    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    output_capped: bool
    killed: bool
    duration_s: float
    compile_failed: bool
    message: str
    compile_s: float = 0.0


@dataclass
class Step:
    """What one child process (a compile or run step) did."""

    returncode: int | None
    stdout: str
    stderr: str
    reason: str | None  # why the runner ended it: "stopped", "timeout", "capped" or None
    capped: bool
    duration_s: float
    launch_error: str = ""


def compile_result(step: Step, output_limit: int) -> RunResult:
    """The result of a compile step that did not succeed.

    Args:
        step: what the compiler did.
        output_limit: the output cap in bytes (named in the message when it was hit).

    Returns:
        A result with `compile_failed` set (unless the learner stopped it) and a message.
    """
    if step.reason == "stopped":
        message = STOPPED_MESSAGE
    elif step.reason == "timeout":
        message = f"The compiler ran longer than {_seconds(COMPILE_TIME_LIMIT_S)} and was stopped."
    elif step.reason == "capped":
        message = f"The compiler printed more than {_size(output_limit)} and was stopped."
    elif step.launch_error:
        message = f"Could not start the compiler: {step.launch_error}."
    else:
        message = "Your program did not compile. Read the first error: it names the file and line."
    return RunResult(
        exit_code=step.returncode if step.reason is None else None,
        stdout=step.stdout,
        stderr=step.stderr,
        timed_out=step.reason == "timeout",
        output_capped=step.capped,
        killed=step.reason is not None,
        duration_s=step.duration_s,
        compile_failed=step.reason != "stopped",
        message=message,
    )


def run_result(step: Step, time_limit_s: float, output_limit: int) -> RunResult:
    """The result of the run step.

    Args:
        step: what the program did.
        time_limit_s: its time limit (named in the message when it was hit).
        output_limit: the output cap in bytes (named in the message when it was hit).

    Returns:
        The result with a plain-words message for the learner.
    """
    code = step.returncode if step.reason is None else None
    if step.reason == "stopped":
        message = STOPPED_MESSAGE
    elif step.reason == "timeout" and step.duration_s > 2 * time_limit_s + 1:
        # Processor time was capped at the limit, the clock much later (typing takes time):
        # the clock ended it, so say how long it really ran.
        message = (
            f"Your program ran for {_seconds(step.duration_s)} without finishing (while it may "
            f"wait for your typing, it gets up to {_seconds(WAITING_CAP_S)}) and was stopped."
        )
    elif step.reason == "timeout":
        message = f"Your program ran longer than {_seconds(time_limit_s)} and was stopped."
    elif step.capped:
        message = f"Your program printed more than {_size(output_limit)} and was stopped."
    elif step.launch_error:
        message = f"Could not start your program: {step.launch_error}."
    elif code == 0:
        message = "Your program finished."
    elif code is not None and code < 0:
        message = _signal_message(-code)
    else:
        message = f"Your program stopped with an error (exit code {code})."
    return RunResult(
        exit_code=code,
        stdout=step.stdout,
        stderr=step.stderr,
        timed_out=step.reason == "timeout",
        output_capped=step.capped,
        killed=step.reason is not None,
        duration_s=step.duration_s,
        compile_failed=False,
        message=message,
    )


def _signal_message(signum: int) -> str:
    """Plain words for a program that a signal ended (a crash)."""
    hints = {
        "SIGSEGV": "crashed: it used memory it does not own, often an index out of range or a "
        "bad pointer",
        "SIGFPE": "crashed on an arithmetic error, often a division by zero",
        "SIGABRT": "aborted, often on a failed assert or an uncaught exception",
    }
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    if name in hints:
        return f"Your program {hints[name]} ({name})."
    return f"Your program was ended by {name}."


def _seconds(value: float) -> str:
    """10.0 -> "10 s", 1.5 -> "1.5 s"."""
    return f"{value:g} s"


def _size(n_bytes: int) -> str:
    """1_000_000 -> "1 MB", 10_000 -> "10 KB", 500 -> "500 bytes"."""
    if n_bytes >= 1_000_000:
        return f"{n_bytes / 1_000_000:g} MB"
    if n_bytes >= 1_000:
        return f"{n_bytes / 1_000:g} KB"
    return f"{n_bytes} bytes"
