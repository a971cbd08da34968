"""The whole app with `server.url` set: the status bar names the server and its model, no
download welcome shows, a busy server's "queued" notice reaches the chat before the reply,
a cut reply keeps its words, and bad server settings fall back to this computer in words."""

from __future__ import annotations

import time

import pytest
from models.fixtures import no_network_beyond_loopback
from server_stubs import StubServer, chat_chunk, chat_stream, models_route

from app.llm.local import LocalBackend
from app.llm.server import ServerBackend
from app.main import backend_from_settings, build_app, start_default_model
from app.paths import BUILTIN_LESSONS_DIR
from app.serve_process import free_port
from app.settings import Settings
from app.ui.common.actions import ActionId

FIRST = "python-basics/01-print-and-variables"
__all__ = ["no_network_beyond_loopback"]  # the guard: nothing but 127.0.0.1 is reached


@pytest.fixture
def server():
    """A stub server listing "codellama-7b-instruct"; a test adds its chat route."""
    stub = StubServer({("GET", "/v1/models"): models_route("codellama-7b-instruct")}).start()
    yield stub
    stub.stop()


@pytest.fixture
def parts(qtbot, tmp_path, server):
    """The app with its tutor on the stub server, the server's model in use."""
    settings = Settings(user={"server.url": server.url, "server.read_timeout": 5.0})
    parts = build_app(settings, data_dir=tmp_path / "data", lesson_roots=[BUILTIN_LESSONS_DIR])
    qtbot.addWidget(parts.window)
    parts.window.show()
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=20_000):
        start_default_model(parts)
    yield parts
    parts.lessons.shutdown()
    parts.service.shutdown()


def _shown(parts) -> str:
    return " ".join(parts.window.chat.plain_text().split())


def test_the_status_bar_names_the_server_and_no_download_is_offered(parts):
    """The status bar says "Server: 127.0.0.1 — codellama-7b-instruct"; no first-run welcome
    offers a download, since the lab's server runs the model."""
    assert isinstance(parts.service.backend, ServerBackend)
    status = parts.window.status
    assert status.model_label.text() == "Server: 127.0.0.1 — codellama-7b-instruct"
    assert not status.device_label.isVisible()  # the name says where it runs
    assert parts.models.welcome is None


def test_a_busy_server_says_the_question_is_queued_then_answers(parts, server, qtbot):
    """429 with Retry-After 1 s, then a reply: while it waits, the notice above the chat
    says the question is queued; then the reply shows and the notice goes."""
    calls = []

    def route(handler):
        calls.append(time.monotonic())
        if len(calls) == 1:
            handler.send_json({"error": {"message": "busy"}}, 429, {"Retry-After": "1"})
            return
        chat_stream(["print ", "shows ", "text."])(handler)

    server.routes[("POST", "/v1/chat/completions")] = route
    assert parts.window.lesson_browser.select(FIRST)
    notice = parts.window.chat.notice
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=20_000):
        parts.window.actions.trigger(ActionId.EXPLAIN)
        qtbot.waitUntil(lambda: "queued" in notice.text(), timeout=10_000)
        assert notice.text() == (
            "The lab server is busy (429); your question is queued and is sent again in 1 s."
        )
        assert notice.isVisible()
    assert "print shows text." in _shown(parts)
    assert not notice.isVisible()


def test_a_reply_cut_by_the_server_keeps_its_words_and_says_so(parts, server, qtbot):
    """The server closes the stream mid-reply: the words stay and the chat says it was cut;
    the tutor can be asked again."""

    def route(handler):
        handler.start_events()
        handler.event(chat_chunk("The first "))
        handler.event(chat_chunk("half"))

    server.routes[("POST", "/v1/chat/completions")] = route
    assert parts.window.lesson_browser.select(FIRST)
    parts.window.actions.trigger(ActionId.EXPLAIN)
    qtbot.waitUntil(lambda: "cut" in _shown(parts), timeout=20_000)
    shown = _shown(parts)
    assert "The first half" in shown
    assert "The reply was cut: the server closed the stream before the end." in shown
    assert not parts.service.chat_busy
    assert parts.window.actions[ActionId.EXPLAIN].isEnabled()


def test_a_server_address_without_a_scheme_runs_the_model_here_and_says_why(tmp_path):
    """server.url "lab-gpu.local:8080/v1": the local backend is used, and the message says
    what to write instead."""
    backend, problem = backend_from_settings(Settings(user={"server.url": "lab-gpu:8080/v1"}))
    assert isinstance(backend, LocalBackend)
    assert problem is not None
    assert "has no scheme" in problem and "“http://lab-gpu:8080/v1”" in problem
    assert problem.endswith("The tutor runs its model on this computer instead.")


def test_an_unreachable_server_is_a_message_and_the_app_stays_usable(qtbot, tmp_path):
    """A server that refuses connections: the model fails to load with "connection
    refused", the editor still works, and the tutor's actions wait for a model."""
    port = free_port()  # nothing listens there
    settings = Settings(user={"server.url": f"http://127.0.0.1:{port}/v1"})
    parts = build_app(settings, data_dir=tmp_path / "data", lesson_roots=[BUILTIN_LESSONS_DIR])
    qtbot.addWidget(parts.window)
    warnings: list[str] = []
    parts.window.warn = lambda title, text: warnings.append(f"{title}: {text}")
    parts.window.ask_save_discard_cancel = lambda _title, _text: "discard"
    try:
        with qtbot.waitSignal(parts.service.sig_model_failed, timeout=20_000):
            start_default_model(parts)
        assert warnings and warnings[0].startswith("Cannot use the tutor's server: Nothing answers")
        assert "connection refused" in _shown(parts)
        parts.window.editor.setText("print('still here')\n")
        assert parts.window.editor.text() == "print('still here')\n"
    finally:
        parts.lessons.shutdown()
        parts.service.shutdown()


def test_the_model_manager_says_the_tutor_runs_on_the_server(parts):
    """Model ▸ Models… on a server: the top line names the server and its model, and no
    model here can be put to use."""
    dialog = parts.models.open_manager()
    try:
        assert dialog.advice_label.text().startswith(
            "The tutor runs on your lab's server (Server: 127.0.0.1 — codellama-7b-instruct)."
        )
        for row in range(dialog.table.rowCount()):
            dialog.table.selectRow(row)
            assert not dialog.buttons["Use"].isEnabled()
    finally:
        dialog.close()


def test_a_cut_reply_holding_the_solution_is_still_folded(parts, server, qtbot):
    """In a hints lesson, a reply cut mid-stream whose code already solves the exercise is
    checked like a whole one: the solving block stays folded."""
    solution = BUILTIN_LESSONS_DIR / "python-basics/01-print-and-variables/solution/main.py"
    code = solution.read_text()

    def route(handler):
        handler.start_events()
        handler.event(chat_chunk("Try this:\n\n```python\n" + code + "```\n\nAnd then"))

    server.routes[("POST", "/v1/chat/completions")] = route
    assert parts.window.lesson_browser.select(FIRST)
    with qtbot.waitSignal(parts.tutor.sig_guard_finished, timeout=30_000) as guarded:
        parts.window.actions.trigger(ActionId.EXPLAIN)
    shown = _shown(parts)
    assert guarded.args[1].solving == frozenset({0})
    assert "The reply was cut" in shown
    assert "Show it anyway?" in shown
    assert 'print(f"Next year I will be {age + 1}.")' not in shown
