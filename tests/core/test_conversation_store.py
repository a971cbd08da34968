"""Tutor conversations kept per lesson on disk, exported to Markdown, and deleted on demand."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from app.core.conversation import (
    MAX_STORED_TURNS,
    MAX_TURN_CHARS,
    Conversation,
    ConversationStore,
    Turn,
)
from app.core.prompts.messages import ChatMessage

LESSON = "python-basics/01-hello"
OTHER = "python-basics/02-loops"


def _files(root: Path) -> list[Path]:
    """Every file under `root`, found by walking it."""
    return [Path(top) / name for top, _dirs, names in os.walk(root) for name in names]


def _chat(*texts: str) -> Conversation:
    """A conversation of alternating learner and tutor turns."""
    conv = Conversation()
    for i, text in enumerate(texts):
        conv.add("user" if i % 2 == 0 else "assistant", text)
    return conv


def test_two_lessons_keep_separate_histories_across_stores(tmp_path):
    """What is saved for each lesson comes back for that lesson only, in a new store."""
    store = ConversationStore(tmp_path)
    assert store.save(LESSON, _chat("What is print?", "It shows text.")) is None
    assert store.save(OTHER, _chat("What is a loop?")) is None
    again = ConversationStore(tmp_path)
    first, second = again.load(LESSON), again.load(OTHER)
    assert [(t.role, t.content) for t in first.turns] == [
        ("user", "What is print?"),
        ("assistant", "It shows text."),
    ]
    assert [t.content for t in second.turns] == ["What is a loop?"]
    assert again.load("python-basics/03-new").turns == [] and again.load_problem is None


def test_labels_and_times_are_kept_but_not_sent_to_the_model(tmp_path):
    """A turn's label and time survive a round trip; history() carries role and text only."""
    conv = Conversation()
    conv.add("user", "x = 1", label="Explain — lines 3–7 of main.py")
    conv.add("assistant", "It sets x.")
    store = ConversationStore(tmp_path)
    store.save(LESSON, conv)
    loaded = store.load(LESSON)
    assert [t.label for t in loaded.turns] == ["Explain — lines 3–7 of main.py", ""]
    assert loaded.turns == conv.turns and loaded.turns[0].at.startswith("20")
    assert loaded.history() == (
        ChatMessage("user", "x = 1"),
        ChatMessage("assistant", "It sets x."),
    )


def test_free_editing_has_one_conversation_under_empty_and_free(tmp_path):
    """The keys "" and "free" name the same conversation, apart from every lesson's."""
    store = ConversationStore(tmp_path)
    store.save("", _chat("Scratch question"))
    assert [t.content for t in store.load("free").turns] == ["Scratch question"]
    assert store.load(LESSON).turns == []


def test_markdown_export_reads_as_a_conversation(tmp_path):
    """The export has the title, who said what with the label, the tutor's Markdown as is,
    and the learner's text as typed (a leading "#" is no heading)."""
    conv = Conversation()
    conv.add("user", "# is this a heading?\n```\nnot a fence end", label="Explain — lines 3–7")
    conv.add("assistant", "**No.** Use `print`:\n\n```python\nprint('hi')\n```")
    text = conv.to_markdown("Say hello")
    assert text.startswith("# Tutor conversation — Say hello\n")
    assert "**You** (Explain — lines 3–7)" in text and "**Tutor**" in text
    assert "**No.** Use `print`:\n\n```python\nprint('hi')\n```" in text
    html = MarkdownIt("commonmark").render(text)
    assert html.count("<h1>") == 1 and "<h1>Tutor conversation — Say hello</h1>" in html
    assert "# is this a heading?\n```\nnot a fence end" in html  # verbatim in a code block
    assert "<strong>Tutor</strong>" in html and "<strong>No.</strong>" in html


def test_a_reply_stopped_inside_a_code_block_does_not_swallow_the_next_turn():
    """An unclosed code fence in a tutor reply is closed before the learner's next turn."""
    conv = _chat("Show a loop", "Here:\n\n```python\nfor i in range(3):", "Thanks")
    html = MarkdownIt("commonmark").render(conv.to_markdown("Loops"))
    assert html.count("<strong>You</strong>") == 2


def test_delete_one_and_delete_all(tmp_path):
    """Deleting one lesson's conversation keeps the others; deleting all leaves no file."""
    store = ConversationStore(tmp_path)
    store.save(LESSON, _chat("a"))
    store.save(OTHER, _chat("b"))
    assert store.delete(LESSON) is None
    assert store.load(LESSON).turns == [] and [t.content for t in store.load(OTHER).turns] == ["b"]
    assert store.delete_all() is None
    assert store.load(OTHER).turns == [] and _files(tmp_path) == []


def test_saving_an_empty_conversation_removes_the_lessons_file(tmp_path):
    """Clearing a conversation and saving it leaves nothing stored for that lesson."""
    store = ConversationStore(tmp_path)
    conv = _chat("a", "b")
    store.save(LESSON, conv)
    conv.clear()
    store.save(LESSON, conv)
    assert _files(tmp_path) == [] and store.load(LESSON).turns == []


def test_keep_off_writes_no_file(tmp_path):
    """With keep=False, saving writes nothing anywhere under the data folder."""
    store = ConversationStore(tmp_path, keep=False)
    assert store.save(LESSON, _chat("private question", "answer")) is None
    assert store.save("", _chat("another")) is None
    assert _files(tmp_path) == [] and not store.folder.exists()
    assert store.load(LESSON).turns == []


def test_turning_keep_off_deletes_what_was_stored_and_stops_saving(tmp_path):
    """set_keep(False) deletes every stored conversation; later saves write nothing."""
    store = ConversationStore(tmp_path)
    store.save(LESSON, _chat("a"))
    store.save(OTHER, _chat("b"))
    assert len(_files(tmp_path)) == 2
    assert store.set_keep(False) is None and not store.keep
    assert _files(tmp_path) == []
    store.save(LESSON, _chat("c"))
    assert _files(tmp_path) == []
    store.set_keep(True)
    store.save(LESSON, _chat("d"))
    assert [t.content for t in ConversationStore(tmp_path).load(LESSON).turns] == ["d"]


def test_a_store_opened_with_keep_off_deletes_an_earlier_runs_files(tmp_path):
    """Starting with the setting off deletes conversations a run with it on had stored."""
    ConversationStore(tmp_path).save(LESSON, _chat("a"))
    ConversationStore(tmp_path, keep=False)
    assert _files(tmp_path) == []


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"{not json", "is not valid JSON"),
        (b'{"turns": 5}', "holds no list of turns"),
        (b"\xff\xfe", "is not valid JSON"),
    ],
)
def test_corrupt_file_is_set_aside_with_a_sentence(tmp_path, content, why):
    """An unreadable file is moved aside, the lesson starts afresh, and load_problem says so."""
    store = ConversationStore(tmp_path)
    path = store.path_for(LESSON)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert store.load(LESSON).turns == []
    aside = list(store.folder.glob(f"{path.name}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content and not path.exists()
    assert store.load_problem and why in store.load_problem and str(aside[0]) in store.load_problem
    store.save(LESSON, _chat("new"))
    assert [t.content for t in store.load(LESSON).turns] == ["new"] and store.load_problem is None
    store.delete(LESSON)
    assert _files(tmp_path) == []  # Clear removes the set-aside copy too


def test_bad_turns_in_a_readable_file_are_skipped(tmp_path):
    """Entries that are not turns are dropped; the good ones load, with no problem reported."""
    store = ConversationStore(tmp_path)
    path = store.path_for(LESSON)
    path.parent.mkdir(parents=True)
    turns = [{"role": "system", "content": "x"}, 7, {"role": "user", "content": "ok", "label": 3}]
    path.write_text(json.dumps({"turns": turns}))
    assert store.load(LESSON).turns == [Turn("user", "ok")] and store.load_problem is None


def test_fifo_in_place_of_a_file_is_set_aside_not_waited_on(tmp_path):
    """A FIFO where the conversation file should be is reported, not read."""
    store = ConversationStore(tmp_path)
    path = store.path_for(LESSON)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    assert store.load(LESSON).turns == []
    assert store.load_problem and "not a regular file" in store.load_problem


@pytest.mark.parametrize(
    "key", ["../../escaped", "../x/../../y", "/etc/passwd", "a\\..\\..\\b", ".."]
)
def test_a_key_cannot_leave_the_conversations_folder(tmp_path, key):
    """Keys with "..", slashes or backslashes give a file directly inside the folder."""
    data_dir = tmp_path / "data"
    store = ConversationStore(data_dir)
    assert store.path_for(key).parent == store.folder
    store.save(key, _chat("hi"))
    assert _files(tmp_path) == [store.path_for(key)]
    assert [t.content for t in store.load(key).turns] == ["hi"]


def test_keys_differing_only_in_case_or_punctuation_get_their_own_files(tmp_path):
    """Keys like "Py/01", "py/01" and "py-01" never share a file, even ignoring case."""
    store = ConversationStore(tmp_path)
    keys = ["Py/01", "py/01", "py-01"]
    assert len({store.path_for(k).name.lower() for k in keys}) == 3


def test_stored_history_is_capped_in_turns_and_size(tmp_path):
    """Only the newest turns are stored, each cut to the size limit; memory keeps all."""
    conv = _chat(*[f"turn {i}" for i in range(MAX_STORED_TURNS + 50)])
    conv.add("user", "z" * (MAX_TURN_CHARS * 3))
    store = ConversationStore(tmp_path)
    store.save(LESSON, conv)
    loaded = store.load(LESSON).turns
    assert len(loaded) == MAX_STORED_TURNS and len(conv.turns) == MAX_STORED_TURNS + 51
    assert loaded[0].content == "turn 51"
    assert loaded[-1].content.startswith("z" * MAX_TURN_CHARS)
    assert "shortened" in loaded[-1].content and len(loaded[-1].content) < MAX_TURN_CHARS + 100
    assert store.path_for(LESSON).stat().st_size < MAX_STORED_TURNS * (MAX_TURN_CHARS + 1000)


def test_a_failed_save_is_a_sentence_not_an_exception(tmp_path):
    """When the folder cannot be made, save returns a sentence naming the file."""
    (tmp_path / "conversations").write_text("a file in the way")
    store = ConversationStore(tmp_path)
    problem = store.save(LESSON, _chat("a"))
    assert problem and "cannot save your conversation" in problem and store.last_error == problem


def test_unknown_role_is_refused():
    """add() accepts only the learner's and the tutor's turns."""
    with pytest.raises(ValueError, match="'user' or 'assistant'"):
        Conversation().add("system", "x")
