"""The sandbox for code the app runs (Run, Check, and later the tutor's own checks): on Linux
with bubblewrap, the program sees the whole system read-only, may write only its own folders,
has no network, cannot see the lessons' hidden solutions, the app's data or the app itself,
and everything it starts dies with it (its own PID namespace). Resource caps are set by
`prlimit` before bubblewrap starts, so they hold inside.

Where bubblewrap is missing or does not work, `wrap` returns None and programs run as before;
`status()` says so in words (doctor, check results).
"""

from __future__ import annotations

import functools
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

INSTALL_HINT = "install bubblewrap (Debian/Ubuntu: sudo apt install bubblewrap)"
_hidden: set[Path] = set()


def hide(paths: Iterable[Path]) -> None:
    """Keep `paths` (lesson folders with solutions, the app's data) out of every sandbox."""
    for path in paths:
        _hidden.add(Path(path).absolute())


def hidden() -> list[Path]:
    """The folders hidden from sandboxed programs, shortest first."""
    return sorted(_hidden, key=lambda p: len(p.parts))


@functools.cache
def _tools() -> tuple[str, str] | None:
    """(bwrap, prlimit) when both exist and a trivial sandbox starts here, else None."""
    if not sys.platform.startswith("linux"):
        return None
    bwrap, prlimit = shutil.which("bwrap"), shutil.which("prlimit")
    if not bwrap or not prlimit:
        return None
    try:
        probe = subprocess.run(
            [bwrap, *_BASE, "--", "true"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (bwrap, prlimit) if probe.returncode == 0 else None


_BASE = (
    "--ro-bind", "/", "/",
    "--dev", "/dev",
    "--proc", "/proc",
    "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
    "--die-with-parent",
)  # fmt: skip


def available() -> bool:
    """True when programs run in the sandbox here."""
    return _tools() is not None


def status() -> str:
    """One line for doctor and the check results."""
    if available():
        return (
            "bubblewrap: no network, only its own folders writable, lessons' solutions and "
            "the app's data hidden"
        )
    return f"none: programs run without a sandbox here; to add one, {INSTALL_HINT}"


def wrap(
    argv: Sequence[str],
    writable: Sequence[Path],
    limits: Sequence[tuple[str, int, int]] = (),
) -> list[str] | None:
    """`argv` inside the sandbox, or None where there is none.

    Args:
        argv: the command.
        writable: folders the program may write (its working folder, a build folder that
            is also its TMPDIR); its working folder is the first. Everything else, /tmp
            included, is read-only: a fresh /tmp would hide toolchains installed under it.
        limits: (prlimit option, soft, hard) caps such as ("--cpu", 2, 3).
    """
    tools = _tools()
    if tools is None:
        return None
    bwrap, prlimit = tools
    cmd = [prlimit, *(f"{opt}={soft}:{hard}" for opt, soft, hard in limits), "--", bwrap]
    cmd += _BASE
    for path in hidden():
        if path.is_dir():
            cmd += ["--tmpfs", str(path)]  # the writable folders are bound back in below
    for folder in writable:
        cmd += ["--bind", str(Path(folder).absolute()), str(Path(folder).absolute())]
    cmd += ["--chdir", str(Path(writable[0]).absolute()), "--", *argv]
    return cmd


def program_returncode(returncode: int) -> int:
    """The program's own exit status: bubblewrap reports a death by signal N as 128 + N."""
    if returncode > 128:
        try:
            return -signal.Signals(returncode - 128).value
        except ValueError:
            return returncode
    return returncode
