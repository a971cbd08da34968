"""A pytest plugin: a test that kills its process (a native crash in llama.cpp, say) fails with
the signal's name and its stack, and the rest of the run goes on.

The suite runs in a pytest-xdist worker process (`-n 1`), which xdist replaces when it dies.
Each worker sends faulthandler's report to a file of its own; when a worker dies, the
controller reads that file into the failed test's report.
"""

from __future__ import annotations

import faulthandler
import os
import shutil
import tempfile
from pathlib import Path

import pytest

_folder: Path | None = None
_made_here = False
SIGNALS = {
    "Segmentation fault": "SIGSEGV",
    "Illegal instruction": "SIGILL",
    "Bus error": "SIGBUS",
    "Floating-point exception": "SIGFPE",
    "Floating point exception": "SIGFPE",
    "Aborted": "SIGABRT",
}


def _report_dir() -> Path:
    """One folder per run, named by the controller and inherited by its workers."""
    global _made_here
    if "CODETUTOR_CRASH_DIR" not in os.environ:
        os.environ["CODETUTOR_CRASH_DIR"] = tempfile.mkdtemp(prefix="codetutor-crashes-")
        _made_here = True
    return Path(os.environ["CODETUTOR_CRASH_DIR"])


def pytest_unconfigure(config: pytest.Config) -> None:
    """In the controller that made the folder: remove it."""
    if _made_here and _folder is not None and not hasattr(config, "workerinput"):
        shutil.rmtree(_folder, ignore_errors=True)
        os.environ.pop("CODETUTOR_CRASH_DIR", None)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """In a worker: send faulthandler's report of a fatal signal to this worker's file."""
    global _folder
    _folder = _report_dir()
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return
    _folder.mkdir(parents=True, exist_ok=True)
    handle = open(_folder / f"{workerinput['workerid']}-{os.getpid()}.log", "w")  # noqa: SIM115
    config._crash_report_file = handle  # type: ignore[attr-defined]  # kept open for life
    faulthandler.enable(file=handle, all_threads=False)


def crash_summary(text: str) -> str:
    """The signal's name ("SIGSEGV") and the innermost stack lines of faulthandler's report."""
    lines = text.strip().splitlines()
    name = next((sig for words, sig in SIGNALS.items() if words in text), "a fatal signal")
    stack = [line.strip() for line in lines if line.strip().startswith("File ")][:6]
    return f"the test process died by {name}\n" + "\n".join(stack)


def pytest_handlecrashitem(crashitem: str, report: pytest.TestReport, sched: object) -> None:
    """In the controller: put the dead worker's signal and stack into the failed report."""
    reports = []
    for path in sorted(_folder.glob("*.log")) if _folder else []:
        text = path.read_text(errors="replace")
        if "Fatal Python error" in text:
            reports.append(text)
            path.unlink()
    if reports:
        report.longrepr = f"{report.longrepr}: {crash_summary(reports[-1])}"
