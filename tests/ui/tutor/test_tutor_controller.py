"""The tutor controller on the scripted backend: what the learner sees in the chat panel and
what the model is sent."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes.backends import ScriptedBackend

from app.core.lessons.model import TutorPolicy
from app.core.models import ModelSpec
from app.core.prompts.messages import ChatMessage
from app.core.tutor.context import LessonBrief, TutorContext
from app.llm.service import LlmService
from app.ui.tutor.chat_panel import ChatPanel
from app.ui.tutor.controller import TutorController

SPEC = ModelSpec(Path("scripted.gguf"), "Scripted model")


@pytest.fixture
def backend():
    """A paced scripted backend answering with a fixed reply."""
    return ScriptedBackend("A variable is a name for a value.", paced=True)


@pytest.fixture
def tutor(qtbot, backend):
    """A tutor controller with its panel, on a loaded scripted model."""
    service = LlmService(backend)
    with qtbot.waitSignal(service.sig_model_loaded, timeout=5000):
        service.load_model(SPEC)
    panel = ChatPanel()
    qtbot.addWidget(panel)
    controller = TutorController(service, panel)
    controller.context_provider = lambda: TutorContext(code="age = 7\n")
    yield controller
    backend.run_free()
    service.shutdown()


def test_a_question_gets_the_scripted_reply_in_the_panel_and_the_history(qtbot, tutor, backend):
    """The reply shows in the panel under the question and both go into the history; the
    model got the code in the system message, and the question's turn keeps the request
    as it was sent, labelled with the learner's words."""
    backend.run_free()
    with qtbot.waitSignal(tutor.sig_reply_finished, timeout=5000):
        tutor.ask("What is a variable?")
    shown = " ".join(tutor._panel.plain_text().split())
    assert "What is a variable?" in shown and "A variable is a name for a value." in shown
    assert [t.role for t in tutor.conversation.turns] == ["user", "assistant"]
    sent = backend.calls[-1][1]
    assert "age = 7" in sent[0].content and "age = 7" not in sent[-1].content
    assert sent[-1].content.endswith("My question: What is a variable?")
    asked = tutor.conversation.turns[0]
    assert asked.label == "What is a variable?" and asked.content == sent[-1].content


def test_a_second_question_s_prompt_starts_with_the_first_and_its_reply(qtbot, tutor, backend):
    """The second request's messages are the first request's, then its reply, then the new
    question: the conversation after the system message only grows, so the cache is reused."""
    backend.run_free()
    with qtbot.waitSignal(tutor.sig_reply_finished, timeout=5000):
        tutor.ask("What is a variable?")
    with qtbot.waitSignal(tutor.sig_reply_finished, timeout=5000):
        tutor.ask("And a value?")
    first, second = backend.calls[-2][1], backend.calls[-1][1]
    reply = ChatMessage("assistant", "A variable is a name for a value.")
    assert second[: len(first) + 1] == (*first, reply)
    assert len(second) == len(first) + 2 and second[-1].content.endswith("And a value?")
    shown = tutor._panel.plain_text()
    assert "My question:" not in shown  # the panel shows what the learner typed


def test_what_was_left_out_to_fit_is_said_in_the_panel(qtbot, tutor, backend):
    """A file too big for the context is fitted, and the panel says under the reply what
    was left out."""
    code = "".join(f"total = total + {n}\n" for n in range(1, 3001))
    tutor.context_provider = lambda: TutorContext(code=code, file_name="main.py")
    backend.run_free()
    with qtbot.waitSignal(tutor.sig_reply_finished, timeout=5000):
        tutor.ask("What does it do?")
    assert tutor.last_fitted is not None and tutor.last_fitted.note.startswith("Left out")
    assert "Left out to fit the model's context: lines " in tutor._panel.plain_text()


def test_a_second_question_stops_the_first_reply_which_says_stopped(qtbot, tutor, backend):
    """Asking again while a reply streams ends the old reply with "Stopped." first."""
    tutor.ask("First?")
    first = tutor.current
    first_texts: list[str] = []
    first.sig_chunk_received.connect(first_texts.append)
    backend.release(2)
    qtbot.waitUntil(lambda: bool(first_texts), timeout=5000)
    replies: list = []
    tutor.sig_reply_finished.connect(lambda _id, stats: replies.append(stats))
    with qtbot.waitSignals([first.sig_finished, tutor.sig_reply_finished], timeout=5000):
        tutor.ask("Second?")
        backend.run_free()
    assert first.stats.stopped and len(replies) == 1 and not replies[0].stopped
    text = tutor._panel.plain_text()
    assert text.index("First?") < text.index("Stopped.") < text.index("Second?")
    asked = tutor.conversation.turns[0::2]
    assert [t.label for t in asked] == ["First?", "Second?"]
    assert [t.content.rsplit("My question: ", 1)[-1] for t in asked] == ["First?", "Second?"]


def test_a_lesson_whose_template_fails_is_refused_and_nothing_is_sent(qtbot, tutor, backend):
    """Fail closed: a lesson's broken template gives a message in the panel, no request."""
    broken = LessonBrief("c/l", "T", "G", policy=TutorPolicy(templates={"chat": "{nope}"}))
    tutor.context_provider = lambda: TutorContext(code="x = 1", lesson=broken)
    assert tutor.ask("Solve it") is None
    assert "cannot answer in this lesson" in tutor._panel.plain_text()
    assert backend.calls == [] and not tutor.conversation.turns
