"""Runs learner code in a child process (per language), checks it, and parses its errors."""

from app.runner.checks import CheckResult, CheckSpec, run_checks
from app.runner.errors import ErrorLocation, parse_errors
from app.runner.process import RunResult, RunSession, run_program
from app.runner.toolchains import Toolchain, ToolchainMissingError, find_toolchain

__all__ = [
    "CheckResult",
    "CheckSpec",
    "ErrorLocation",
    "RunResult",
    "RunSession",
    "Toolchain",
    "ToolchainMissingError",
    "find_toolchain",
    "parse_errors",
    "run_checks",
    "run_program",
]
