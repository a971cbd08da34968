"""Session state (the last lesson opened) lives in state.json, survives bad files and failed
writes without raising, and takes over the old lessons.last setting."""

from __future__ import annotations

import json
import os
import threading

import pytest

from app.paths import resolve_paths
from app.settings import load_settings
from app.state import LAST_LESSON_KEY, MAX_FILE_BYTES, STATE_FILE, SessionState


def _open_in_time(path, settings=None):
    """SessionState(path) in a thread; fails the test instead of hanging it."""
    result = []
    thread = threading.Thread(target=lambda: result.append(SessionState(path, settings)))
    thread.daemon = True
    thread.start()
    thread.join(10)
    assert result, "SessionState blocked"
    return result[0]


def _old_settings(tmp_path, last):
    """Settings whose user file is one from before lessons.last moved out of settings."""
    user = tmp_path / "config" / "settings.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(f'[lessons]\nlast = "{last}"\n', encoding="utf-8")
    return load_settings(tmp_path / "no-site.toml", user)


def test_last_lesson_is_remembered_in_state_json_in_the_data_folder(tmp_path):
    """A value set is written to data_dir/state.json and read back by the next run."""
    data_dir = resolve_paths().data_dir
    state = SessionState.in_folder(data_dir)
    assert state.path == data_dir / STATE_FILE
    assert state.get(LAST_LESSON_KEY, "") == "" and state.load_problem is None
    assert state.set(LAST_LESSON_KEY, "python-basics/02") is None
    again = SessionState.in_folder(data_dir)
    assert again.get(LAST_LESSON_KEY, "") == "python-basics/02"
    assert json.loads(state.path.read_text(encoding="utf-8")) == {
        LAST_LESSON_KEY: "python-basics/02"
    }


def test_any_text_and_json_values_round_trip(tmp_path):
    """Text with newlines, quotes and non-ASCII, numbers and lists come back as they were set."""
    path = tmp_path / "state.json"
    state = SessionState(path)
    values = {"a": 'say "hi"\n\\ ✓ \x7f', "b": 3, "c": [1, "x", None], "d": {"k": True}}
    for key, value in values.items():
        assert state.set(key, value) is None
    again = SessionState(path)
    assert {key: again.get(key) for key in values} == values
    assert again.load_problem is None


def test_a_stored_value_of_another_type_than_the_default_gives_the_default(tmp_path):
    """A hand-edited file with `"lessons.last": 5` gives the caller its "" default, not 5."""
    path = tmp_path / "state.json"
    path.write_text('{"lessons.last": 5, "n": 2, "f": 1, "flag": 1}', encoding="utf-8")
    state = SessionState(path)
    assert state.get(LAST_LESSON_KEY, "") == ""
    assert state.get(LAST_LESSON_KEY) == 5  # without a default, what is stored
    assert state.get("n", 0) == 2 and state.get("f", 0.5) == 1
    assert state.get("flag", False) is False  # 1 is not true-or-false
    assert state.get("missing", "none") == "none"


def test_changing_a_returned_list_changes_nothing_stored(tmp_path):
    """Get returns a copy: the caller's edits to it are not remembered behind its back."""
    state = SessionState(tmp_path / "state.json")
    state.set("recent", ["a"])
    state.get("recent").append("b")
    assert state.get("recent") == ["a"]


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"lessons.last": "python-basics/02"', "is not valid JSON"),
        ("[1, 2, 3]", "does not hold a JSON object"),
        (b"\xff\xfe not utf-8", "is not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "is not valid JSON"),
    ],
)
def test_corrupt_file_is_moved_aside_and_said_so(tmp_path, content, why):
    """A corrupt state.json is kept as state.json.corrupt-<time>; the state starts empty."""
    path = tmp_path / "state.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    original = path.read_bytes()
    state = SessionState(path)
    assert state.get(LAST_LESSON_KEY, "") == ""
    kept = list(tmp_path.glob("state.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == original
    assert state.load_problem and why in state.load_problem and kept[0].name in state.load_problem
    assert state.set(LAST_LESSON_KEY, "python-basics/01") is None
    assert kept[0].read_bytes() == original  # the next write does not replace what was kept
    assert SessionState(path).get(LAST_LESSON_KEY, "") == "python-basics/01"


def test_fifo_named_state_json_does_not_block_the_start(tmp_path):
    """A FIFO where state.json should be is reported and moved aside, not waited on."""
    path = tmp_path / "state.json"
    os.mkfifo(path)
    state = _open_in_time(path)
    assert state.load_problem and "not a regular file" in state.load_problem
    assert not path.exists() and state.get(LAST_LESSON_KEY, "") == ""
    assert state.set(LAST_LESSON_KEY, "x/y") is None and path.is_file()


def test_folder_named_state_json_is_moved_aside(tmp_path):
    """A directory named state.json is reported and moved aside, so the state can be saved."""
    path = tmp_path / "state.json"
    path.mkdir()
    state = SessionState(path)
    assert state.load_problem and "not a regular file" in state.load_problem
    assert state.set(LAST_LESSON_KEY, "x/y") is None
    assert SessionState(path).get(LAST_LESSON_KEY, "") == "x/y"


def test_huge_file_is_not_read_and_is_moved_aside(tmp_path):
    """A state.json over MAX_FILE_BYTES is not parsed: it is reported and kept aside."""
    path = tmp_path / "state.json"
    path.write_text('{"a": "' + "x" * MAX_FILE_BYTES + '"}', encoding="utf-8")
    state = SessionState(path)
    assert state.load_problem and "too big" in state.load_problem
    assert state.get("a") is None and len(list(tmp_path.glob("state.json.corrupt-*"))) == 1


def test_failed_write_returns_a_sentence_and_keeps_the_value_for_this_run(tmp_path):
    """When state.json cannot be written, set says so instead of raising; get still answers."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    state = SessionState.in_folder(blocker / "data")
    assert state.load_problem is None  # no data folder yet is no problem at start
    problem = state.set(LAST_LESSON_KEY, "python-basics/02")
    assert problem and "cannot save where you left off" in problem and "state.json" in problem
    assert state.last_error == problem
    assert state.get(LAST_LESSON_KEY, "") == "python-basics/02"
    assert state.set(LAST_LESSON_KEY, "python-basics/02") == problem  # unchanged: tried again


def test_values_json_cannot_hold_are_refused_before_anything_changes(tmp_path):
    """A value that is not plain JSON raises (a caller's bug) and is not remembered."""
    state = SessionState(tmp_path / "state.json")
    with pytest.raises(TypeError):
        state.set("when", object())
    with pytest.raises(ValueError):
        state.set("ratio", float("nan"))
    assert state.get("when") is None and state.get("ratio") is None
    assert not (tmp_path / "state.json").exists()


def test_upgrade_takes_the_last_lesson_from_the_old_setting(tmp_path):
    """With no state file, the last lesson comes from lessons.last in the user's settings."""
    settings = _old_settings(tmp_path, "python-basics/03")
    assert settings.problems == []
    state = SessionState(tmp_path / "data" / "state.json", settings)
    assert state.get(LAST_LESSON_KEY, "") == "python-basics/03"
    assert state.load_problem is None


def test_migrated_lesson_is_saved_with_the_next_change(tmp_path):
    """Once any state is written, the migrated last lesson is in state.json too."""
    settings = _old_settings(tmp_path, "python-basics/03")
    path = tmp_path / "data" / "state.json"
    assert SessionState(path, settings).set("other", 1) is None
    assert SessionState(path).get(LAST_LESSON_KEY, "") == "python-basics/03"


def test_state_file_wins_over_the_old_setting(tmp_path):
    """A last lesson already in state.json is used, not the stale value in settings.toml."""
    settings = _old_settings(tmp_path, "python-basics/01")
    path = tmp_path / "data" / "state.json"
    SessionState(path, settings).set(LAST_LESSON_KEY, "python-basics/05")
    assert SessionState(path, settings).get(LAST_LESSON_KEY, "") == "python-basics/05"


def test_corrupt_state_file_still_falls_back_to_the_old_setting(tmp_path):
    """A corrupt state.json is moved aside and the old setting still gives the last lesson."""
    settings = _old_settings(tmp_path, "python-basics/04")
    path = tmp_path / "state.json"
    path.write_text("{not json", encoding="utf-8")
    state = SessionState(path, settings)
    assert state.load_problem and state.get(LAST_LESSON_KEY, "") == "python-basics/04"
