"""Layered settings: built-in defaults < site-wide (admin) < user < command line.

Files are TOML with flat `section.key` tables. The admin file may lock keys:
`[locked] keys = ["model.path"]`; a locked key ignores the user layer and the UI shows it locked.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.atomic import atomic_write_text

DEFAULTS: dict[str, Any] = {
    "model.path": "",
    "model.chat_format": "",
    "model.n_ctx": 4096,
    "tutor.max_tokens": 512,
    "tutor.temperature": 0.2,
    "lessons.last": "",
    "lessons.extra_dirs": [],
}


class SettingsError(Exception):
    """A settings file is broken; `str()` names the file and the problem."""


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def read_layer(path: Path) -> dict[str, Any]:
    """Read one settings file into flat keys; a missing file is an empty layer.

    Raises:
        SettingsError: the file is not valid TOML, or a value has the wrong type.
    """
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"The settings file “{path}” could not be read: {exc}") from exc
    flat = _flatten(data)
    for key, value in flat.items():
        default = DEFAULTS.get(key)
        int_for_float = isinstance(default, float) and isinstance(value, int)
        if default is not None and not isinstance(value, type(default)) and not int_for_float:
            raise SettingsError(
                f"In “{path}”, {key} should be a {type(default).__name__}, not {value!r}."
            )
    return flat


@dataclass
class Settings:
    """The effective settings and where each came from."""

    site: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)
    cli: dict[str, Any] = field(default_factory=dict)
    user_file: Path | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def locked(self) -> set[str]:
        """Keys the admin locked."""
        keys = self.site.get("locked.keys", [])
        return set(keys) if isinstance(keys, list) else set()

    def get(self, key: str) -> Any:
        """The effective value of `key`."""
        if key in self.cli:
            return self.cli[key]
        if key in self.user and key not in self.locked:
            return self.user[key]
        if key in self.site:
            return self.site[key]
        return DEFAULTS.get(key)

    def set_user(self, key: str, value: Any) -> None:
        """Change a user setting and write the user file if it changed (locked keys refuse)."""
        if key in self.locked:
            raise SettingsError(f"{key} is locked by your administrator.")
        if self.user.get(key) == value:
            return
        self.user[key] = value
        if self.user_file is not None:
            self.user_file.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.user_file, dumps(self.user))


def dumps(flat: dict[str, Any]) -> str:
    """Flat keys back to TOML tables (strings, numbers, booleans, lists of strings)."""
    tables: dict[str, dict[str, Any]] = {}
    for key, value in sorted(flat.items()):
        section, _, name = key.rpartition(".")
        tables.setdefault(section, {})[name] = value
    lines: list[str] = []
    for section, values in tables.items():
        if section:
            lines.append(f"[{section}]")
        for name, value in values.items():
            lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def load_settings(site_file: Path, user_file: Path, cli: dict[str, Any] | None = None) -> Settings:
    """Read the layers. A broken file is skipped and reported in `problems`, never fatal."""
    settings = Settings(cli=dict(cli or {}), user_file=user_file)
    for attr, path in (("site", site_file), ("user", user_file)):
        try:
            setattr(settings, attr, read_layer(path))
        except SettingsError as exc:
            settings.problems.append(str(exc))
    return settings
