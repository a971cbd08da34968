"""Backends for tests that need llama.cpp to behave in a way the real one only does rarely."""

from __future__ import annotations

import threading
import time


class StuckBackend:
    """A backend whose load never returns, like a model load stuck in C (a hung driver, a
    file on a dead network share): nothing can interrupt it."""

    def __init__(self) -> None:
        self.info = None
        self.loading = threading.Event()

    def load(self, spec, report=None):  # noqa: ANN001 - the Backend protocol
        """Block for ever (in slices, so the test process can still exit)."""
        self.loading.set()
        while True:
            time.sleep(3600)

    def interrupt(self) -> None:
        """Nothing can interrupt a load stuck in C."""

    def unload(self) -> None:
        """Nothing is loaded."""
