"""Fixtures of the model manager and welcome tests: the fake hub, a model store on it, shared
jobs, and the guard that fails any test reaching past 127.0.0.1."""

from __future__ import annotations

import pytest
from models.fixtures import hub, no_network_beyond_loopback, starter_bytes
from models.helpers import REPO, entry_for

from app.core.catalog import Catalog
from app.core.hardware import GIB, Gpu, Hardware
from app.store.hub import HubConfig
from app.store.library import ModelLibrary
from app.store.manager import ModelStore
from app.ui.models.jobs import ModelJobs

GPU_8GB = Hardware(
    True, "CUDA", (Gpu("NVIDIA GeForce RTX 3070", 8 * GIB, 8 * GIB),), "nvidia-smi", 16 * GIB, 0
)


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


__all__ = ["hub", "no_network_beyond_loopback", "starter_bytes"]
