"""A native crash of the app while the model answers is survived: the next start says what
happened, runs the model in a safer setting, and the learner's code is there."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from app_child import APP_CHILD_PREAMBLE

from app.core.preflight import RunSettings
from app.llm.preflight import MARKER_FILE
from app.main import build_app, start_default_model
from app.paths import BUILTIN_LESSONS_DIR, resolve_paths
from app.settings import load_settings

pytestmark = pytest.mark.real_model  # the child and this process both load the model

LESSON = "python-basics/02-input"
TYPED = "kept_after_crash = 7"
CHILD = (
    APP_CHILD_PREAMBLE
    + r"""
from app.main import start_default_model
saved = paths.data_dir / "workspaces" / sys.argv[1] / "main.py"

def type_code():
    parts.window.editor.gotoPos(0)
    QTest.keyClicks(parts.window.editor, sys.argv[2])
    wait_for_autosave()

def wait_for_autosave():
    if saved.exists() and saved.read_text().startswith(sys.argv[2]):
        start_default_model(parts)
    else:
        QTimer.singleShot(100, wait_for_autosave)

def on_loaded(info):
    print("LOADED", info.settings.key, flush=True)
    parts.tutor.ask("Tell me a long story about a dragon who learns to code.")
    parts.tutor.current.sig_chunk_received.connect(on_chunk)

def on_chunk(*_):
    print("STREAMING", flush=True)
    parts.tutor.current.sig_chunk_received.disconnect(on_chunk)

parts.service.sig_model_loaded.connect(on_loaded)
QTimer.singleShot(100, type_code)
app.exec()
"""
)


def test_app_killed_by_sigsegv_mid_reply_restarts_safer_with_code_intact(qtbot):
    """SIGSEGV while a reply streams: next start says so, avoids that setting, code is back."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, LESSON, TYPED], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        loaded = child.stdout.readline().split()
        assert loaded[0] == "LOADED", loaded
        assert child.stdout.readline().strip() == "STREAMING"
        child.send_signal(signal.SIGSEGV)
        assert child.wait(timeout=30) == -signal.SIGSEGV
    finally:
        if child.poll() is None:
            child.kill()
    paths = resolve_paths()
    marker = json.loads((paths.cache_dir / MARKER_FILE).read_text())
    crashed = RunSettings.from_key(loaded[1])
    assert marker["settings"] == crashed.key and marker["phase"] == "answer"

    settings = load_settings(paths.site_config_file, paths.user_config_file)
    parts = build_app(settings, data_dir=paths.data_dir, lesson_roots=[BUILTIN_LESSONS_DIR])
    qtbot.addWidget(parts.window)
    assert parts.lessons.restore_last_lesson()
    assert parts.window.editor.text().startswith(TYPED)
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=120_000) as done:
        start_default_model(parts)
    info = done.args[0]
    shown = parts.window.chat.plain_text()
    assert "closed unexpectedly last time" in shown and "Your code was saved" in shown
    if crashed == RunSettings(0, False):  # it already ran in the safest setting
        assert "No safer setting is left" in shown
    else:
        assert info.settings != crashed and "now runs with" in shown
    assert not (paths.cache_dir / MARKER_FILE).exists()
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=60_000) as replied:
        parts.tutor.ask("Say hi.")
    assert replied.args[1].tokens >= 1
    parts.service.shutdown()
