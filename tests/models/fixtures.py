"""Fixtures both the model-store and the model-manager tests use: the guard that fails any
test reaching past 127.0.0.1, the fake hub, and the starter model's bytes. Each conftest
imports them, so pytest offers them in both folders."""

from __future__ import annotations

import pytest
from models.fake_hub import FakeHub, NetworkGuard

from app.core.models import starter_model_path


@pytest.fixture(autouse=True)
def no_network_beyond_loopback(monkeypatch):
    """Fail the test if anything connects to, or looks up, a host other than 127.0.0.1."""
    guard = NetworkGuard()
    guard.install(monkeypatch)
    yield guard
    if guard.violations:
        pytest.fail(f"the test tried to reach the network: {guard.violations}")


@pytest.fixture
def hub():
    """A fake Hugging Face hub on a free port of 127.0.0.1."""
    server = FakeHub().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def starter_bytes() -> bytes:
    """The starter model's GGUF bytes (98 MB)."""
    return starter_model_path().read_bytes()
