"""`codetutor doctor` with `server.url` set checks the tutor's server instead of a model file:
reached, its model, a short reply timed; a server that is not there is unhealthy, in words."""

from __future__ import annotations

import io

import pytest
from models.fixtures import no_network_beyond_loopback
from server_stubs import StubServer, chat_stream, models_route

from app.doctor import doctor
from app.serve_process import free_port

__all__ = ["no_network_beyond_loopback"]


def _site(tmp_path, url: str) -> None:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "settings.toml").write_text(f'[server]\nurl = "{url}"\n')


@pytest.fixture
def server():
    """A stub server with one model and a short streamed reply."""
    routes = {
        ("GET", "/v1/models"): models_route("codellama-7b-instruct"),
        ("POST", "/v1/chat/completions"): chat_stream(["Hello ", "there, ", "learner!"]),
    }
    stub = StubServer(routes).start()
    yield stub
    stub.stop()


def test_doctor_reports_the_server_its_model_and_a_timed_reply(tmp_path, server):
    """The report names the server and its model, says tokens are estimated (no tokenizer
    here), times a reply, and ends "Healthy." with exit 0."""
    _site(tmp_path, server.url)
    out = io.StringIO()
    assert doctor(out) == 0
    text = out.getvalue()
    assert f"Server:        {server.url}" in text
    assert (
        "Model:         codellama-7b-instruct (Server: 127.0.0.1 — codellama-7b-instruct)" in text
    )
    assert "tokens estimated" in text
    assert "Reply:         first words in" in text
    assert text.rstrip().endswith("Healthy.")


def test_doctor_says_a_server_that_is_not_there_is_unhealthy(tmp_path):
    """Nothing listening at server.url: "connection refused" and exit 1."""
    port = free_port()  # nothing listens there
    _site(tmp_path, f"http://127.0.0.1:{port}/v1")
    out = io.StringIO()
    assert doctor(out) == 1
    assert "connection refused" in out.getvalue()
    assert "Unhealthy: the tutor's server did not answer." in out.getvalue()
