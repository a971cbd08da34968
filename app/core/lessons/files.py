"""Safe reading of lesson files and TOML, with line numbers for every problem found."""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

MAX_FILE_BYTES = 1024 * 1024
"""Lesson files larger than this (1 MB) are refused."""

MAX_FOLDER_FILES = 200
"""A starter/ or solution/ folder with more files than this is refused."""

_KEY_PART = r"(?:[A-Za-z0-9_-]+|\"(?:[^\"\\]|\\.)*\"|'[^']*')"
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_ARRAY_HEADER = re.compile(rf"^\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\[\s*({_DOTTED})\s*\]")
_KEY_VALUE = re.compile(rf"^({_DOTTED})\s*=")
_PART = re.compile(_KEY_PART)
_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")

Where = tuple[str | int, ...]
"""A location in a TOML document: keys, and indexes into arrays of tables."""


def relative_path_problem(rel: str) -> str | None:
    """Why `rel` cannot name a file inside a lesson folder, or None when it can.

    Absolute paths, drive letters and `..` parts are refused; symlinks are checked later,
    when the file is read (see `inside`).
    """
    if not rel.strip():
        return "is empty"
    if "\x00" in rel:
        return "contains a NUL character"
    if (
        rel.startswith(("/", "\\", "~"))
        or PurePosixPath(rel).is_absolute()
        or PureWindowsPath(rel).is_absolute()
        or PureWindowsPath(rel).drive
    ):
        return "must be a path relative to the lesson folder, not an absolute path"
    if ".." in re.split(r"[/\\]", rel):
        return "must stay inside the lesson folder ('..' is not allowed)"
    return None


def inside(path: Path, root: Path) -> bool:
    """Whether `path`, with every symlink followed, lies within `root`."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))
    except (OSError, ValueError):
        return False


def file_problem(path: Path, root: Path) -> str | None:
    """Why the file at `path` may not be used as lesson content, or None when it may.

    Args:
        path: the file.
        root: the lesson (or course) folder it must stay inside.
    """
    try:
        if not path.exists() and not path.is_symlink():
            return "does not exist"
        if not inside(path, root):
            return "points outside the lesson folder (a symlink?)"
        if not path.exists():
            return "is a broken symlink"
        if not path.is_file():
            return "is not a file"
        size = path.stat().st_size
    except (OSError, ValueError) as exc:
        return f"cannot be read: {exc}"
    if size > MAX_FILE_BYTES:
        return f"is larger than 1 MB ({size:,} bytes)"
    return None


def read_text(path: Path, root: Path) -> tuple[str | None, str | None]:
    """Read a lesson file as UTF-8 text, refusing what `file_problem` refuses and binaries.

    Returns:
        (text, None) on success, (None, problem) otherwise; never raises.
    """
    problem = file_problem(path, root)
    if problem:
        return None, problem
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"
    if len(data) > MAX_FILE_BYTES:
        return None, f"is larger than 1 MB ({len(data):,} bytes)"
    if b"\x00" in data:
        return None, "is a binary file, not text"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "is not UTF-8 text (a binary file?)"
    return text.replace("\r\n", "\n"), None


def folder_files(folder: Path, root: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Every file in `folder` (recursively), checked like `read_text` checks one file.

    Returns:
        (good files, [(bad file, problem), ...]); never raises.
    """
    good: list[Path] = []
    bad: list[tuple[Path, str]] = []
    for path in _walk(folder, bad):
        if len(good) + len(bad) >= MAX_FOLDER_FILES:
            bad.append((folder, f"holds more than {MAX_FOLDER_FILES} files"))
            break
        _text, problem = read_text(path, root)
        if problem:
            bad.append((path, problem))
        else:
            good.append(path)
    return good, bad


def copy_files(source: Path, target: Path) -> None:
    """Copy the files under `source` into `target` (created), content only.

    Permissions are not copied: starters installed read-only must give writable copies.
    Symlinks are followed; the loader has already refused ones leaving the lesson.

    Raises:
        OSError: a copy failed.
    """
    target.mkdir(parents=True, exist_ok=True)
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if path.is_file() and not _ignored(path.relative_to(source)):
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, destination)


IGNORED_DIRS = frozenset({"__pycache__", ".git", ".pytest_cache", ".mypy_cache"})
"""Folders Python, git and test tools leave behind; never lesson content."""
IGNORED_SUFFIXES = (".pyc", ".pyo", ".class")


def _ignored(relative: Path) -> bool:
    """True for a byproduct (bytecode, caches) rather than a file the teacher wrote."""
    return bool(IGNORED_DIRS & set(relative.parts)) or relative.name.endswith(IGNORED_SUFFIXES)


def _walk(folder: Path, bad: list[tuple[Path, str]]) -> Iterator[Path]:
    def on_error(exc: OSError) -> None:
        bad.append((Path(exc.filename or folder), f"cannot be read: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=on_error):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        base = Path(dirpath)
        for name in sorted(filenames):
            if not name.endswith(IGNORED_SUFFIXES):
                yield base / name
        for name in dirnames:
            if (base / name).is_symlink():
                yield base / name  # not followed by os.walk: checked as an entry


def parse_toml(text: str) -> tuple[dict[str, Any] | None, int | None, str | None]:
    """Parse TOML text.

    Returns:
        (data, None, None) on success, or (None, line, message) where `line` comes from
        tomllib's "(at line N, column M)" and may be None; never raises.
    """
    try:
        return tomllib.loads(text), None, None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line: int | None = None
        if m := _TOML_AT.search(message):
            line = int(m.group(1))
            message = f"{message[: m.start()]} (column {m.group(2)})"
        elif m := _TOML_AT_END.search(message):
            line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
            message = f"{message[: m.start()]} (at the end of the file)"
        return None, line, f"invalid TOML: {message}"
    except (RecursionError, ValueError, TypeError) as exc:
        return None, None, f"invalid TOML: {exc.__class__.__name__}: {exc}"


def _key_parts(dotted: str) -> tuple[str, ...]:
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in _PART.findall(dotted))


def key_line(text: str, where: Where) -> int | None:
    """The line that defines `where` in TOML `text`, found by scanning the text.

    Args:
        text: the TOML document.
        where: e.g. ("title",), ("checks", 1, "kind") for the second [[checks]] table's
            kind, or ("tutor", "templates", "hint").

    Returns:
        The 1-based line defining it; failing that, the line of its closest enclosing key or
        table; None when nothing of it is found.
    """
    if not where:
        return None
    best_len, best_line = 0, None
    header: Where = ()
    counts: dict[tuple[str, ...], int] = {}
    in_string: str | None = None
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if in_string:
            if in_string in line:
                in_string = None
            continue
        if not line or line.startswith("#"):
            continue
        if m := _ARRAY_HEADER.match(line):
            name = _key_parts(m.group(1))
            counts[name] = counts.get(name, -1) + 1
            header = full = (*name, counts[name])
        elif m := _TABLE_HEADER.match(line):
            header = full = _key_parts(m.group(1))
        elif m := _KEY_VALUE.match(line):
            full = (*header, *_key_parts(m.group(1)))
            rest = line[m.end() :]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_string = quote
                    break
        else:
            continue
        common = 0
        for a, b in zip(full, where, strict=False):
            if a != b:
                break
            common += 1
        if common == len(where):
            return number
        if common > best_len:
            best_len, best_line = common, number
    return best_line
