"""What the chat shows above a tutor reply, and the detector that ends a looping reply."""

from __future__ import annotations

from app.core.tutor.actions import TutorAction, action_label
from app.core.tutor.context import RunBrief, TutorContext
from app.core.tutor.repetition import repeated_sentence, repetition_end


def test_labels_say_what_was_asked_about_which_lines():
    """Explain and Document name the selection's lines and the file; Debug the error's line
    or the failed checks; chat has no label."""
    code = "a = 1\nb = 2\nc = 3\n"
    whole = TutorContext(code=code, file_name="main.py")
    part = TutorContext(code=code, selection="b = 2\n", selection_lines=(2, 2), file_name="main.py")
    assert action_label(TutorAction.EXPLAIN, whole) == "Explain — main.py"
    assert action_label(TutorAction.EXPLAIN, part) == "Explain — line 2 of main.py"
    many = TutorContext(code=code, selection=code, selection_lines=(1, 3), file_name="main.py")
    assert action_label(TutorAction.DOCUMENT, many) == "Document — lines 1–3 of main.py"
    crash = RunBrief(error="boom", error_line=12, error_file="main.py")
    assert (
        action_label(TutorAction.DEBUG, TutorContext(code=code, run=crash, file_name="main.py"))
        == "Debug — the error on line 12 of main.py"
    )
    checks = RunBrief(kind="check", failed_checks=(("m", "d"), ("n", "e")))
    assert action_label(TutorAction.DEBUG, TutorContext(code=code, run=checks)) == (
        "Debug — 2 failed checks"
    )
    assert action_label(TutorAction.CHAT, whole) == ""


def test_a_sentence_said_three_times_is_a_loop_but_code_and_short_words_are_not():
    """The third time the same sentence comes (case, spacing, list marks and the final mark
    aside) the reply is cut just after it; repeated code lines and "Yes." are fine."""
    loop = "Let me know if you have questions.\n- let me know if  you have questions!\n"
    loop += "Let me know if you have questions? And more."
    assert repeated_sentence(loop) is not None
    end = repetition_end(loop)
    assert end is not None and loop[:end].endswith("questions?")
    code = "Run this:\n```python\nprint(1)\nprint(1)\nprint(1)\nprint(1)\n```\nDone."
    assert repetition_end(code) is None
    assert repetition_end("Yes. Yes. Yes. Yes.") is None
    assert repetition_end("Two different sentences here. And another one there.") is None
