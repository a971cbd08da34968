"""Starts a child in its own process group and ends that whole group: no orphan survives.

On Linux the calling process becomes a "child subreaper" (prctl PR_SET_CHILD_SUBREAPER) the
first time it starts a child here, so grandchildren orphaned by a kill are re-parented to it
and reaped at once, instead of lingering until the system's init gets round to them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
MARKER_VAR = "CODETUTOR_RUN"
"""Environment variable carrying a run's id; every process the program starts inherits it."""
_subreaper_lock = threading.Lock()
_subreaper_tried = False


def spawn(
    argv: Sequence[str], cwd: Path, env: Mapping[str, str], *, stdin_pipe: bool
) -> subprocess.Popen[bytes]:
    """Start `argv` as the leader of a new process group (a new session on POSIX).

    Args:
        argv: the command.
        cwd: its working directory.
        env: its complete environment.
        stdin_pipe: give it a stdin pipe; otherwise stdin is empty (/dev/null).

    Returns:
        The process, with binary unbuffered stdout and stderr pipes.

    Raises:
        OSError: the program could not be started.
    """
    group: dict[str, object]
    if os.name == "posix":
        _become_subreaper()
        group = {"start_new_session": True}
    else:  # pragma: no cover - Windows
        flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        group = {"creationflags": flags | getattr(subprocess, "CREATE_NO_WINDOW", 0)}
    return subprocess.Popen(  # type: ignore[call-overload]
        list(argv),
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
        **group,
    )


def kill_tree(proc: subprocess.Popen[bytes], marker: str | None = None) -> None:
    """Kill `proc` and every process in its group at once (SIGKILL). Returns at once.

    With `marker`, also kill every process that carries it in its environment (Linux): that
    catches descendants that left the group with setsid() or a double fork.
    """
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        if marker:
            kill_marked(marker)
        return
    if proc.poll() is None:  # pragma: no cover - Windows
        subprocess.run(
            ["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True, check=False
        )
        with contextlib.suppress(OSError):
            proc.kill()


def kill_marked(marker: str) -> int:
    """Kill every process of this user whose environment has CODETUTOR_RUN=`marker` (Linux).

    Returns:
        How many were found.
    """
    if not sys.platform.startswith("linux"):
        return 0
    needle = b"\0" + f"{MARKER_VAR}={marker}".encode() + b"\0"
    me = os.getpid()
    found = 0
    with contextlib.suppress(OSError):
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    for name in locals().get("entries", []):
        pid = int(name)
        if pid == me:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                environ = b"\0" + fh.read()
        except OSError:
            continue
        if needle in environ + b"\0":
            found += 1
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)  # our orphan (we are the subreaper): reap it
    return found


def limit_cpu(pid: int, seconds: float) -> bool:
    """Cap the CPU time of process `pid` (and of what it forks later) at `seconds` (Linux).

    The kernel then ends it with SIGXCPU. Returns False where this is not possible.
    """
    try:
        import resource

        limit = max(1, int(seconds + 0.999))
        resource.prlimit(pid, resource.RLIMIT_CPU, (limit, limit + 1))
        return True
    except (ImportError, AttributeError, OSError, ValueError):
        return False


MEMORY_LIMIT_BYTES = 2 * 1024**3  # a learner's program: 2 GB of data is plenty
ADDRESS_SPACE_LIMIT_BYTES = 4 * 1024**3  # all its mappings, shared ones too (MAP_SHARED
# memory escapes the data cap); Java, Node and Mono start and run lessons within it
FILE_SIZE_LIMIT_BYTES = 256 * 1024**2  # no file it writes may grow past 256 MB
PROCESS_LIMIT = 4096  # lowers the per-user process cap, so a fork bomb stops early


def resource_caps(cpu_seconds: float | None = None) -> list[tuple[str, int, int]]:
    """The caps of `limit_resources` (and the CPU cap of `limit_cpu`) as (prlimit option,
    soft, hard), never above a limit already in force, for starting a program under them."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return []
    caps = [
        ("--data", resource.RLIMIT_DATA, MEMORY_LIMIT_BYTES),
        ("--as", resource.RLIMIT_AS, ADDRESS_SPACE_LIMIT_BYTES),
        ("--fsize", resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT_BYTES),
        ("--nproc", resource.RLIMIT_NPROC, PROCESS_LIMIT),
    ]
    out = []
    for option, which, cap in caps:
        soft, hard = resource.getrlimit(which)
        new_hard = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
        new_soft = cap if soft == resource.RLIM_INFINITY else min(soft, new_hard)
        out.append((option, new_soft, new_hard))
    if cpu_seconds is not None:
        limit = max(1, int(cpu_seconds + 0.999))
        out.append(("--cpu", limit, limit + 1))
    return out


def limit_resources(pid: int) -> bool:
    """Cap what process `pid` (and what it forks later) may use: memory, file size, processes.

    Linux only; a program that goes past a cap gets an error (MemoryError, "File too large",
    "Resource temporarily unavailable") instead of freezing the learner's computer.
    """
    try:
        import resource

        caps = (
            (resource.RLIMIT_DATA, MEMORY_LIMIT_BYTES),
            (resource.RLIMIT_AS, ADDRESS_SPACE_LIMIT_BYTES),
            (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT_BYTES),
            (resource.RLIMIT_NPROC, PROCESS_LIMIT),
        )
        for which, cap in caps:
            soft, hard = resource.prlimit(pid, which)
            unlimited = resource.RLIM_INFINITY
            new_hard = cap if hard == unlimited else min(hard, cap)
            new_soft = cap if soft == unlimited else min(soft, new_hard)
            resource.prlimit(pid, which, (new_soft, new_hard))
        return True
    except (ImportError, AttributeError, OSError, ValueError):
        return False


def wait_exit(proc: subprocess.Popen[bytes]) -> None:
    """Block until `proc` exits, without reaping it where the OS allows.

    Leaving the leader a zombie keeps its process-group id reserved, so a following `kill_tree`
    can only reach this program's leftovers, never an unrelated process that reused the id.
    """
    if os.name == "posix" and hasattr(os, "waitid"):
        with contextlib.suppress(ChildProcessError):
            os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        return
    proc.wait()  # pragma: no cover - macOS / Windows


def reap_group(pgid: int, timeout_s: float = 1.0) -> bool:
    """Kill what is left of process group `pgid` and reap those that became our children.

    Call after the group's leader was reaped.

    Args:
        pgid: the group id (the leader's pid).
        timeout_s: how long to wait for stragglers.

    Returns:
        True when no process of the group is left.
    """
    if os.name != "posix":  # pragma: no cover - Windows: taskkill /T already ended the tree
        return True
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return True
        except PermissionError:  # macOS: a group of zombies only
            pass
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-pgid, os.WNOHANG)[0]:
                pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def _become_subreaper() -> None:
    """Make orphaned descendants re-parent to this process (Linux only, tried once)."""
    global _subreaper_tried
    with _subreaper_lock:
        if _subreaper_tried:
            return
        _subreaper_tried = True
        if not sys.platform.startswith("linux"):
            return
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - unusual libc
            pass
