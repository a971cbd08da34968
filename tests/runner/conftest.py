"""Fixtures of the runner tests."""

from __future__ import annotations

import pytest

from app.runner import sandbox


@pytest.fixture
def no_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run programs without the sandbox (tests of the fallback, which read the program's own
    process ids: inside the sandbox's PID namespace those differ from the host's)."""
    monkeypatch.setattr(sandbox, "_tools", lambda: None)
