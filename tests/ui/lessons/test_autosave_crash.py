"""Autosave survives a killed app: code typed steadily up to 2 s before `kill -9` is back on
restart (autosave waits for a pause, but never more than 2 s after the first unsaved key)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from app_child import APP_CHILD_PREAMBLE

from app.main import build_app
from app.paths import BUILTIN_LESSONS_DIR
from app.settings import load_settings

LESSON = "python-basics/02-input"
TEXT = "steady_typing_is_saved_while_it_goes_on = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]"
CHILD = (
    APP_CHILD_PREAMBLE
    + r"""
import time

TEXT = sys.argv[2]
typed = []

def start():
    parts.window.actions.trigger(ActionId.HINT)  # progress: one hint used
    parts.window.editor.gotoPos(0)
    keys.start()

def type_one_key():  # a key every 200 ms, never a pause long enough for the idle autosave
    char = TEXT[len(typed) % len(TEXT)]
    QTest.keyClicks(parts.window.editor, char)
    typed.append(char)
    print("KEY", len(typed), time.monotonic(), flush=True)

keys = QTimer()
keys.setInterval(200)
keys.timeout.connect(type_one_key)
QTimer.singleShot(100, start)
app.exec()
"""
)


def test_killed_app_keeps_code_typed_steadily_up_to_two_seconds_before(tmp_path, qtbot):
    """Typing steadily (a key every 200 ms) then kill -9: everything typed 2 s before is on disk."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CODETUTOR_HOME=str(tmp_path))
    env["CODETUTOR_SITE_CONFIG"] = str(tmp_path / "site")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, LESSON, TEXT], stdout=subprocess.PIPE, text=True, env=env
    )
    keys: list[tuple[int, float]] = []
    try:
        assert child.stdout is not None
        while len(keys) < 30:  # six seconds of steady typing
            _, count, when = child.stdout.readline().split()
            keys.append((int(count), float(when)))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    last = keys[-1][1]
    # Measured on the child's own clock, so a slow machine delays keys and saves alike; 1 s of
    # slack over the 2 s promise for the save's timer to fire.
    old = max(count for count, when in keys if when <= last - 3.0)
    saved = tmp_path / "data" / "workspaces" / "python-basics" / "02-input" / "main.py"
    assert old >= 10 and saved.read_text().startswith(TEXT[:old])
    progress = json.loads((tmp_path / "data" / "progress.json").read_text())
    assert progress["lessons"][LESSON]["hints_used"] == 1
    assert progress["lessons"][LESSON]["last_opened"] > 0

    settings = load_settings(
        tmp_path / "site" / "settings.toml", tmp_path / "config" / "settings.toml"
    )
    parts = build_app(settings, data_dir=tmp_path / "data", lesson_roots=[BUILTIN_LESSONS_DIR])
    qtbot.addWidget(parts.window)
    assert parts.lessons.restore_last_lesson()
    assert parts.window.lesson_browser.current_key() == LESSON
    assert parts.window.editor.text().startswith(TEXT[:old])
    assert parts.window.lesson_panel.hints_text()[0].startswith("Hint 1 of")
    parts.service.shutdown()
