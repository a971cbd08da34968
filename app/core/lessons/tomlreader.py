"""Typed reading of parsed TOML tables; every problem becomes a LessonError at its line."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.core.lessons.files import Where, key_line, parse_toml, read_text
from app.core.lessons.model import LessonError

MISSING = object()
"""Marks a key that is absent from a table."""


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date/time"


class TomlReader:
    """Reads typed values out of one parsed TOML file, collecting located errors."""

    def __init__(self, file: Path, text: str) -> None:
        self.file = file
        self.text = text
        self.errors: list[LessonError] = []

    def error(self, where: Where | None, message: str) -> None:
        """Record `message` at the line defining `where` (no line when None)."""
        line = key_line(self.text, where) if where else None
        self.errors.append(LessonError(self.file, line, message))

    def unknown_keys(
        self, table: dict[str, Any], where: Where, known: Sequence[str], label: str = ""
    ) -> None:
        """Report each key of `table` (located at `where`) that is not in `known`."""
        for key in table:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.error((*where, key), f"{label}unknown key '{key}'{hint}")

    def string(
        self,
        table: dict[str, Any],
        where: Where,
        key: str,
        *,
        default: str | None = None,
        label: str = "",
        one_line: bool = False,
        non_empty: bool = True,
    ) -> str | None:
        """`table[key]` as a string; `default` when absent (None: the key is required)."""
        value = table.get(key, MISSING)
        if value is MISSING:
            if default is None:
                self.error(where or None, f"{label}missing required key '{key}'")
            return default
        if not isinstance(value, str):
            self.error((*where, key), f"{label}'{key}' must be a string, not {_type_name(value)}")
            return default
        if non_empty and not value.strip():
            self.error((*where, key), f"{label}'{key}' must not be empty")
            return default
        if one_line and "\n" in value.strip():
            self.error((*where, key), f"{label}'{key}' must be one line")
            return default
        return value

    def choice(
        self,
        table: dict[str, Any],
        where: Where,
        key: str,
        choices: Sequence[str],
        *,
        default: str | None,
        label: str = "",
    ) -> str | None:
        """`table[key]` as one of `choices`; `default` when absent or wrong."""
        if key not in table and default is not None:
            return default
        value = self.string(table, where, key, default=default, label=label)
        if value is not None and value not in choices:
            self.error((*where, key), f"{label}'{key}' must be one of {', '.join(choices)}")
            return default
        return value

    def boolean(self, table: dict[str, Any], where: Where, key: str, default: bool) -> bool:
        """`table[key]` as a boolean; `default` when absent or wrong."""
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.error((*where, key), f"'{key}' must be true or false, not {_type_name(value)}")
            return default
        return value

    def str_list(self, table: dict[str, Any], where: Where, key: str) -> tuple[str, ...]:
        """`table[key]` as a list of non-empty strings; () when absent or wrong."""
        value = table.get(key, [])
        if not isinstance(value, list):
            self.error((*where, key), f"'{key}' must be a list of strings")
            return ()
        for i, item in enumerate(value, 1):
            if not isinstance(item, str) or not item.strip():
                self.error((*where, key), f"'{key}' item {i} must be a non-empty string")
                return ()
        return tuple(value)


def read_toml(
    path: Path, root: Path
) -> tuple[TomlReader | None, dict[str, Any], list[LessonError]]:
    """Read and parse a TOML file inside `root`.

    Returns:
        (reader, data, []) on success, or (None, {}, [the located error]); never raises.
    """
    text, problem = read_text(path, root)
    if text is None:
        return None, {}, [LessonError(path, None, f"{path.name} {problem}")]
    data, line, message = parse_toml(text)
    if data is None:
        return None, {}, [LessonError(path, line, message or "invalid TOML")]
    return TomlReader(path, text), data, []
