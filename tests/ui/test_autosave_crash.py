"""Autosave survives a killed app: the code typed before `kill -9` is back on restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from app.main import build_app
from app.paths import BUILTIN_LESSONS_DIR
from app.settings import load_settings

LESSON = "python-basics/02-input"
CHILD = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from app.main import build_app
from app.paths import BUILTIN_LESSONS_DIR, resolve_paths
from app.settings import load_settings

app = QApplication([])
paths = resolve_paths()
paths.ensure()
settings = load_settings(paths.site_config_file, paths.user_config_file)
parts = build_app(settings, data_dir=paths.data_dir, lesson_roots=[BUILTIN_LESSONS_DIR])
parts.window.show()
parts.window.lesson_browser.select(sys.argv[1])

def type_code():
    parts.window.sig_hint_requested.emit()  # progress: one hint used
    parts.window.editor.gotoPos(0)
    QTest.keyClicks(parts.window.editor, "typed_before_crash = 42")
    print("TYPED", flush=True)

QTimer.singleShot(100, type_code)
app.exec()
"""


def test_killed_app_keeps_code_typed_two_seconds_before(tmp_path, qtbot):
    """kill -9 two seconds after the last keystroke: the file on disk and the next start have it."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CODETUTOR_HOME=str(tmp_path))
    env["CODETUTOR_SITE_CONFIG"] = str(tmp_path / "site")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, LESSON], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.strip() == "TYPED"
        time.sleep(2.0)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    saved = tmp_path / "data" / "workspaces" / "python-basics" / "02-input" / "main.py"
    assert saved.read_text().startswith("typed_before_crash = 42")
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
    assert parts.window.editor.text().startswith("typed_before_crash = 42")
    assert parts.window.lesson_panel.hints_text()[0].startswith("Hint 1 of")
    parts.service.shutdown()
