"""File types: which language a file is, by extension, and whether it is fit to edit.

The language tables are views of the registry in `app.core.languages`; `language_for_path` is
re-exported from there.
"""

from __future__ import annotations

import errno
from pathlib import Path

from app.core.languages import LANGUAGES, PLAIN_TEXT, extension_map, language_for_path

__all__ = [
    "LANGUAGE_BY_EXTENSION",
    "LANGUAGE_NAMES",
    "MAX_EDITOR_BYTES",
    "UnsuitableFileError",
    "language_for_path",
    "read_source_file",
    "save_problem_words",
]

LANGUAGE_BY_EXTENSION: dict[str, str] = extension_map()
"""File extension (".py") -> language id, from `app.core.languages`."""

LANGUAGE_NAMES: dict[str, str] = {
    **{language.id: language.name for language in LANGUAGES.values()},
    PLAIN_TEXT.id: PLAIN_TEXT.name,
}
"""Language id -> display name, plain text ("text") included, from `app.core.languages`."""

MAX_EDITOR_BYTES = 5 * 1024 * 1024


class UnsuitableFileError(Exception):
    """A file the editor should not open; `str()` is a message for the learner."""


def read_source_file(path: str | Path, max_bytes: int = MAX_EDITOR_BYTES) -> str:
    """Read a text file for the editor, refusing what would hurt it.

    Args:
        path: the file to open.
        max_bytes: the largest file accepted.

    Returns:
        The file's text (UTF-8, or Latin-1 when it is not UTF-8).

    Raises:
        UnsuitableFileError: too large, binary, or unreadable, with a message naming the file.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise UnsuitableFileError(
                f"“{p.name}” is {size / 1_048_576:.1f} MB, larger than the editor's limit of "
                f"{max_bytes / 1_048_576:.0f} MB. Open a smaller source file."
            )
        data = p.read_bytes()
    except UnsuitableFileError:
        raise
    except OSError as exc:
        raise UnsuitableFileError(
            f"Could not read “{p}”: {exc.strerror or exc}. Check that the file exists and that "
            "you may read it."
        ) from exc
    if b"\x00" in data[:8192]:
        raise UnsuitableFileError(
            f"“{p.name}” looks like a binary file, not source code, so it was not opened."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def save_problem_words(exc: Exception, path: Path) -> str:
    """The banner's sentence for a failed save (the disk is full, the folder is read-only)."""
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT):
        why = "the disk is full. Free some space"
    elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
        why = f"the folder “{path.parent}” is read-only. Ask for write access"
    else:
        why = f"{getattr(exc, 'strerror', None) or exc}. Try again"
    return (
        f"Your code is not being saved: {why}, or use File ▸ Save As… (Ctrl+Shift+S) to save "
        "it elsewhere. Your changes are kept in the editor meanwhile."
    )
