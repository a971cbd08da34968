"""The tutor's figures in `codetutor bench`: Explain's time to first token shown, and the
solution guard's time from a reply's end to its code shown or folded.

`action_ttft_ms`: Explain on a 200-line Python file, from the press (the action triggered)
to the chat panel's first paint holding the reply's words; the median of a few presses, the
first (a cold prompt cache) reported apart. `guard_ms`: `judge_reply` plus the panel's
verdict, on replies built from a Python lesson's reference solution, a fixed function and a
wrong answer; the median over rounds.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path

from app.core.lessons import Lesson, lessons_by_key
from app.paths import BUILTIN_LESSONS_DIR
from app.runner.guard import judge_reply

EXPLAIN_FILE_LINES = 200
GUARD_LESSONS = ("python-basics/01-print-and-variables", "python-basics/06-functions")


def _explain_file() -> str:
    """A 200-line Python file of small functions, the size of a learner's project."""
    lines: list[str] = []
    n = 0
    while len(lines) < EXPLAIN_FILE_LINES:
        lines += [
            f"def step_{n}(values):",
            f'    """Step {n}: add {n} to every value."""',
            f"    return [v + {n} for v in values]",
            "",
        ]
        n += 1
    return "\n".join(lines[:EXPLAIN_FILE_LINES]) + "\n"


def action_ttft(parts: object, presses: int = 4) -> dict[str, float]:
    """Press Explain on a 200-line file `presses` times; the time to the first words shown."""
    from PySide6.QtCore import QEventLoop, QTimer

    from app.ui.common.actions import ActionId

    window, tutor = parts.window, parts.tutor  # type: ignore[attr-defined]
    panel = window.chat
    window.actions.trigger(ActionId.NEW)
    window.editor.set_text(_explain_file())
    saved_params = tutor.params
    tutor.params = type(saved_params)(max_tokens=8, temperature=0.0)
    times: list[float] = []
    try:
        for _ in range(presses):
            loop = QEventLoop()
            shown: list[float] = []
            started = time.perf_counter()
            window.actions.trigger(ActionId.EXPLAIN)
            handle = tutor.current
            if handle is None:
                break
            base = panel.flush_count

            def on_paint(handle=handle, base=base, shown=shown, loop=loop) -> None:
                if panel.flush_count > base and panel.reply_text() and not shown:
                    shown.append(time.perf_counter())
                if handle.done:
                    loop.quit()

            timer = QTimer()
            timer.setInterval(1)
            timer.timeout.connect(on_paint)
            timer.start()
            QTimer.singleShot(120_000, loop.quit)
            loop.exec()
            timer.stop()
            if shown:
                times.append((shown[0] - started) * 1000)
    finally:
        tutor.params = saved_params
        tutor.clear()
    if not times:
        return {"action_ttft_ms": 0.0, "action_ttft_cold_ms": 0.0}
    warm = times[1:] or times
    return {
        "action_ttft_ms": round(statistics.median(warm), 1),
        "action_ttft_cold_ms": round(times[0], 1),
    }


def _lesson(key: str) -> Lesson:
    return lessons_by_key([BUILTIN_LESSONS_DIR])[key]


def _replies(lesson: Lesson) -> list[str]:
    solution = (lesson.solution_dir / lesson.main).read_text(encoding="utf-8")
    functions = "\n\n".join(p for p in solution.split("\n\n") if p.lstrip().startswith("def "))
    replies = [f"Here you are:\n\n```python\n{solution}```\n"]
    if functions:
        replies.append(f"The fixed function:\n\n```python\n{functions}\n```\n")
    replies.append("Try this idea:\n\n```python\nprint('something else')\n```\n")
    return replies


def guard_time(rounds: int = 5) -> dict[str, float]:
    """The guard's time from a reply's end to its verdict, on Python lessons."""
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="codetutor-bench-") as tmp:
        for key in GUARD_LESSONS:
            lesson = _lesson(key)
            workspace = Path(tmp) / lesson.id
            shutil.copytree(lesson.starter_dir, workspace)
            starter = (workspace / lesson.main).read_text(encoding="utf-8")
            for _ in range(rounds):
                for reply in _replies(lesson):
                    started = time.perf_counter()
                    judge_reply(
                        reply,
                        starter,
                        language=lesson.language,
                        main_file=lesson.main,
                        files_dir=workspace,
                        checks=lesson.checks,
                        time_limit_s=lesson.time_limit,
                    )
                    times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    return {
        "guard_ms": round(statistics.median(ordered), 1),
        "guard_ms_p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
    }
