"""The command line: display checks, doctor, and the GUI's start-up probe."""

import subprocess
import sys

import pytest

from app.cli import build_parser, display_problem


def test_no_display_is_explained_in_plain_words():
    """Without DISPLAY on Linux the GUI explains instead of aborting in Qt."""
    msg = display_problem(env={}, platform="linux")
    assert msg and "graphical desktop" in msg


def test_missing_xcb_cursor_is_explained(monkeypatch):
    """With X11 but no libxcb-cursor0 the message says what to install."""
    import ctypes.util

    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    msg = display_problem(env={"DISPLAY": ":0"}, platform="linux")
    assert msg and "libxcb-cursor0" in msg and "libxcb-icccm4" in msg and "apt install" in msg


def test_offscreen_and_other_platforms_pass():
    """An explicit non-X11 Qt platform, or Windows/macOS, needs no check."""
    assert display_problem(env={"QT_QPA_PLATFORM": "offscreen"}, platform="linux") is None
    assert display_problem(env={}, platform="win32") is None


def test_parser_defaults_to_gui_and_knows_subcommands():
    """No subcommand means the GUI; doctor, bench and lessons check parse."""
    assert build_parser().parse_args([]).command is None
    assert build_parser().parse_args(["bench", "--json"]).json
    assert build_parser().parse_args(["lessons", "check", "x"]).paths == ["x"]


@pytest.mark.real_model
def test_doctor_reports_a_healthy_install():
    """`codetutor doctor` measures the starter model and exits 0."""
    out = subprocess.run(
        [sys.executable, "-m", "app", "doctor"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "tokens/s" in out.stdout and "Healthy." in out.stdout
    assert "GPU offload:" in out.stdout and "CPU features:" in out.stdout


def test_gui_starts_to_an_idle_window(tmp_path):
    """`python -m app` shows its window and reaches an idle event loop."""
    env = {"QT_QPA_PLATFORM": "offscreen", "CODETUTOR_HOME": str(tmp_path), "PATH": ""}
    import os

    env["PATH"] = os.environ.get("PATH", "")
    out = subprocess.run(
        [sys.executable, "-m", "app", "--startup-probe"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("READY")


def test_doctor_fails_with_the_reason_for_a_bad_model(tmp_path):
    """`codetutor doctor --model` on a non-GGUF file exits 1 and names the problem."""
    bad = tmp_path / "broken.gguf"
    bad.write_text("not a model")
    out = subprocess.run(
        [sys.executable, "-m", "app", "doctor", "--model", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    assert "broken.gguf" in out.stdout and "not a GGUF model file" in out.stdout


@pytest.mark.real_model
def test_doctor_names_the_signal_when_the_model_crashes(tmp_path):
    """With every model check dying by SIGSEGV, doctor exits 1 and names the signal."""
    import os

    from app.llm.probe_child import FAULT_ENV

    env = dict(os.environ, **{FAULT_ENV: "segv"})
    out = subprocess.run(
        [sys.executable, "-m", "app", "doctor"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "llama.cpp crashed (SIGSEGV while decoding)" in out.stdout
    assert "Unhealthy:" in out.stdout and "Traceback" not in out.stderr


QUIT_CHILD = r"""
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from app.cli import finish_gui
from app.core.models import starter_model_spec
from app.main import build_app
from app.settings import Settings
from fakes.backends import StuckBackend

app = QApplication([])
backend = StuckBackend()
parts = build_app(Settings(), backend=backend)
parts.service.abandon_on_shutdown = True  # as run_gui sets it
parts.window.show()
parts.service.load_model(starter_model_spec())

def close():
    backend.loading.wait(10)
    print("CLOSING", time.monotonic(), flush=True)
    parts.window.close()

QTimer.singleShot(200, close)
code = app.exec()
finish_gui(parts, code)
print("NOT REACHED: the process should have ended", flush=True)
"""


def test_quit_ends_within_two_seconds_while_the_worker_is_stuck_in_a_load(tmp_path):
    """Closing the window while a model load never returns ends the process within 2 s."""
    import os
    import time
    from pathlib import Path

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CODETUTOR_HOME=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).parent), env.get("PYTHONPATH", "")])
    child = subprocess.Popen(
        [sys.executable, "-c", QUIT_CHILD], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().split()
        assert line and line[0] == "CLOSING", line
        closing = float(line[1])
        rest = child.stdout.read()
        child.wait(timeout=30)
        ended = time.monotonic()
    finally:
        if child.poll() is None:
            child.kill()
    assert "NOT REACHED" not in rest
    assert ended - closing < 2.0
    assert child.returncode == 0


def test_doctor_reports_a_broken_chat_template_in_one_line(tmp_path, starter_spec):
    """A model whose Jinja chat template does not parse: doctor names it and exits 1."""
    import io

    from model_helpers import with_chat_template

    from app.doctor import doctor

    broken = tmp_path / "broken-template.gguf"
    with_chat_template(starter_spec.path, broken, "{% for %}")
    out = io.StringIO()
    assert doctor(out, model=str(broken)) == 1
    text = out.getvalue()
    assert "the model's chat template fails" in text and "Unhealthy:" in text
    assert text.count("Check:") == 1  # no other setting is tried for the file's own template


def test_gui_starts_when_its_folders_cannot_be_created(tmp_path):
    """A home whose folders cannot be made (read-only, or a file in the way): READY anyway."""
    import os

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CODETUTOR_HOME=str(blocker / "home"))
    out = subprocess.run(
        [sys.executable, "-m", "app", "--startup-probe"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("READY"), out.stdout + out.stderr


def test_a_file_named_on_the_command_line_is_opened(tmp_path):
    """`codetutor FILE` opens FILE in the editor (its name is in the window title)."""
    import os

    source = tmp_path / "greet.js"
    source.write_text("console.log('hi');\n")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", CODETUTOR_HOME=str(tmp_path / "home"))
    out = subprocess.run(
        [sys.executable, "-m", "app", "--startup-probe", str(source)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("READY") and "greet.js — Code Tutor" in out.stdout
