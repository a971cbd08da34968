"""Tests of the guard job: verdicts arrive on the UI thread, the UI thread is never blocked, and
cancelled or replaced jobs emit nothing."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer

from app.core.lessons import Lesson, load_lesson
from app.paths import BUILTIN_LESSONS_DIR
from app.runner.guard import GuardVerdict
from app.ui.tutor.guard_job import GuardJob

pytestmark = pytest.mark.slow

LESSON = load_lesson(BUILTIN_LESSONS_DIR / "python-basics" / "01-print-and-variables")
assert isinstance(LESSON, Lesson)
SOLUTION = (LESSON.solution_dir / LESSON.main).read_text(encoding="utf-8")
SOLVING_REPLY = f"Here it is:\n\n```python\n{SOLUTION}```\n"
HANGING_REPLY = "```python\nwhile True:\n    pass\n```\n"


@pytest.fixture
def job(qtbot):
    """A guard job; its thread is waited for at the end so no test leaks one."""
    guard = GuardJob()
    yield guard
    guard.cancel()
    assert guard.wait(5.0)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """The learner's files: lesson 01's starter."""
    folder = tmp_path / "work"
    shutil.copytree(LESSON.starter_dir, folder)
    return folder


def _start(job: GuardJob, request_id: int, reply: str, files: Path, budget_s: float = 8.0) -> None:
    job.start(
        request_id,
        reply,
        (files / LESSON.main).read_text(encoding="utf-8"),
        LESSON.language,
        LESSON.main,
        files,
        LESSON.checks,
        LESSON.time_limit,
        budget_s,
    )


def test_the_verdict_arrives_on_the_ui_thread(qtbot, job, files):
    """sig_finished carries the request id and the verdict, and is emitted on the UI thread."""
    seen_on: list[threading.Thread] = []
    job.sig_finished.connect(lambda *_: seen_on.append(threading.current_thread()))
    with qtbot.waitSignal(job.sig_finished, timeout=10_000) as blocker:
        _start(job, 7, SOLVING_REPLY, files)
        assert job.busy
    request_id, verdict = blocker.args
    assert request_id == 7
    assert isinstance(verdict, GuardVerdict)
    assert verdict.solving == {0} and verdict.complete
    assert seen_on == [threading.main_thread()]
    assert not job.busy


def test_judging_never_blocks_the_ui_thread(qtbot, job, files):
    """While a hanging reply is judged, start() has returned at once and UI timers keep
    firing; the verdict comes when the budget runs out, marked incomplete."""
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(50)
    began = time.monotonic()
    with qtbot.waitSignal(job.sig_finished, timeout=10_000) as blocker:
        _start(job, 1, HANGING_REPLY, files, budget_s=1.0)
        assert time.monotonic() - began < 0.1
    timer.stop()
    _id, verdict = blocker.args
    assert verdict.complete is False and verdict.note
    assert len(ticks) >= 10  # about 20 ticks of 50 ms in the second it took
    assert max(b - a for a, b in zip(ticks, ticks[1:], strict=False)) < 0.5


def test_a_cancelled_job_emits_nothing(qtbot, job, files):
    """cancel() stops the judgement: no verdict is emitted and its thread ends soon."""
    _start(job, 3, HANGING_REPLY, files, budget_s=3.0)
    qtbot.wait(300)
    with qtbot.assertNotEmitted(job.sig_finished, wait=1000):
        job.cancel()
        assert not job.busy
        assert job.wait(1.0)


def test_a_newer_request_replaces_the_older(qtbot, job, files):
    """Starting a second request cancels the first: only the second's verdict is emitted."""
    results: list[tuple[int, GuardVerdict]] = []
    job.sig_finished.connect(lambda rid, verdict: results.append((rid, verdict)))
    _start(job, 1, HANGING_REPLY, files, budget_s=3.0)
    qtbot.wait(200)
    with qtbot.waitSignal(job.sig_finished, timeout=10_000):
        _start(job, 2, SOLVING_REPLY, files)
    qtbot.wait(300)  # a late verdict of request 1 would have arrived by now
    assert [rid for rid, _verdict in results] == [2]
    assert results[0][1].solving == {0}
