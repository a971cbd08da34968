"""Fixtures of the model manager and welcome tests: the fake hub, a model store on it, shared
jobs, and the guard that fails any test reaching past 127.0.0.1."""

from __future__ import annotations

import pytest
from models.fake_hub import FakeHub, NetworkGuard
from models.helpers import REPO, entry_for

from app.core.catalog import Catalog
from app.core.hardware import GIB, Gpu, Hardware
from app.core.models import starter_model_path
from app.store.hub import HubConfig
from app.store.library import ModelLibrary
from app.store.manager import ModelStore
from app.ui.models.jobs import ModelJobs

GPU_8GB = Hardware(
    True, "CUDA", (Gpu("NVIDIA GeForce RTX 3070", 8 * GIB, 8 * GIB),), "nvidia-smi", 16 * GIB, 0
)


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
    """A fake Hugging Face hub on 127.0.0.1."""
    server = FakeHub().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def starter_bytes() -> bytes:
    """The starter model's GGUF bytes."""
    return starter_model_path().read_bytes()


@pytest.fixture
def tiny(hub, starter_bytes):
    """A catalog entry "Tiny Instruct" for the starter GGUF, served by the fake hub."""
    hub.add(REPO, "tiny.gguf", starter_bytes)
    return entry_for("tiny", starter_bytes, name="Tiny Instruct", chat_format="llama-2")


@pytest.fixture
def store(tmp_path, hub, tiny) -> ModelStore:
    """A model store in a temporary folder whose catalog is `tiny`, downloading from the hub."""
    return ModelStore(
        ModelLibrary(tmp_path / "store"), HubConfig(hub.url), 4096, None, Catalog((tiny,))
    )


@pytest.fixture
def jobs(qtbot, store):
    """The background jobs on `store`, stopped after the test."""
    made = ModelJobs(store)
    yield made
    made.shutdown()
