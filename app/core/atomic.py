"""Atomic file writes: write a temporary file beside the target, fsync, then replace."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half.

    Args:
        path: the file to write.
        data: its new content.

    Raises:
        OSError: the folder is not writable, the disk is full, ... The old file is untouched.
    """
    target = Path(path)
    if target.exists() and not os.access(target, os.W_OK):
        # Replacing the file would succeed (it needs only the folder), but the file is marked
        # read-only: respect that, like any editor.
        raise PermissionError(13, "the file is read-only", str(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(OSError):  # the temporary file is 0600; the result is not
            mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process's umask: from /proc on Linux (reading it there changes nothing), else by
    setting it and putting it back."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write `text` atomically (see `atomic_write_bytes`)."""
    atomic_write_bytes(path, text.encode(encoding))
