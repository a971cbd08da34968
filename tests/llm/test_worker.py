"""The LLM worker thread with the real starter model: streaming, Stop, quitting, stale ids."""

from __future__ import annotations

import time

from app.llm.backend import ChatMessage, GenerationParams
from app.llm.service import LlmState
from app.ui.tutor.chat_panel import ChatPanel
from app.ui.tutor.controller import TutorController

LONG = GenerationParams(max_tokens=400, temperature=0.0, ignore_eos=True)


def test_reply_streams_into_chat_panel(qtbot, loaded_service):
    """A real reply streams through the worker thread and shows up in the chat panel."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    tutor = TutorController(loaded_service, panel, params=GenerationParams(max_tokens=48))
    chunks: list[str] = []
    loaded_service.sig_chunk_generated.connect(lambda _id, text: chunks.append(text))
    with qtbot.waitSignal(tutor.sig_reply_finished, timeout=30_000) as done:
        tutor.ask("Say hello to a new programmer.")
    stats = done.args[1]
    reply = panel.reply_text()
    assert len(chunks) >= 1 and stats.tokens >= 2
    assert reply.strip() and reply == "".join(chunks)
    shown = " ".join(panel.plain_text().split())
    assert " ".join(reply.split()[:3]) in shown
    assert "Say hello to a new programmer." in shown
    assert tutor.conversation.turns[-1].content == reply
    assert loaded_service.state is LlmState.READY


def test_stop_ends_generation_within_one_token(qtbot, loaded_service):
    """After Stop is pressed, the worker generates at most one more token."""
    finished = []

    def on_chunk(_id, _text):
        if len(finished) == 0 and loaded_service.last_stop_time is None:
            loaded_service.stop()

    loaded_service.sig_chunk_generated.connect(on_chunk)
    loaded_service.sig_generation_finished.connect(lambda _id, s: finished.append(s))
    with qtbot.waitSignal(loaded_service.sig_generation_finished, timeout=30_000):
        loaded_service.send_chat([ChatMessage("user", "Count to one thousand.")], LONG)
    stats = finished[0]
    pressed = loaded_service.last_stop_time
    after_press = [t for t in stats.token_times if t > pressed]
    assert stats.stopped
    assert len(after_press) <= 1
    assert stats.tokens < LONG.max_tokens


def test_backend_yields_nothing_once_cancelled(loaded_service, starter_spec):
    """The backend's stream checks the Stop flag per token and yields nothing after it."""
    import threading

    from app.llm.local import LocalBackend

    backend = LocalBackend()
    backend.load(starter_spec)
    cancel = threading.Event()
    pieces = []
    for piece in backend.stream_chat([ChatMessage("user", "Count to 100.")], LONG, cancel):
        pieces.append(piece)
        if len(pieces) == 4:
            cancel.set()
    backend.unload()
    assert len(pieces) == 4


def test_quit_while_streaming_exits_cleanly(qtbot, loaded_service):
    """Shutting down mid-reply ends the worker thread within a second, without errors."""
    with qtbot.waitSignal(loaded_service.sig_chunk_generated, timeout=30_000):
        loaded_service.send_chat([ChatMessage("user", "Write a long story.")], LONG)
    started = time.perf_counter()
    assert loaded_service.shutdown(timeout_ms=1000)
    assert time.perf_counter() - started < 1.0
    assert loaded_service.thread.isFinished()


def test_chunks_of_a_stale_request_are_dropped(qtbot):
    """The chat panel ignores chunks whose request id is not the active one."""
    panel = ChatPanel()
    qtbot.addWidget(panel)
    panel.begin_reply(7)
    panel.append_chunk(6, "old reply ")
    panel.append_chunk(7, "new reply")
    panel.end_reply(7)
    assert panel.reply_text() == "new reply"
    assert "old reply" not in panel.plain_text()


def test_new_question_stops_the_previous_reply(qtbot, loaded_service):
    """Sending a new request sets the previous request's Stop flag."""
    with qtbot.waitSignal(loaded_service.sig_chunk_generated, timeout=30_000):
        first = loaded_service.send_chat([ChatMessage("user", "Tell me a story.")], LONG)
    first_request = loaded_service.current_request
    ids = []
    loaded_service.sig_generation_finished.connect(lambda rid, _s: ids.append(rid))
    second = loaded_service.send_chat([ChatMessage("user", "Hi")], GenerationParams(max_tokens=8))
    qtbot.waitUntil(lambda: second in ids, timeout=30_000)
    assert first_request.cancel.is_set() and first in ids


def test_stop_interrupts_a_long_prompt_evaluation(qtbot, loaded_service):
    """Stop during the prompt's evaluation (before any token) ends the request at once."""
    prompt = "Explain this code line by line.\n" + "total = total * 3 + 1  # grow\n" * 300
    finished = []
    loaded_service.sig_generation_finished.connect(lambda _id, s: finished.append(s))
    loaded_service.send_chat([ChatMessage("user", prompt)], GenerationParams(max_tokens=8))
    qtbot.wait(300)  # the evaluation of ~3,000 tokens takes seconds on 2 CPU cores
    pressed = time.perf_counter()
    loaded_service.stop()
    qtbot.waitUntil(lambda: bool(finished), timeout=5000)
    assert time.perf_counter() - pressed < 1.0
    assert finished[0].stopped and finished[0].tokens == 0
    with qtbot.waitSignal(loaded_service.sig_generation_finished, timeout=30_000) as again:
        loaded_service.send_chat([ChatMessage("user", "Hi")], GenerationParams(max_tokens=4))
    assert again.args[1].tokens >= 1  # the model still answers after the abort


def test_closing_the_window_mid_reply_is_quick_and_clean(qtbot, starter_spec, tmp_path):
    """Closing the main window while a reply streams returns within a second."""
    from app.main import build_app
    from app.settings import Settings

    parts = build_app(Settings(), data_dir=tmp_path)
    qtbot.addWidget(parts.window)
    parts.window.show()
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=30_000):
        parts.service.load_model(starter_spec)
    with qtbot.waitSignal(parts.service.sig_chunk_generated, timeout=30_000):
        parts.service.send_chat([ChatMessage("user", "Tell a long story.")], LONG)
    started = time.perf_counter()
    assert parts.window.close()
    assert time.perf_counter() - started < 1.0
    assert parts.service.thread.isFinished()
