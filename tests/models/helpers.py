"""Helpers of the model-store tests: catalog entries for the fake hub's files, waiting, and a
snapshot of a folder (to show nothing was written there)."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from models.fake_hub import COMMIT

from app.core.catalog import CatalogEntry, ModelShape

REPO = "test/Starter-GGUF"
BIG_BYTES = 12 * 1024 * 1024 + 12345
"""The "big" file: more than 10 MB, so a download spans many read chunks."""


def entry_for(stem: str, data: bytes, *, sha256: str | None | bool = True, **extra) -> CatalogEntry:
    """A catalog entry for `data` served as `stem`.gguf by the fake hub (sha256 True: the real
    one, None: unknown, a string: that one); `extra` overrides fields."""
    sha = hashlib.sha256(data).hexdigest() if sha256 is True else sha256 or None
    fields = dict(
        id=f"{stem}.Q4_1",
        model_id=stem,
        name=f"Test {stem}",
        family="instruct",
        parameters="135M",
        quant="Q4_1",
        file=f"{stem}.gguf",
        size=len(data),
        sha256=sha,
        repo=REPO,
        revision=COMMIT,
        chat_format=None,
        fim=False,
        context_length=8192,
        shape=ModelShape(30, 576, 9, 3),
        is_default=True,
    )
    fields.update(extra)
    return CatalogEntry(**fields)


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under `folder`, to show nothing was written there."""
    found = {}
    for root, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(root) / name
            st = path.stat()
            found[str(path.relative_to(folder))] = (st.st_size, st.st_mtime_ns)
    return found


def run_in_thread(target: Callable[[], object]) -> threading.Thread:
    """Start `target` on a daemon thread and return the thread."""
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def wait_for(condition: Callable[[], object], timeout_s: float) -> None:
    """Wait until `condition()` is true; fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.01)
