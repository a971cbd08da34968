"""The solution guard: whether a tutor reply's code is a full solution of the lesson, found by
running the lesson's own checks on the programs built from the reply, within a time budget.

Threads: `judge_reply` blocks its caller (run it off the UI thread) and starts one helper thread
per check it runs, so it can return on time when cancelled or out of budget. A run it stops
waiting for is ended by the runner's own limits (at most the time that was left), in a copy of
the files, so nothing of the learner's is touched.
"""

from __future__ import annotations

import enum
import logging
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.core.lessons.model import CheckSpec
from app.core.tutor.guard import Candidate, candidates, code_blocks
from app.runner.checks import run_checks
from app.runner.toolchains import ToolchainMissingError, find_toolchain

log = logging.getLogger(__name__)

OUT_OF_TIME_NOTE = "The tutor's code could not be checked in time, so it is shown as it is."
CANCELLED_NOTE = "The check of the tutor's code was stopped, so it is shown as it is."
FAILED_NOTE = "The tutor's code could not be checked ({why}), so it is shown as it is."

MIN_RUN_S = 0.2
"""A check is not started with less time than this left: it could not even start."""
GRACE_S = 0.5
"""How long past the budget a started run is waited for (starting and ending it take time)."""
PYTHON_PRECHECK_LIMIT = 200_000
"""Python candidates up to this many characters are compiled here first: one with a syntax
error cannot pass a check, so it is not run."""

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".git", ".DS_Store")
_POLL_S = 0.05


@dataclass(frozen=True)
class GuardVerdict:
    """What the guard found in one reply.

    Attributes:
        solving: the indexes of the reply's code blocks that are part of a full solution (a
            program built from them passed every check of the lesson).
        checked: how many candidate programs were run.
        complete: False when the time budget ran out, the judgement was cancelled or the
            checks could not run, before every candidate was judged.
        seconds: how long the judgement took.
        note: plain words for the learner when not complete, else "".
    """

    solving: frozenset[int]
    checked: int
    complete: bool
    seconds: float
    note: str


class _Outcome(enum.Enum):
    """How running a candidate's checks ended."""

    PASSED = "passed"
    FAILED = "failed"
    OUT_OF_TIME = "out of time"
    CANCELLED = "cancelled"
    ERROR = "error"


def judge_reply(
    reply: str,
    learner_code: str,
    *,
    language: str,
    main_file: str,
    files_dir: Path,
    checks: Sequence[CheckSpec],
    time_limit_s: float,
    budget_s: float = 8.0,
    cancel: threading.Event | None = None,
) -> GuardVerdict:
    """Run the lesson's checks on every program built from a reply's code blocks.

    Each candidate (see `app.core.tutor.guard.candidates`) is written as `main_file` into a
    temporary copy of `files_dir` and checked there with `run_checks`, one check at a time,
    stopping at its first failing check. A candidate holding a block already known to be part
    of a solution is not run (the other blocks are not needed for it), nor a Python one with a
    syntax error.

    Args:
        reply: the tutor's whole reply (Markdown).
        learner_code: the learner's main file as it is now.
        language: the lesson's language id.
        main_file: the lesson's main file, relative to `files_dir`.
        files_dir: the learner's files (never modified).
        checks: the lesson's checks.
        time_limit_s: the lesson's time limit per run.
        budget_s: the most seconds the whole judgement may take; no run is started that could
            not end within what is left.
        cancel: when set, the judgement stops as soon as it can (returns incomplete).

    Returns:
        The verdict; `complete` is True only when every candidate was judged.
    """
    started = time.monotonic()
    deadline = started + budget_s

    def verdict(solving: set[int], checked: int, note: str = "") -> GuardVerdict:
        seconds = time.monotonic() - started
        return GuardVerdict(frozenset(solving), checked, not note, seconds, note)

    found = candidates(code_blocks(reply), learner_code, language) if reply else []
    ordered = order_checks(checks)
    if not found or not ordered:
        return verdict(set(), 0)
    toolchain = find_toolchain(language)
    if not toolchain.available:
        return verdict(set(), 0, toolchain.missing_message)
    solving: set[int] = set()
    checked = 0
    with tempfile.TemporaryDirectory(prefix="codetutor-guard-") as tmp:
        work = Path(tmp) / "work"
        try:
            shutil.copytree(files_dir, work, ignore=_IGNORED, ignore_dangling_symlinks=True)
        except (OSError, shutil.Error) as exc:
            why = f"its files could not be copied: {exc}"
            return verdict(set(), 0, FAILED_NOTE.format(why=why))
        target = work / main_file
        for candidate in found:
            if solving.intersection(candidate.blocks):
                continue  # it holds a block already known to solve: the others add nothing
            if cancel is not None and cancel.is_set():
                return verdict(solving, checked, CANCELLED_NOTE)
            if not _may_pass(candidate, language, main_file):
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(candidate.code, encoding="utf-8")
            except OSError as exc:
                return verdict(solving, checked, FAILED_NOTE.format(why=str(exc)))
            checked += 1
            outcome, why = _run_all(
                language, main_file, work, ordered, time_limit_s, deadline, cancel
            )
            log.debug("guard: %s -> %s", candidate.description, outcome.value)
            if outcome is _Outcome.PASSED:
                solving.update(candidate.blocks)
            elif outcome is _Outcome.OUT_OF_TIME:
                return verdict(solving, checked, OUT_OF_TIME_NOTE)
            elif outcome is _Outcome.CANCELLED:
                return verdict(solving, checked, CANCELLED_NOTE)
            elif outcome is _Outcome.ERROR:
                return verdict(solving, checked, why)
    return verdict(solving, checked)


def order_checks(checks: Sequence[CheckSpec]) -> list[CheckSpec]:
    """The checks in the order that rejects a wrong program soonest and cheapest.

    Output checks first (they tell most programs apart), then test files, then output checks
    matched by a regular expression (one more child process each), then "it runs" checks
    (almost any program passes those). The order among checks of one kind is kept.
    """

    def rank(check: CheckSpec) -> int:
        if check.kind == "output":
            return 2 if check.match == "regex" else 0
        return {"test": 1, "runs": 3}.get(check.kind, 0)

    return sorted(checks, key=rank)


def _may_pass(candidate: Candidate, language: str, main_file: str) -> bool:
    """False when the candidate surely fails every check: Python that does not compile.

    Only where the learner's programs run with this very interpreter (not in a bundle).
    """
    if language != "python" or getattr(sys, "frozen", False):
        return True
    if len(candidate.code) > PYTHON_PRECHECK_LIMIT:
        return True
    try:
        compile(candidate.code, main_file, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    except (RecursionError, MemoryError):  # too deep to tell here: let the check tell
        return True
    return True


def _run_all(
    language: str,
    main_file: str,
    work: Path,
    checks: Sequence[CheckSpec],
    time_limit_s: float,
    deadline: float,
    cancel: threading.Event | None,
) -> tuple[_Outcome, str]:
    """Run `checks` on the program in `work` one by one until one fails."""
    for check in checks:
        left = deadline - time.monotonic()
        if left < MIN_RUN_S:
            return _Outcome.OUT_OF_TIME, ""
        limit = min(time_limit_s, left)
        began = time.monotonic()
        outcome, why = _run_one(language, main_file, work, check, limit, deadline, cancel)
        if outcome is _Outcome.FAILED:
            # A run ended by a time limit cut down to the budget says nothing about the code.
            cut_short = limit < time_limit_s and time.monotonic() - began >= limit * 0.9
            return (_Outcome.OUT_OF_TIME if cut_short else _Outcome.FAILED), ""
        if outcome is not _Outcome.PASSED:
            return outcome, why
    return _Outcome.PASSED, ""


def _run_one(
    language: str,
    main_file: str,
    work: Path,
    check: CheckSpec,
    limit: float,
    deadline: float,
    cancel: threading.Event | None,
) -> tuple[_Outcome, str]:
    """Run one check in a helper thread, waiting while not cancelled and not past the budget.

    Returns:
        PASSED or FAILED when the check ran to its end, else the outcome that stopped the
        wait; with the note for ERROR.
    """
    box: dict[str, object] = {}
    done = threading.Event()

    def work_thread() -> None:
        try:
            box["results"] = run_checks(language, main_file, work, [check], time_limit_s=limit)
        except ToolchainMissingError as exc:
            box["error"] = str(exc)
        except Exception as exc:  # a runner bug must end the judgement in words
            log.exception("guard: a check could not run")
            box["error"] = FAILED_NOTE.format(why=str(exc) or type(exc).__name__)
        finally:
            done.set()

    threading.Thread(target=work_thread, name="guard-check", daemon=True).start()
    give_up = deadline + GRACE_S
    while not done.is_set():
        if cancel is not None and cancel.is_set():
            return _Outcome.CANCELLED, ""
        wait = give_up - time.monotonic()
        if wait <= 0:
            return _Outcome.OUT_OF_TIME, ""
        done.wait(min(wait, _POLL_S) if cancel is not None else wait)
    if "error" in box:
        return _Outcome.ERROR, str(box["error"])
    results = box.get("results")
    passed = isinstance(results, list) and all(r.passed for r in results)
    return (_Outcome.PASSED if passed else _Outcome.FAILED), ""
