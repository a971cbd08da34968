"""The tutor's actions in the whole window with the real starter model through the real
worker: the labels, the streamed reply, Stop, Debug after a real failed Run and Check,
Document's diff applied as one undo step, and the lesson's switches."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtWidgets import QDialog

from app.llm.service import LlmState
from app.ui.common.actions import ActionId
from app.ui.tutor.diff_dialog import DiffDialog

FIRST = "python-basics/01-print-and-variables"
CRASH = 'name = "Ada"\nage = 36\nprint("My name is", name)\nprint(name + age)\n'


@pytest.fixture
def parts(app_parts, qtbot, starter_spec):
    """The whole app on the built-in lessons with the starter model loaded; short replies."""
    with qtbot.waitSignal(app_parts.service.sig_model_loaded, timeout=120_000):
        app_parts.service.load_model(starter_spec)
    app_parts.tutor.params = dataclasses.replace(app_parts.tutor.params, max_tokens=24)
    return app_parts


def _shown(parts) -> str:
    return " ".join(parts.window.chat.plain_text().split())


def test_explain_streams_a_labelled_reply_and_stop_ends_it(parts, qtbot):
    """Explain (Ctrl+E) on the open lesson's code (sent in the system message) shows
    "Explain — main.py", streams the real model's words, and Esc's Stop ends the reply with
    "Stopped."."""
    w = parts.window
    assert w.lesson_browser.select(FIRST)
    parts.tutor.params = dataclasses.replace(parts.tutor.params, max_tokens=200)
    chunks: list[str] = []
    w.actions.trigger(ActionId.EXPLAIN)
    handle = parts.tutor.current
    assert handle is not None
    handle.sig_chunk_received.connect(chunks.append)
    qtbot.waitUntil(lambda: len(chunks) >= 3, timeout=60_000)
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=30_000):
        w.actions.trigger(ActionId.STOP_ANSWER)
    shown = _shown(parts)
    assert "Explain — main.py" in shown
    assert "Stopped." in shown
    assert parts.service.state is LlmState.READY and not parts.service.chat_busy
    fitted = parts.tutor.last_fitted
    assert fitted is not None and 'name = "Ada"' in fitted.messages[0].content
    assert fitted.messages[-1].content.startswith("Please explain my Python code (main.py")
    assert "tokens" in w.status.context_label.text()


def test_debug_after_a_failed_run_sends_the_error_and_its_line(parts, qtbot):
    """After a Run that stops with a TypeError, Debug is enabled, "Ask the tutor why" is
    offered, and pressing it sends the code, the error and its line to the model."""
    w = parts.window
    assert w.lesson_browser.select(FIRST)
    assert not w.actions[ActionId.DEBUG].isEnabled()
    w.editor.selectAll()
    w.editor.insert_at_cursor(CRASH)
    with qtbot.waitSignal(parts.runner.sig_run_finished, timeout=30_000):
        w.actions.trigger(ActionId.RUN)
    assert w.actions[ActionId.DEBUG].isEnabled()
    assert w.output_panel.ask_why_button.isVisibleTo(w)
    assert 4 in w.editor.error_lines()
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=120_000):
        w.output_panel.ask_why_button.click()
    prompt = parts.tutor.last_fitted.messages[-1].content
    assert "TypeError" in prompt and "4" in prompt and "print(name + age)" in prompt
    assert "Debug — the error on line 4 of main.py" in _shown(parts)
    workspace = str(parts.lessons.workspace_dir(parts.lessons.lesson))
    assert workspace not in prompt and '"main.py", line 4' in prompt  # as the output shows it


def test_debug_after_a_failed_check_sends_the_failed_checks(parts, qtbot):
    """After a Check whose checks fail, "Ask the tutor why" beside the results sends the
    failed checks' messages and the goal."""
    w = parts.window
    assert w.lesson_browser.select(FIRST)
    w.editor.selectAll()
    w.editor.insert_at_cursor('name = "Ada"\nage = "36"\nprint("My name is", name)\n')
    with qtbot.waitSignal(parts.runner.sig_checks_finished, timeout=60_000):
        w.actions.trigger(ActionId.CHECK)
    assert w.output_panel.ask_why_checks_button.isVisibleTo(w)
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=120_000):
        w.output_panel.ask_why_checks_button.click()
    prompt = parts.tutor.last_fitted.messages[-1].content
    assert "Your program should print exactly these three lines" in prompt
    assert "Debug — " in _shown(parts) and "failed check" in _shown(parts)


def test_document_shows_a_diff_that_applies_as_one_undo_step(parts, qtbot, monkeypatch):
    """Document's proposal opens as a diff; Apply changes the code, one Undo takes it all
    back; Reject changes nothing."""
    w = parts.window
    w.actions.trigger(ActionId.NEW)
    code = "total = 0\nfor n in range(3):\n    total += n\nprint(total)\n"
    w.editor.set_text(code)
    documented = "# Add up 0, 1 and 2.\n" + code
    # The real model answers; its words are not predictable, so its reply is replaced by a
    # documented copy of the code when the proposal is made.
    answers = iter([True, False])

    def exec_dialog(dialog: DiffDialog) -> int:
        shown.append(dialog)
        return QDialog.DialogCode.Accepted if next(answers) else QDialog.DialogCode.Rejected

    shown: list[DiffDialog] = []
    monkeypatch.setattr(DiffDialog, "exec", exec_dialog)
    original_after = parts.tutor._after_reply

    def with_documented_code(reply):
        reply.text = f"Here it is:\n\n```python\n{documented}```\n"
        original_after(reply)

    monkeypatch.setattr(parts.tutor, "_after_reply", with_documented_code)
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=120_000):
        w.actions.trigger(ActionId.DOCUMENT)
    assert shown and "Adds 1 comment line" in shown[0].summary_label.text()
    assert w.editor.text() == documented
    w.editor.undo()
    assert w.editor.text() == code
    with qtbot.waitSignal(parts.tutor.sig_reply_finished, timeout=120_000):
        w.actions.trigger(ActionId.DOCUMENT)
    assert w.editor.text() == code
    assert "not applied" in _shown(parts)


def test_a_lesson_that_turns_actions_off_disables_them_with_a_reason(parts):
    """A lesson whose [tutor] actions leave out Explain and Document disables them, with the
    teacher's reason as tooltip; another lesson turns them on again."""
    w = parts.window
    assert w.lesson_browser.select(FIRST)
    lesson = parts.lessons.lesson
    strict = dataclasses.replace(
        lesson, policy=dataclasses.replace(lesson.policy, actions=("hint", "debug", "chat"))
    )
    parts.lessons.sig_lesson_opened.emit(strict)
    assert not w.actions[ActionId.EXPLAIN].isEnabled()
    assert "teacher turned Explain off" in w.actions[ActionId.EXPLAIN].toolTip()
    assert not w.actions[ActionId.DOCUMENT].isEnabled()
    parts.lessons.sig_lesson_opened.emit(lesson)
    assert w.actions[ActionId.EXPLAIN].isEnabled()
    assert "Ctrl+E" in w.actions[ActionId.EXPLAIN].toolTip()
