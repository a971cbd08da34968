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
    with qtbot.waitSignal(tutor.sig_reply_finished, timeout=30_000) as done:
        tutor.ask("Say hello to a new programmer.")
        tutor.current.sig_chunk_received.connect(chunks.append)
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

    def on_chunk(_text):
        if loaded_service.last_stop_time is None:
            loaded_service.stop()

    handle = loaded_service.send_chat([ChatMessage("user", "Count to one thousand.")], LONG)
    handle.sig_chunk_received.connect(on_chunk)
    with qtbot.waitSignal(handle.sig_finished, timeout=30_000) as done:
        pass
    stats = done.args[0]
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
    handle = loaded_service.send_chat([ChatMessage("user", "Write a long story.")], LONG)
    with qtbot.waitSignal(handle.sig_chunk_received, timeout=30_000):
        pass
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
    """Sending a new chat request stops the previous one, which ends as stopped."""
    first = loaded_service.send_chat([ChatMessage("user", "Tell me a story.")], LONG)
    with qtbot.waitSignal(first.sig_chunk_received, timeout=30_000):
        pass
    second = loaded_service.send_chat([ChatMessage("user", "Hi")], GenerationParams(max_tokens=8))
    with qtbot.waitSignals([first.sig_finished, second.sig_finished], timeout=30_000):
        pass
    assert first.cancelled and first.stats.stopped
    assert not second.stats.stopped and second.stats.tokens >= 1


def test_stop_interrupts_a_long_prompt_evaluation(qtbot, loaded_service):
    """Stop pressed while the prompt is evaluated ends the request within a second, with no
    more than one token after the press, and the model answers again afterwards."""
    prompt = "Explain this code line by line.\n" + "total = total * 3 + 1  # grow\n" * 300
    handle = loaded_service.send_chat([ChatMessage("user", prompt)], GenerationParams(max_tokens=8))
    with qtbot.waitSignal(handle.sig_started, timeout=30_000):
        pass  # the worker has handed the ~3,000-token prompt to llama.cpp
    pressed = time.perf_counter()
    with qtbot.waitSignal(handle.sig_finished, timeout=5000) as done:
        loaded_service.stop()
    assert time.perf_counter() - pressed < 1.0
    stats = done.args[0]
    assert stats.stopped and len([t for t in stats.token_times if t > pressed]) <= 1
    again = loaded_service.send_chat([ChatMessage("user", "Hi")], GenerationParams(max_tokens=4))
    with qtbot.waitSignal(again.sig_finished, timeout=30_000) as done:
        pass
    assert done.args[0].tokens >= 1  # the model still answers after the abort


def test_closing_the_window_mid_reply_is_quick_and_clean(qtbot, starter_spec, tmp_path):
    """Closing the main window while a reply streams returns within a second."""
    from app.main import build_app
    from app.settings import Settings

    parts = build_app(Settings(), data_dir=tmp_path)
    qtbot.addWidget(parts.window)
    parts.window.show()
    with qtbot.waitSignal(parts.service.sig_model_loaded, timeout=30_000):
        parts.service.load_model(starter_spec)
    handle = parts.service.send_chat([ChatMessage("user", "Tell a long story.")], LONG)
    with qtbot.waitSignal(handle.sig_chunk_received, timeout=30_000):
        pass
    started = time.perf_counter()
    assert parts.window.close()
    assert time.perf_counter() - started < 1.0
    assert parts.service.thread.isFinished()


def test_a_reply_that_reaches_max_tokens_is_marked_truncated(qtbot, loaded_service):
    """With max_tokens=4 the real model's reply stops at 4 tokens and says it was cut
    (llama.cpp's finish_reason "length"), not that it was stopped."""
    params = GenerationParams(max_tokens=4, temperature=0.0)
    handle = loaded_service.send_chat([ChatMessage("user", "Count from 1 to 50.")], params)
    with qtbot.waitSignal(handle.sig_finished, timeout=30_000) as done:
        pass
    stats = done.args[0]
    assert stats.truncated and not stats.stopped
    assert 1 <= stats.tokens <= 4
    assert loaded_service.backend.last_finish_reason == "length"
