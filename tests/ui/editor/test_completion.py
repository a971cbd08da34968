"""Inline completion on the real editor and the LLM service with a scripted model: when it
asks, what it sends, what it shows, and what it leaves alone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fakes.backends import ScriptedBackend
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication

from app.core.models import ModelSpec
from app.llm.backend import ChatMessage, GenerationParams
from app.llm.service import LlmService
from app.ui.editor.completion import (
    BYTES_AFTER,
    BYTES_BEFORE,
    DEBOUNCE_MAX_MS,
    DEBOUNCE_MIN_MS,
    NO_FIM_NOTICE,
    CompletionController,
)
from app.ui.editor.widget import CodeEditor

SPEC = ModelSpec(Path("scripted.gguf"), "Scripted model")
CTRL = Qt.KeyboardModifier.ControlModifier
QUIET_MS = DEBOUNCE_MAX_MS + 250  # longer than any pause the controller waits for


class Model:
    """A scripted model whose answers the test sets, and what it was asked."""

    def __init__(self, answer: str = "", *, paced: bool = False, fim: bool = True) -> None:
        self.answer = answer
        self.backend = ScriptedBackend(self._reply, paced=paced, fim=fim)

    def _reply(self, kind: str, prompt: object) -> str:
        if kind == "chat":
            return " ".join(["word"] * 40)
        return self.answer(prompt) if callable(self.answer) else self.answer

    def asked(self, kind: str = "infill") -> list[object]:
        """The prompts of every request of `kind` that reached the model."""
        return [prompt for k, prompt in self.backend.calls if k == kind]


@pytest.fixture
def model():
    """The scripted model (the test sets its answer)."""
    return Model()


@pytest.fixture
def service(qtbot, model):
    """An LLM service on the scripted model, loaded."""
    svc = LlmService(model.backend)
    with qtbot.waitSignal(svc.sig_model_loaded, timeout=5000):
        svc.load_model(SPEC)
    yield svc
    model.backend.run_free()
    svc.shutdown()


@pytest.fixture
def editor(qtbot):
    """A shown Python editor."""
    e = CodeEditor()
    e.resize(700, 400)
    e.set_language("python")
    qtbot.addWidget(e)
    e.show()
    qtbot.waitExposed(e)
    return e


@pytest.fixture
def completion(editor, service):
    """The completion controller on the editor and the service, in "line" mode."""
    return CompletionController(editor, service)


def _end(editor: CodeEditor, text: str) -> None:
    editor.set_text(text)
    editor.gotoPos(editor.textLength())


def _wait_ghost(qtbot, editor: CodeEditor) -> str:
    qtbot.waitUntil(lambda: editor.ghost_text != "", timeout=5000)
    return editor.ghost_text


def test_a_pause_in_typing_shows_the_proposal_and_tab_accepts_it(qtbot, editor, completion, model):
    """After typing and a pause, the model's proposal for the caret shows as ghost text;
    Tab puts it in the code."""
    model.answer = "a + b"
    _end(editor, "def add(a, b):\n    \n\nprint(add(1, 2))\n")
    editor.gotoPos(editor.lineEndPosition(1))
    qtbot.keyClicks(editor, "return ")
    assert _wait_ghost(qtbot, editor) == "a + b"
    assert model.asked() == [("def add(a, b):\n    return ", "\n\nprint(add(1, 2))\n")]
    assert DEBOUNCE_MIN_MS <= completion.last_debounce_ms <= DEBOUNCE_MAX_MS
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.text() == "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n"


def test_ctrl_space_asks_at_once_even_mid_line(qtbot, editor, completion, model):
    """Ctrl+Space asks at the caret even with much code right of it, where a pause does not."""
    model.answer = "first, "
    editor.set_text("call(second_argument_here)\n")
    editor.gotoPos(len("call("))
    qtbot.keyClicks(editor, "x")
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.wait(QUIET_MS)
    assert model.asked() == [] and editor.ghost_text == ""  # more than 8 characters right
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert _wait_ghost(qtbot, editor) == "first,"
    assert model.asked() == [("call(", "second_argument_here)\n")]


def test_off_mode_never_asks_the_model(qtbot, editor, completion, model):
    """With the lesson's completion off, neither a pause nor Ctrl+Space sends a request."""
    model.answer = "1"
    completion.set_mode("off")
    _end(editor, "")
    qtbot.keyClicks(editor, "x = ")
    qtbot.wait(QUIET_MS)
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    qtbot.wait(200)
    assert model.backend.calls == [] and editor.ghost_text == ""


def test_line_mode_proposes_at_most_the_rest_of_the_line(qtbot, editor, completion, model):
    """In "line" mode only the first line of the model's answer shows."""
    model.answer = "total = a + b\n    return total\n"
    _end(editor, "def add(a, b):\n    ")
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert _wait_ghost(qtbot, editor) == "total = a + b"


def test_full_mode_proposes_lines_up_to_a_blank_line_and_at_most_eight(
    qtbot, editor, completion, model
):
    """In "full" mode several lines show, ending at a blank line after the block, and never
    more than eight."""
    completion.set_mode("full")
    model.answer = "total = a + b\n    return total\n\nprint(add(1, 2))\n"
    _end(editor, "def add(a, b):\n    ")
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert _wait_ghost(qtbot, editor) == "total = a + b\n    return total"
    editor.clear_ghost()
    model.answer = "\n".join(f"    x{i} = {i}" for i in range(20))
    _end(editor, "def many():\n")
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert _wait_ghost(qtbot, editor).count("\n") == 7


def test_the_same_text_around_the_caret_is_answered_from_the_cache(
    qtbot, editor, completion, model
):
    """Asking again with the same code around the caret shows the same proposal without a
    second request; typing through it keeps the cached rest."""
    model.answer = "len(items)"
    _end(editor, "items = [1, 2]\nn = ")
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert _wait_ghost(qtbot, editor) == "len(items)"
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert editor.ghost_text == "len(items)"  # at once: no model involved
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.keyClicks(editor, "len")
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert editor.ghost_text == "(items)"
    assert len(model.asked()) == 1


def test_a_newer_keystroke_cancels_the_request_in_flight(qtbot, editor, service, model):
    """A key typed while the model answers cancels that request; its answer never shows."""
    model.backend.paced = True
    model.answer = "old answer"
    completion = CompletionController(editor, service)
    ended = []
    service.sig_request_ended.connect(ended.append)
    _end(editor, "x = ")
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    qtbot.waitUntil(model.backend.generating.is_set, timeout=5000)
    qtbot.keyClicks(editor, "y")
    qtbot.waitUntil(lambda: len(ended) == 1, timeout=5000)
    assert ended[0].cancelled and ended[0].stats.stopped
    model.answer = " + 1"
    model.backend.run_free()
    assert _wait_ghost(qtbot, editor) == " + 1"  # the newer request, after the pause
    assert completion.mode == "line"


def test_an_answer_for_text_that_moved_on_is_dropped(qtbot, editor, service, model):
    """When the caret moved (without typing) before the answer came, it does not show."""
    model.backend.paced = True
    model.answer = "42"
    completion = CompletionController(editor, service)
    _end(editor, "a = 1\nb = ")
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    qtbot.waitUntil(model.backend.generating.is_set, timeout=5000)
    editor.gotoPos(0)
    with qtbot.waitSignal(service.sig_request_ended, timeout=5000):
        model.backend.run_free()
    qtbot.wait(50)
    assert editor.ghost_text == "" and editor.text() == "a = 1\nb = "
    editor.gotoPos(editor.textLength())
    completion.request_now()  # back where it was asked: the answer was kept
    assert editor.ghost_text == "42" and len(model.asked()) == 1


@pytest.mark.parametrize(
    ("code", "typed"),
    [('s = "Hello', ", wor"), ("x = 1  # the", " tot")],
    ids=["string", "comment"],
)
def test_line_mode_does_not_ask_inside_a_string_or_comment(
    qtbot, editor, completion, model, code, typed
):
    """In "line" mode, typing in a string or a comment asks nothing; Ctrl+Space still does."""
    model.answer = "ld"
    _end(editor, code)
    qtbot.keyClicks(editor, typed)
    qtbot.wait(QUIET_MS)
    assert model.asked() == []
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert _wait_ghost(qtbot, editor) == "ld"


def test_full_mode_asks_inside_a_string(qtbot, editor, completion, model):
    """In "full" mode a pause inside a string asks too."""
    completion.set_mode("full")
    model.answer = "ld"
    _end(editor, 's = "Hello')
    qtbot.keyClicks(editor, ", wor")
    assert _wait_ghost(qtbot, editor) == "ld"


def test_switched_off_no_pause_asks_but_ctrl_space_does(qtbot, editor, completion, model):
    """With the toggle off, typing and pausing asks nothing; Ctrl+Space still asks."""
    model.answer = "1"
    completion.set_enabled(False)
    _end(editor, "")
    qtbot.keyClicks(editor, "x = ")
    qtbot.wait(QUIET_MS)
    assert model.asked() == []
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert _wait_ghost(qtbot, editor) == "1"


def test_a_completion_while_the_tutor_answers_leaves_the_answer_running(
    qtbot, editor, service, model
):
    """A completion asked while a chat reply streams does not cancel the reply; the ghost
    text comes after it."""
    model.backend.paced = True
    model.answer = "b"
    completion = CompletionController(editor, service)
    chat = service.send_chat([ChatMessage("user", "Hi")], GenerationParams(max_tokens=100))
    with qtbot.waitSignal(chat.sig_started, timeout=5000):
        pass
    model.backend.release(3)
    _end(editor, "a = ")
    completion.request_now()
    assert not chat.cancelled and service.chat_busy
    model.backend.run_free()
    with qtbot.waitSignal(chat.sig_finished, timeout=5000) as done:
        pass
    assert not done.args[0].stopped and done.args[0].tokens == 40
    assert _wait_ghost(qtbot, editor) == "b"


@pytest.mark.parametrize("answer", ["", "   ", "\n\n", " \n  \n\t"])
def test_an_empty_or_white_space_answer_shows_nothing(qtbot, editor, service, model, answer):
    """A proposal of nothing or only blanks shows no ghost text."""
    model.answer = answer
    completion = CompletionController(editor, service)
    _end(editor, "x = 1\n")
    with qtbot.waitSignal(service.sig_request_ended, timeout=5000):
        completion.request_now()
    qtbot.wait(50)
    assert editor.ghost_text == "" and editor.annotation(2) == ""


def test_after_a_non_ascii_name_the_proposal_is_asked_and_inserted_at_the_caret(
    qtbot, editor, completion, model
):
    """After "naïve_" the model gets exactly that prefix, and Tab inserts its proposal
    right there (UTF-8 byte positions are not character columns)."""
    model.answer = "count = 1"
    _end(editor, "\nprint(naïve_count)\n")
    editor.gotoPos(0)
    qtbot.keyClicks(editor, "na")
    accent = QInputMethodEvent()  # how an accent or an input method delivers "ï"
    accent.setCommitString("ï")
    QApplication.sendEvent(editor, accent)
    qtbot.keyClicks(editor, "ve_")
    assert _wait_ghost(qtbot, editor) == "count = 1"
    assert model.asked() == [("naïve_", "\nprint(naïve_count)\n")]
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.text() == "naïve_count = 1\nprint(naïve_count)\n"
    assert editor.cursor_line() == 1 and editor.currentPos() == len("naïve_count = 1".encode())


def test_a_model_without_fill_in_the_middle_completes_the_prefix_and_says_so_once(qtbot, editor):
    """Without FIM tokens the model is asked to continue the code before the caret, and the
    status bar hears it once."""
    model = Model("1", fim=False)
    service = LlmService(model.backend)
    with qtbot.waitSignal(service.sig_model_loaded, timeout=5000):
        service.load_model(SPEC)
    try:
        completion = CompletionController(editor, service)
        said = []
        completion.sig_status.connect(said.append)
        _end(editor, "x = ")
        completion.request_now()
        assert _wait_ghost(qtbot, editor) == "1"
        _end(editor, "y = ")
        completion.request_now()
        qtbot.waitUntil(lambda: len(model.asked("complete")) == 2, timeout=5000)
        assert model.asked("complete") == ["x = ", "y = "] and model.asked("infill") == []
        assert said == [NO_FIM_NOTICE]
    finally:
        service.shutdown()


def test_full_mode_computes_the_next_proposal_ahead_for_tab(qtbot, editor, completion, model):
    """In "full" mode, while a proposal shows, the one after it is computed; after Tab it
    shows without waiting."""
    completion.set_mode("full")
    model.answer = lambda prompt: "\n    b = 2" if prompt[0].endswith("a = 1") else "a = 1"
    _end(editor, "def f():\n    ")
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert _wait_ghost(qtbot, editor) == "a = 1"
    qtbot.waitUntil(lambda: len(model.asked()) == 2, timeout=5000)  # computed ahead
    qtbot.wait(50)
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.ghost_text == "\n    b = 2"  # at once, from the cache
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.text() == "def f():\n    a = 1\n    b = 2"


def test_the_latency_is_reported_once_the_ghost_text_is_painted(qtbot, editor, completion, model):
    """sig_latency gives the milliseconds from the request to the painted ghost text."""
    model.answer = "1"
    _end(editor, "")
    with qtbot.waitSignal(completion.sig_latency, timeout=5000) as latency:
        qtbot.keyClicks(editor, "x = ")
    assert editor.ghost_text == "1" and 0 < latency.args[0] < 5000


def _measure(completion: CompletionController, editor: CodeEditor) -> str:
    """The UI thread's time for a snapshot, the string-or-comment check a pause makes (the
    first one lexes the file up to the caret) and a whole Ctrl+Space request, as "first /
    slowest of the next four" in ms."""
    times: dict[str, list[float]] = {"snapshot": [], "string check": [], "request": []}
    for _ in range(5):
        for name, call in (
            ("snapshot", completion.snapshot),
            ("string check", editor.cursor_in_string_or_comment),
            ("request", completion.request_now),
        ):
            editor.clear_ghost()
            completion._cache.clear()
            began = time.perf_counter()
            call()
            times[name].append((time.perf_counter() - began) * 1000)
    return ", ".join(f"{k} {v[0]:.2f} / {max(v[1:]):.2f} ms" for k, v in times.items())


def test_a_ten_thousand_line_file_sends_a_bounded_window(qtbot, editor, completion, model):
    """In a 10,000-line file the request carries only the code near the caret, asking again
    is answered from the cache, and the proposal goes in at the caret."""
    model.answer = "value_5000"
    lines = [f"value_{n} = {n}" for n in range(10_000)]
    lines[5000] = "total = "
    editor.set_text("\n".join(lines) + "\n")
    editor.gotoPos(editor.lineEndPosition(5000))
    print(f"\n10,000 lines: {_measure(completion, editor)}")
    assert _wait_ghost(qtbot, editor) == "value_5000"
    prefix, suffix = model.asked()[-1]
    assert prefix.endswith("value_4999 = 4999\ntotal = ") and len(prefix) <= BYTES_BEFORE
    assert suffix.startswith("\nvalue_5001 = 5001") and len(suffix) <= BYTES_AFTER
    asked = len(model.asked())
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.keyClick(editor, Qt.Key.Key_Space, CTRL)
    assert editor.ghost_text == "value_5000" and len(model.asked()) == asked  # the cache
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.text().split("\n")[5000] == "total = value_5000"
    first_line = completion.snapshot().prefix.split("\n", 1)[0]
    assert first_line == "value_4880 = 4880"  # a multiple of 8 lines, where the engine cuts
    qtbot.keyClicks(editor, " + 1")  # typing on: the window's start stays put
    assert completion.snapshot().prefix.split("\n", 1)[0] == first_line


def test_a_single_100_kb_line_sends_a_bounded_window(qtbot, editor, completion, model):
    """In one 100 kB line the request carries a bounded piece on each side of the caret."""
    model.answer = "99"
    half = "x" * 50_000
    editor.set_text(f"data = [{half}, {half}]\n")
    editor.gotoPos(len(f"data = [{half}, "))
    print(f"\n100 kB line: {_measure(completion, editor)}")
    assert _wait_ghost(qtbot, editor) == "99"
    prefix, suffix = model.asked()[-1]
    assert prefix.endswith("x, ") and len(prefix) <= BYTES_BEFORE
    assert suffix.startswith("xx") and len(suffix) <= BYTES_AFTER
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.text() == f"data = [{half}, 99{half}]\n"


def test_the_starter_model_proposes_after_a_pause_and_says_it_sees_only_the_prefix(
    qtbot, editor, starter_spec
):
    """On the real starter model (no FIM tokens), a pause after "return" shows a one-line
    proposal, the status bar hears once that only the code before the cursor is used, and
    Tab inserts exactly what was shown."""
    from app.llm.local import LocalBackend

    service = LlmService(LocalBackend())
    try:
        with qtbot.waitSignal(service.sig_model_loaded, timeout=60_000):
            service.load_model(starter_spec)
        completion = CompletionController(editor, service)
        said: list[str] = []
        completion.sig_status.connect(said.append)
        _end(editor, "def add(a, b):\n    \n\nprint(add(1, 2))\n")
        editor.gotoPos(editor.lineEndPosition(1))
        with qtbot.waitSignal(completion.sig_latency, timeout=60_000) as latency:
            qtbot.keyClicks(editor, "return")
        shown = editor.ghost_text
        print(f"\nstarter: {shown!r} painted {latency.args[0]:.0f} ms after the pause")
        assert shown.strip() and "\n" not in shown
        assert len(said) == 1 and "cannot fill in the middle" in said[0]
        qtbot.keyClick(editor, Qt.Key.Key_Tab)
        assert editor.text() == f"def add(a, b):\n    return{shown}\n\nprint(add(1, 2))\n"
    finally:
        service.shutdown()
