"""Atomic writes and reading source files for the editor."""

import os

import pytest

from app.core.atomic import atomic_write_text
from app.core.filetypes import UnsuitableFileError, language_for_path, read_source_file


def test_atomic_write_replaces_content(tmp_path):
    """A write replaces the file's content and leaves no temporary files behind."""
    target = tmp_path / "a.py"
    target.write_text("old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_failure_mid_write_keeps_old_content(tmp_path, monkeypatch):
    """If the write fails before the rename, the old file is intact and no temp file remains."""
    target = tmp_path / "a.py"
    target.write_text("precious")

    def broken_fsync(_fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        atomic_write_text(target, "half-written")
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["a.py"]


def test_language_by_extension():
    """Extensions map to the editor's languages; unknown ones are plain text."""
    assert language_for_path("x.py") == "python"
    assert language_for_path("x.CPP") == "cpp"
    assert language_for_path("x.ts") == "typescript"
    assert language_for_path("x.cs") == "csharp"
    assert language_for_path("x.sh") == "bash"
    assert language_for_path("x.txt") == "text"


def test_large_and_binary_files_are_refused(tmp_path):
    """A 10 MB file and a binary file are refused with messages naming them."""
    big = tmp_path / "big.py"
    big.write_bytes(b"x = 1\n" * (10 * 1024 * 1024 // 6))
    binary = tmp_path / "prog.py"
    binary.write_bytes(b"\x7fELF\x00\x01\x02" * 100)
    with pytest.raises(UnsuitableFileError, match="big.py.*larger than"):
        read_source_file(big)
    with pytest.raises(UnsuitableFileError, match="prog.py.*binary"):
        read_source_file(binary)
    with pytest.raises(UnsuitableFileError, match="Could not read"):
        read_source_file(tmp_path / "nope.py")


def test_latin1_files_still_open(tmp_path):
    """A file that is not UTF-8 opens as Latin-1 rather than failing."""
    f = tmp_path / "old.py"
    f.write_bytes("print('café')".encode("latin-1"))
    assert read_source_file(f) == "print('café')"


def test_a_new_file_follows_the_umask_and_an_old_one_keeps_its_mode(tmp_path):
    """atomic_write_text gives a new file 0666 less the umask, and keeps an existing mode."""
    import os

    from app.core.atomic import atomic_write_text

    old = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "new.txt", "a")
        kept = tmp_path / "kept.txt"
        kept.write_text("b")
        kept.chmod(0o604)
        atomic_write_text(kept, "c")
    finally:
        os.umask(old)
    assert (tmp_path / "new.txt").stat().st_mode & 0o777 == 0o640
    assert kept.stat().st_mode & 0o777 == 0o604 and kept.read_text() == "c"
