import os
import tempfile

from main import load_notes


def test_load_notes_returns_lines():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "test_notes.txt")
        with open(path, "w") as file:
            file.write("a\nb\n")
        result = load_notes(path)
        assert result == ["a", "b"], (
            "For a file containing 'a\\nb\\n', load_notes should return ['a', 'b'], "
            f"but it returned {result!r}."
        )


def test_load_notes_three_lines():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "test_notes.txt")
        with open(path, "w") as file:
            file.write("Buy milk\nCall Grandma\nPractice Python\n")
        result = load_notes(path)
        expected = ["Buy milk", "Call Grandma", "Practice Python"]
        assert result == expected, (
            f"load_notes should return {expected!r}, but it returned {result!r}."
        )
