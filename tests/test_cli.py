"""The command line: display checks, doctor, and the GUI's start-up probe."""

import subprocess
import sys

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
