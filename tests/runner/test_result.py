"""Tests for app.runner.result: the plain words a learner reads when a run ends."""

from __future__ import annotations

import signal

import pytest

from app.runner.result import Step, compile_result, run_result


def _step(returncode: int | None = 0, reason: str | None = None, **kw: object) -> Step:
    """A finished step with the given exit code or ending reason."""
    values: dict = {"stdout": "", "stderr": "", "capped": False, "duration_s": 0.1}
    values.update(kw)
    return Step(returncode, reason=reason, **values)


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (_step(0), "Your program finished."),
        (_step(3), "Your program stopped with an error (exit code 3)."),
        (_step(None, "timeout"), "Your program ran longer than 2.5 s and was stopped."),
        (
            _step(None, "capped", capped=True),
            "Your program printed more than 500 bytes and was stopped.",
        ),
        (_step(None, "stopped"), "You stopped the program."),
        (_step(-signal.SIGTERM), "Your program was ended by SIGTERM."),
        (
            _step(-signal.SIGFPE),
            "Your program crashed on an arithmetic error, often a division by zero (SIGFPE).",
        ),
        (
            _step(None, launch_error="Permission denied"),
            "Could not start your program: Permission denied.",
        ),
    ],
)
def test_run_messages(step: Step, message: str) -> None:
    """Each way a program can end has its own plain message."""
    result = run_result(step, time_limit_s=2.5, output_limit=500)
    assert result.message == message
    assert result.killed is (step.reason is not None)
    assert not result.compile_failed


def test_output_capped_after_a_normal_exit_keeps_the_exit_code() -> None:
    """Output past the cap that was already written when the program ended is still reported."""
    result = run_result(_step(0, capped=True), time_limit_s=10, output_limit=1_000_000)
    assert result.output_capped and not result.killed
    assert result.exit_code == 0
    assert result.message == "Your program printed more than 1 MB and was stopped."


@pytest.mark.parametrize(
    ("step", "message", "failed"),
    [
        (
            _step(1),
            "Your program did not compile. Read the first error: it names the file and line.",
            True,
        ),
        (_step(None, "timeout"), "The compiler ran longer than 60 s and was stopped.", True),
        (
            _step(None, "capped", capped=True),
            "The compiler printed more than 20 KB and was stopped.",
            True,
        ),
        (_step(None, "stopped"), "You stopped the program.", False),
        (
            _step(None, launch_error="No such file"),
            "Could not start the compiler: No such file.",
            True,
        ),
    ],
)
def test_compile_messages(step: Step, message: str, failed: bool) -> None:
    """A compile that did not succeed says why; stopping it is not a compile failure."""
    result = compile_result(step, output_limit=20_000)
    assert result.message == message
    assert result.compile_failed is failed


def test_time_limit_message_tells_how_long_it_really_ran() -> None:
    """A 2 s limit whose program the clock ended at 120 s says 120 s, not "longer than 2 s"."""
    from app.runner.result import Step, run_result

    clock = run_result(Step(None, "", "", "timeout", False, 120.2), 2.0, 1000)
    assert "ran for 120" in clock.message and "longer than 2" not in clock.message
    cpu = run_result(Step(None, "", "", "timeout", False, 2.1), 2.0, 1000)
    assert "ran longer than 2 s" in cpu.message
