"""Tests of the progress store: progress survives restarts and corruption, files survive resets."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from app.core.lessons import Lesson, load_lesson
from app.core.lessons.progress import LessonProgress, ProgressStore


@pytest.fixture
def lesson(make_lesson) -> Lesson:
    """A good lesson whose starter holds main.py and data/words.txt."""
    loaded = load_lesson(make_lesson(files={"starter/data/words.txt": "apple\n"}))
    assert isinstance(loaded, Lesson)
    return loaded


def test_progress_round_trip(tmp_path):
    """Attempts, hints, time, opening and done survive a new store on the same folder."""
    store = ProgressStore(tmp_path)
    key = "py/01-hello"
    assert store.get(key) == LessonProgress()
    store.record_attempt(key, passed=False)
    store.record_hint(key)
    store.record_hint(key)
    store.add_time(key, 12.5)
    store.add_time(key, -3)  # ignored
    store.mark_opened(key, when=1000.0)
    assert store.get(key).done is False
    store.record_attempt(key, passed=True)
    store.record_attempt("py/02", passed=False)
    store.mark_done("py/03")

    again = ProgressStore(tmp_path)
    assert again.get(key) == LessonProgress(
        done=True, attempts=2, hints_used=2, seconds_spent=12.5, last_opened=1000.0
    )
    assert again.get("py/02") == LessonProgress(attempts=1)
    assert again.get("py/03").done is True
    on_disk = json.loads((tmp_path / "progress.json").read_text())
    assert on_disk["version"] == 1
    assert on_disk["lessons"][key]["hints_used"] == 2
    assert sorted(again.all()) == ["py/01-hello", "py/02", "py/03"]
    assert [p.name for p in tmp_path.iterdir()] == ["progress.json"]  # no temp files left


@pytest.mark.parametrize("content", ["{not json", '["a list"]', '{"lessons": 3}', "\udcff"])
def test_corrupt_progress_is_moved_aside(tmp_path, content):
    """A corrupt progress.json is kept as progress.json.corrupt-<time>; the store starts empty."""
    path = tmp_path / "progress.json"
    path.write_bytes(content.encode("utf-8", "surrogateescape"))
    store = ProgressStore(tmp_path)
    assert store.all() == {}
    (aside,) = tmp_path.glob("progress.json.corrupt-*")
    assert aside.read_bytes() == content.encode("utf-8", "surrogateescape")
    assert not path.exists()
    assert store.load_problem and aside.name in store.load_problem  # the learner is told
    store.record_hint("py/01")
    assert json.loads(path.read_text())["lessons"]["py/01"]["hints_used"] == 1


def test_fifo_progress_file_does_not_block_the_start(tmp_path):
    """A FIFO named progress.json is moved aside at once and the learner told."""
    import os
    import threading

    os.mkfifo(tmp_path / "progress.json")
    stores = []
    thread = threading.Thread(target=lambda: stores.append(ProgressStore(tmp_path)), daemon=True)
    thread.start()
    thread.join(10)
    assert stores, "ProgressStore blocked on a FIFO"
    assert "not a regular file" in (stores[0].load_problem or "")


def test_bad_fields_fall_back_to_defaults(tmp_path):
    """Entries with wrongly typed fields keep their good fields; nothing is moved aside."""
    data = {
        "version": 1,
        "lessons": {
            "py/01": {"done": "yes", "attempts": 3, "hints_used": -1, "seconds_spent": 2},
            "py/02": "nonsense",
        },
    }
    (tmp_path / "progress.json").write_text(json.dumps(data))
    store = ProgressStore(tmp_path)
    assert store.get("py/01") == LessonProgress(attempts=3, seconds_spent=2.0)
    assert store.get("py/02") == LessonProgress()
    assert not list(tmp_path.glob("*.corrupt-*"))


def test_solutions_revealed_are_counted_and_old_files_read(tmp_path):
    """Revealed tutor solutions are counted and survive a restart; a file from before the
    count existed reads as 0 with its other fields kept, and a bad count falls back to 0."""
    old = {"version": 1, "lessons": {"py/01": {"attempts": 2, "hints_used": 1}}}
    (tmp_path / "progress.json").write_text(json.dumps(old))
    store = ProgressStore(tmp_path)
    assert store.get("py/01") == LessonProgress(attempts=2, hints_used=1, solutions_revealed=0)

    assert store.record_solution_revealed("py/01").solutions_revealed == 1
    assert store.record_solution_revealed("py/01").solutions_revealed == 2
    assert store.record_solution_revealed("py/02") == LessonProgress(solutions_revealed=1)

    again = ProgressStore(tmp_path)
    assert again.get("py/01") == LessonProgress(attempts=2, hints_used=1, solutions_revealed=2)
    on_disk = json.loads((tmp_path / "progress.json").read_text())
    assert on_disk["lessons"]["py/02"]["solutions_revealed"] == 1

    on_disk["lessons"]["py/02"]["solutions_revealed"] = "many"
    (tmp_path / "progress.json").write_text(json.dumps(on_disk))
    assert ProgressStore(tmp_path).get("py/02").solutions_revealed == 0


def test_unwritable_data_dir_does_not_crash(tmp_path):
    """When progress cannot be saved the store keeps working and says why."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = ProgressStore(blocker / "data")
    store.record_hint("py/01")
    assert store.get("py/01").hints_used == 1
    assert store.last_error and "cannot save" in store.last_error


def test_workspace_is_created_from_the_starter_once(tmp_path, lesson):
    """The first call copies the starter files; later calls keep the learner's edits."""
    store = ProgressStore(tmp_path)
    workspace = store.workspace_for(lesson)
    assert workspace == tmp_path / "workspaces" / "py" / "01-hello"
    assert (workspace / "main.py").read_text() == "# write your code here\n"
    assert (workspace / "data" / "words.txt").read_text() == "apple\n"
    store.save_file(lesson, "main.py", "print('mine')\n")
    assert store.workspace_for(lesson) == workspace
    assert (workspace / "main.py").read_text() == "print('mine')\n"
    assert sorted(p.name for p in workspace.parent.iterdir()) == ["01-hello"]


def test_save_file_refuses_paths_leaving_the_workspace(tmp_path, lesson):
    """save_file writes inside the workspace only."""
    store = ProgressStore(tmp_path)
    written = store.save_file(lesson, "sub/extra.py", "x = 1\n")
    assert written.read_text() == "x = 1\n"
    for name in ("../escape.py", "/tmp/abs.py", ""):
        with pytest.raises(ValueError):
            store.save_file(lesson, name, "bad")
    assert not (tmp_path / "workspaces" / "py" / "escape.py").exists()


def test_workspace_files_are_writable_even_from_a_read_only_starter(tmp_path, lesson):
    """Starter files installed read-only become writable copies."""
    starter_main = lesson.starter_dir / "main.py"
    os.chmod(starter_main, stat.S_IRUSR)
    try:
        workspace = ProgressStore(tmp_path / "data").workspace_for(lesson)
    finally:
        os.chmod(starter_main, stat.S_IRUSR | stat.S_IWUSR)
    assert os.stat(workspace / "main.py").st_mode & stat.S_IWUSR


def test_reset_keeps_a_backup(tmp_path, lesson):
    """Reset moves the learner's files to a backup and restores the starter."""
    store = ProgressStore(tmp_path)
    assert store.backups(lesson) == []
    store.save_file(lesson, "main.py", "print('attempt 1')\n")
    workspace = store.reset_to_starter(lesson)
    assert (workspace / "main.py").read_text() == "# write your code here\n"
    store.save_file(lesson, "main.py", "print('attempt 2')\n")
    store.reset_to_starter(lesson)  # same second: a distinct backup
    backups = store.backups(lesson)
    assert len(backups) == 2
    assert [(b / "main.py").read_text() for b in backups] == [
        "print('attempt 1')\n",
        "print('attempt 2')\n",
    ]
    assert all(b.parent == tmp_path / "workspaces" / ".backups" / "py" for b in backups)
    assert backups[0].name.startswith("01-hello-")


def test_backups_belong_to_their_lesson_only(tmp_path, lesson, make_lesson):
    """Backups of lesson "01" do not include those of "01-hello", and vice versa."""
    other = load_lesson(make_lesson(lesson="01"))
    store = ProgressStore(tmp_path)
    store.workspace_for(lesson)
    store.reset_to_starter(lesson)
    store.workspace_for(other)
    store.reset_to_starter(other)
    store.reset_to_starter(other)
    assert len(store.backups(lesson)) == 1
    assert len(store.backups(other)) == 2
    assert all(b.name.startswith("01-hello-") for b in store.backups(lesson))


def test_reset_without_workspace_just_creates_it(tmp_path, lesson):
    """Resetting a lesson never opened creates its workspace and no backup."""
    store = ProgressStore(tmp_path)
    workspace = store.reset_to_starter(lesson)
    assert (workspace / "main.py").is_file()
    assert store.backups(lesson) == []


def test_progress_entries_are_independent_of_path(tmp_path, lesson):
    """Lesson.key is the progress key used by the store."""
    store = ProgressStore(Path(tmp_path))
    store.record_attempt(lesson.key, passed=True)
    assert ProgressStore(tmp_path).get("py/01-hello").done
