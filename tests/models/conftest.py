"""Fixtures of the model-store tests: the fake hub on 127.0.0.1, catalog entries for its files,
a model library in a temporary folder, and a guard that fails any test opening a socket to
anything but this machine."""

from __future__ import annotations

import hashlib

import pytest
from models.fixtures import hub, no_network_beyond_loopback, starter_bytes
from models.helpers import BIG_BYTES

from app.store.hub import HubConfig
from app.store.library import ModelLibrary


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


__all__ = ["hub", "no_network_beyond_loopback", "starter_bytes"]
