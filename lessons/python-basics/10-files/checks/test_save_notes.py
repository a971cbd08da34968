import os
import tempfile

from main import save_notes


def test_save_notes_writes_one_note_per_line():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "test_notes.txt")
        save_notes(path, ["a", "b"])
        assert os.path.exists(path), "save_notes did not create the file."
        with open(path) as file:
            content = file.read()
        assert content == "a\nb\n", (
            'After save_notes(filename, ["a", "b"]) the file should contain "a\\nb\\n", '
            f"but it contains {content!r}."
        )


def test_save_notes_replaces_old_content():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "test_notes.txt")
        save_notes(path, ["old note"])
        save_notes(path, ["new note"])
        assert os.path.exists(path), "save_notes did not create the file."
        with open(path) as file:
            content = file.read()
        assert content == "new note\n", (
            'Saving twice should replace the old notes (use "w"), '
            f"but the file contains {content!r}."
        )
