"""The LLM service's lanes and request handles, on the scripted backend (deterministic pace)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.backends import ScriptedBackend

from app.core.models import ModelSpec
from app.llm.backend import ChatMessage, GenerationParams
from app.llm.requests import CompleteRequest, InfillRequest
from app.llm.service import LlmService, LlmState

SPEC = ModelSpec(Path("scripted.gguf"), "Scripted model")
LONG_REPLY = " ".join(f"word{i}" for i in range(200))
PARAMS = GenerationParams(max_tokens=300)


@pytest.fixture
def backend():
    """A paced scripted backend: each token waits for the test to release it."""
    return ScriptedBackend(LONG_REPLY, paced=True)


@pytest.fixture
def service(qtbot, backend):
    """A service on the scripted backend, its model loaded."""
    svc = LlmService(backend)
    with qtbot.waitSignal(svc.sig_model_loaded, timeout=5000):
        svc.load_model(SPEC)
    yield svc
    backend.run_free()
    svc.shutdown()


def _chat(service, text="Hello"):
    return service.send_chat([ChatMessage("user", text)], PARAMS)


def test_each_handle_gets_only_its_own_chunks_and_one_end(qtbot, service, backend):
    """A handle's chunks are its request's, in order, and exactly one end signal follows."""
    backend.run_free()
    first = _chat(service, "one")
    texts: list[str] = []
    first.sig_chunk_received.connect(texts.append)
    with qtbot.waitSignal(first.sig_finished, timeout=5000) as done:
        pass
    assert "".join(texts) == LONG_REPLY
    assert done.args[0].tokens == 200 and not done.args[0].stopped
    with qtbot.assertNotEmitted(first.sig_failed), qtbot.assertNotEmitted(first.sig_finished):
        second = _chat(service, "two")
        with qtbot.waitSignal(second.sig_finished, timeout=5000):
            pass
    assert first.done and second.done


def test_an_infill_waits_for_the_chat_and_never_cancels_it(qtbot, service, backend):
    """A completion request while the tutor answers leaves the answer running to its end."""
    chat = _chat(service)
    with qtbot.waitSignal(chat.sig_started, timeout=5000):
        pass
    infill = service.submit(InfillRequest("def add(a, b):\n    ", "\n", "python"))
    assert not chat.cancelled and service.chat_busy
    backend.run_free()
    with qtbot.waitSignals([chat.sig_finished, infill.sig_finished], timeout=5000):
        pass
    assert not chat.stats.stopped and chat.stats.tokens == 200
    assert not infill.stats.stopped and [kind for kind, _ in backend.calls] == ["chat", "infill"]


def test_a_newer_completion_replaces_the_older_one(qtbot, service, backend):
    """Of two completion requests in a row, the older ends stopped without reaching the
    model, and the newer is answered."""
    chat = _chat(service)
    with qtbot.waitSignal(chat.sig_started, timeout=5000):
        pass  # the worker is busy, so both completions wait in its queue
    older = service.submit(InfillRequest("x = ", "", "python"))
    newer = service.submit(CompleteRequest("y = "))
    assert older.cancelled and not newer.cancelled and not chat.cancelled
    backend.run_free()
    with qtbot.waitSignals([older.sig_finished, newer.sig_finished], timeout=5000):
        pass
    assert older.stats.stopped and older.stats.tokens == 0
    assert newer.stats.tokens > 0
    assert [kind for kind, _ in backend.calls] == ["chat", "complete"]


def test_a_new_chat_stops_the_old_chat_which_ends_stopped(qtbot, service, backend):
    """Chat replaces chat: the first reply ends as stopped before the second begins."""
    first = _chat(service, "first")
    with qtbot.waitSignal(first.sig_started, timeout=5000):
        pass
    backend.release(3)
    second = _chat(service, "second")
    assert first.cancelled
    backend.run_free()
    with qtbot.waitSignals([first.sig_finished, second.sig_finished], timeout=5000, order="strict"):
        pass
    assert first.stats.stopped and first.stats.tokens <= 4
    assert not second.stats.stopped


def test_stop_ends_the_reply_within_one_token(qtbot, service, backend):
    """After Stop, no more than one token arrives, and the reply ends as stopped."""
    chat = _chat(service)
    texts: list[str] = []
    chat.sig_chunk_received.connect(texts.append)
    backend.release(5)
    qtbot.waitUntil(lambda: bool(texts), timeout=5000)  # the reply is streaming
    with qtbot.waitSignal(chat.sig_finished, timeout=5000) as done:
        service.stop()
        backend.release(50)  # tokens the model could make: none may come after Stop
    assert done.args[0].stopped and done.args[0].tokens <= 6
    assert len("".join(texts).split()) == done.args[0].tokens


def test_stop_leaves_completions_alone(qtbot, service, backend):
    """The tutor's Stop does not cancel the editor's completion request."""
    chat = _chat(service)
    infill = service.submit(InfillRequest("a", "b", "python"))
    service.stop()
    assert chat.cancelled and not infill.cancelled
    backend.run_free()
    with qtbot.waitSignal(infill.sig_finished, timeout=5000) as done:
        pass
    assert done.args[0].tokens > 0


def test_completions_never_touch_the_chat_state(qtbot, service, backend):
    """The model stays Ready and the tutor not busy while only completions run."""
    busy: list[bool] = []
    service.sig_chat_busy_changed.connect(busy.append)
    backend.run_free()
    with qtbot.assertNotEmitted(service.sig_state_changed):
        handle = service.submit(CompleteRequest("print("))
        with qtbot.waitSignal(handle.sig_finished, timeout=5000):
            pass
    assert busy == [] and service.state is LlmState.READY and not service.chat_busy


def test_chat_busy_follows_the_reply(qtbot, service, backend):
    """chat_busy is True from the request until its end, then False again."""
    with qtbot.waitSignal(service.sig_chat_busy_changed, timeout=5000) as went_busy:
        chat = _chat(service)
    assert went_busy.args == [True] and service.current_chat is chat
    backend.run_free()
    with qtbot.waitSignal(service.sig_chat_busy_changed, timeout=5000) as went_idle:
        pass
    assert went_idle.args == [False] and service.current_chat is None


def test_loading_a_model_cancels_every_request(qtbot, service, backend):
    """A load stops the chat and the completion; both end before the new model is ready."""
    chat = _chat(service)
    infill = service.submit(InfillRequest("a", "b", "python"))
    ended: list[str] = []
    chat.sig_finished.connect(lambda _s: ended.append("chat"))
    infill.sig_finished.connect(lambda _s: ended.append("infill"))
    service.sig_model_loaded.connect(lambda _info: ended.append("loaded"))
    with qtbot.waitSignal(service.sig_model_loaded, timeout=5000):
        service.load_model(SPEC)
    assert chat.cancelled and infill.cancelled
    assert ended == ["chat", "infill", "loaded"]


def test_a_failure_part_way_keeps_what_arrived_and_sends_nothing_after(qtbot):
    """A reply that fails after 3 tokens delivers those 3, then the failure, then nothing."""
    backend = ScriptedBackend(LONG_REPLY, fail_after=3)
    service = LlmService(backend)
    with qtbot.waitSignal(service.sig_model_loaded, timeout=5000):
        service.load_model(SPEC)
    handle = _chat(service)
    events: list[str] = []
    handle.sig_chunk_received.connect(lambda text: events.append(f"chunk:{text}"))
    handle.sig_failed.connect(lambda message: events.append(f"failed:{message}"))
    with qtbot.waitSignal(handle.sig_failed, timeout=5000):
        pass
    with qtbot.assertNotEmitted(handle.sig_chunk_received, wait=100):
        pass
    assert events[-1] == "failed:The scripted model failed on purpose."
    assert "".join(e[6:] for e in events[:-1]).split() == ["word0", "word1", "word2"]
    service.shutdown()


def test_infill_on_a_model_without_fim_fails_with_words(qtbot):
    """An infill request to a model without FIM tokens fails with a message, not a crash."""
    service = LlmService(ScriptedBackend("x", fim=False))
    with qtbot.waitSignal(service.sig_model_loaded, timeout=5000):
        service.load_model(SPEC)
    assert not service.backend.capabilities.fim
    handle = service.submit(InfillRequest("a", "b", "python"))
    with qtbot.waitSignal(handle.sig_failed, timeout=5000) as failed:
        pass
    assert "cannot fill in the middle" in failed.args[0]
    service.shutdown()


def _plan(code_lines: int = 10, question: str = "What does it do?"):
    from app.core.prompts.builder import build_prompt
    from app.core.prompts.templates import load_default_templates
    from app.core.tutor.actions import TutorAction
    from app.core.tutor.context import TutorContext

    code = "\n".join(f"total = total + {n}" for n in range(1, code_lines + 1))
    context = TutorContext(code=code, file_name="main.py", cursor_line=code_lines // 2 or 1)
    return build_prompt(TutorAction.CHAT, context, load_default_templates(), (), question)


def test_the_worker_fits_the_plan_and_says_so_before_the_first_chunk(qtbot, service, backend):
    """send_prompt: the handle gets sig_prompt_fitted (budget = n_ctx less max_tokens, what
    was left out) before any chunk, and the model is sent exactly the fitted messages."""
    backend.n_ctx = 1000
    events: list[str] = []
    handle = service.send_prompt(_plan(code_lines=3000), PARAMS)
    handle.sig_prompt_fitted.connect(lambda fitted: events.append("fitted"))
    handle.sig_chunk_received.connect(lambda text: events.append("chunk"))
    backend.run_free()
    with qtbot.waitSignal(handle.sig_finished, timeout=5000):
        pass
    fitted = handle.fitted
    assert events[0] == "fitted" and events.count("fitted") == 1 and "chunk" in events
    assert fitted.budget_tokens == 1000 - PARAMS.max_tokens
    assert fitted.prompt_tokens <= fitted.budget_tokens
    assert fitted.note.startswith("Left out to fit the model's context: lines 1–")
    assert fitted.note.endswith("–3,000 of main.py.")
    assert backend.calls[-1] == ("chat", fitted.messages)
    assert "total = total + 1500" in fitted.messages[0].content  # the cursor's line
    assert "total = total + 1\n" not in fitted.messages[0].content  # far from it: cut


def test_a_plan_that_fits_is_sent_whole_with_an_empty_note(qtbot, service, backend):
    """A small plan is fitted with nothing left out, and sent whole."""
    backend.run_free()
    handle = service.send_prompt(_plan(), PARAMS)
    fitted: list = []
    handle.sig_prompt_fitted.connect(fitted.append)
    with qtbot.waitSignal(handle.sig_finished, timeout=5000):
        pass
    assert fitted == [handle.fitted]
    assert fitted[0].note == "" and fitted[0].budget_tokens == 2048 - 300
    assert "total = total + 1\n" in backend.calls[-1][1][0].content
    assert "total = total + 10" in backend.calls[-1][1][0].content


def test_a_question_longer_than_the_context_fails_with_words(qtbot, service, backend):
    """When even the question does not fit, the handle hears the fitting, then a failure
    naming the numbers, and the model is never asked."""
    backend.n_ctx = 400
    backend.run_free()
    handle = service.send_prompt(_plan(question="Why? " * 400), PARAMS)
    events: list[str] = []
    handle.sig_prompt_fitted.connect(lambda fitted: events.append("fitted"))
    handle.sig_chunk_received.connect(lambda text: events.append("chunk"))
    with qtbot.waitSignal(handle.sig_failed, timeout=5000) as failed:
        pass
    assert events == ["fitted"] and backend.calls == []
    assert "The question is too long for the model" in failed.args[0]
    assert (
        "room for 100 (its context is 400 tokens, less 300 kept for the reply)" in (failed.args[0])
    )


def test_a_reply_cut_by_max_tokens_is_marked_truncated(qtbot, service, backend):
    """A reply that reaches max_tokens ends truncated; one that ends by itself does not."""
    backend.run_free()
    cut = service.send_chat([ChatMessage("user", "Hi")], GenerationParams(max_tokens=5))
    with qtbot.waitSignal(cut.sig_finished, timeout=5000) as done:
        pass
    assert done.args[0].truncated and done.args[0].tokens == 5
    whole = _chat(service)
    with qtbot.waitSignal(whole.sig_finished, timeout=5000) as done:
        pass
    assert not done.args[0].truncated and done.args[0].tokens == 200
