"""Fixtures of the model-store tests: the fake hub on 127.0.0.1, catalog entries for its files,
a model library in a temporary folder, and a guard that fails any test opening a socket to
anything but this machine."""

from __future__ import annotations

import hashlib

import pytest
from models.fake_hub import FakeHub, NetworkGuard
from models.helpers import BIG_BYTES

from app.core.models import starter_model_path
from app.store.hub import HubConfig
from app.store.library import ModelLibrary


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


@pytest.fixture(scope="session")
def big_bytes() -> bytes:
    """A file of more than 10 MB, made at test time (not a model: checked by sha256 only)."""
    block = hashlib.sha256(b"codetutor").digest() * 2048
    return (block * (BIG_BYTES // len(block) + 1))[:BIG_BYTES]


@pytest.fixture
def library(tmp_path) -> ModelLibrary:
    """A model library whose store is a temporary folder (nothing shared)."""
    return ModelLibrary(tmp_path / "store")


@pytest.fixture
def online(hub) -> HubConfig:
    """The fake hub as the endpoint (the mirror setting), online."""
    return HubConfig(hub.url, offline=False)
