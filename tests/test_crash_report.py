"""The test harness: a test whose process dies by a signal fails with the signal's name and
the test's name, and the rest of the run still reports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent

CRASHING = """
import os, signal

def test_dies_natively():
    os.kill(os.getpid(), signal.SIGSEGV)

def test_after_the_crash():
    assert 1 + 1 == 2
"""


def test_a_native_crash_fails_one_test_and_the_run_goes_on(tmp_path):
    """SIGSEGV in one test: that test fails naming SIGSEGV; the next test passes."""
    (tmp_path / "test_native.py").write_text(CRASHING)
    env = dict(os.environ, PYTHONPATH=str(TESTS))
    env.pop("CODETUTOR_CRASH_DIR", None)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "crash_report",
            "-n",
            "1",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 1, text
    assert "test_dies_natively" in text and "SIGSEGV" in text, text
    assert "1 failed, 1 passed" in text, text
