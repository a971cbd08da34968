"""Layered settings: built-in defaults < site-wide (admin) < user < command line.

Files are TOML with flat `section.key` tables. The admin file may lock keys:
`[locked] keys = ["model.path"]`; a locked key ignores the user layer and the UI shows it locked.
Only settings marked `lockable` in `SCHEMA` can be locked; the admin file naming any other key
there is reported in `Settings.problems`.

What the app remembers between runs (the last lesson opened) is not a setting: see app.state.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import shutil
import stat
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from app.core.atomic import atomic_write_text
from app.core.server import ServerConfig, make_config

MAX_FILE_BYTES = 1_000_000  # a settings file is a few lines; more is not a settings file
MAX_DEPTH = 4  # [section] key = value, plus [locked]; deeper nesting is not ours


@dataclass(frozen=True)
class Setting:
    """One setting of the schema: its type and default, what it is called, the values it takes.

    Attributes:
        key: "section.name".
        default: the built-in value; its type is the setting's type (`value_type`).
        label: what the setting is, in words, for messages ("the model file").
        minimum: the smallest number allowed (numbers only).
        maximum: the largest number allowed (numbers only).
        help: one or two sentences on what the setting does, for a settings dialog and the
            command line.
        lockable: whether a site administrator may lock it (`[locked] keys = [...]` in the
            site-wide file). Settings that are the learner's own business stay unlockable.
    """

    key: str
    default: Any
    label: str
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    lockable: bool = True

    @property
    def value_type(self) -> type:
        """The type of the setting's values: bool, int, float, str or list (of text)."""
        return type(self.default)

    @property
    def type_words(self) -> str:
        """The type in words ("whole number", "list of text"), for messages and help."""
        return _type_words(self.default)

    def problem(self, value: Any) -> str | None:
        """Why `value` cannot be this setting, or None when it can."""
        kind = type(self.default)
        ok_type = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok_type = True
        if not ok_type:
            return f"should be a {_type_words(self.default)}, not {value!r}"
        if isinstance(value, list) and not all(isinstance(v, str) for v in value):
            return f"should be a list of text, not {value!r}"
        if self.minimum is not None and value < self.minimum:
            return f"is {value}, below the smallest allowed value, {self.minimum:g}"
        if self.maximum is not None and value > self.maximum:
            return f"is {value}, above the largest allowed value, {self.maximum:g}"
        return None


def _type_words(default: Any) -> str:
    return {bool: "true or false", int: "whole number", float: "number", str: "text"}.get(
        type(default), "list of text"
    )


SCHEMA: dict[str, Setting] = {
    s.key: s
    for s in (
        Setting(
            "model.path",
            "",
            "the model file",
            help="The GGUF model file the tutor runs. Empty means the built-in starter model.",
        ),
        Setting(
            "model.chat_format",
            "",
            "the chat format",
            help=(
                'How the tutor\'s messages are laid out for the model, e.g. "llama-2" for '
                "Code Llama - Instruct. Empty means the model file's own template."
            ),
        ),
        Setting(
            "model.n_ctx",
            4096,
            "the model's context length",
            256,
            131_072,
            help=(
                "How many tokens of conversation and code the model sees at once. More "
                "remembers more of the chat but needs more memory."
            ),
        ),
        Setting(
            "model.mirror_endpoint",
            "",
            "the model download mirror",
            help=(
                "Where models are downloaded from instead of https://huggingface.co, for "
                "learners who cannot reach the hub directly: a Hugging Face mirror's address "
                "with its scheme, e.g. https://hf-mirror.example.org. Empty means the hub."
            ),
        ),
        Setting(
            "model.store_dir",
            "",
            "the shared model store",
            help=(
                "A folder of model files set up by the administrator (a lab's network share, "
                "files copied from a USB stick). Its models are checked once and used without "
                "writing to it; new downloads go there only if it is writable. Empty means "
                "each learner's own model folder."
            ),
        ),
        Setting(
            "server.url",
            "",
            "the tutor's server",
            help=(
                "An OpenAI-compatible server that runs the tutor's model for the whole room "
                "(`codetutor serve` on the lab's GPU machine, llama.cpp's server, vLLM, "
                "Ollama): its API's address, e.g. http://lab-gpu.local:8080/v1. Empty means "
                "the model runs on this computer."
            ),
        ),
        Setting(
            "server.model",
            "",
            "the server's model",
            help="The model name to ask the server for. Empty means the first it lists.",
        ),
        Setting(
            "server.api_key_file",
            "",
            "the server's API key file",
            help=(
                "A file holding the server's API key on one line (readable by the learners, "
                "e.g. on the lab's share). Empty means the environment variable "
                "CODETUTOR_SERVER_API_KEY, or no key. The key itself is never a setting, so it "
                "is never written to a learner's settings in clear."
            ),
        ),
        Setting(
            "server.connect_timeout",
            5.0,
            "how long to wait for the server to answer a connection, in seconds",
            0.5,
            120.0,
            help="Seconds to wait for the server to accept a connection before saying so.",
        ),
        Setting(
            "server.read_timeout",
            60.0,
            "how long a reply may pause, in seconds",
            1.0,
            3600.0,
            help=(
                "Seconds a reply from the server may go without a word before the wait ends "
                "with a message (Stop works at any moment)."
            ),
        ),
        Setting(
            "tutor.max_tokens",
            512,
            "the longest reply, in tokens",
            1,
            8192,
            help="The longest reply the tutor writes, in tokens (a token is about 3/4 of a word).",
        ),
        Setting(
            "tutor.temperature",
            0.2,
            "the tutor's temperature",
            0.0,
            2.0,
            help=(
                "How much the tutor's wording varies: 0 gives the same answer each time, higher "
                "values more varied and less reliable ones."
            ),
        ),
        Setting(
            "tutor.keep_conversations",
            True,
            "whether tutor conversations are kept",
            help=(
                "Keep each lesson's conversation with the tutor on this computer, so it is "
                "there when the lesson opens again. Off deletes the stored conversations and "
                "stores nothing more."
            ),
        ),
        Setting(
            "editor.inline_completion",
            True,
            "whether inline completion proposes code by itself",
            help=(
                "Grey proposals at the cursor after a pause in typing; Tab accepts, Esc "
                "dismisses, Ctrl+Space asks. A lesson may turn completion off."
            ),
        ),
        Setting(
            "lessons.extra_dirs",
            [],
            "extra lesson folders",
            help="Folders of lesson courses shown beside the built-in ones.",
        ),
        Setting(
            "locked.keys",
            [],
            "the settings the administrator locked",
            help=(
                "In the site-wide file only: the settings learners cannot change "
                '(`[locked] keys = ["model.path"]`).'
            ),
            lockable=False,
        ),
    )
}
DEFAULTS: dict[str, Any] = {key: s.default for key, s in SCHEMA.items() if key != "locked.keys"}


class SettingsError(Exception):
    """A settings file is broken; `str()` names the file and the problem."""


def _flatten(data: dict[str, Any], prefix: str = "", depth: int = 1) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise SettingsError(f"tables are nested more than {MAX_DEPTH} deep")
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}.", depth + 1))
        else:
            flat[name] = value
    return flat


def _read_text(path: Path) -> str | None:
    """The file's text, or None when there is no file. Refuses what is not a regular file
    (a FIFO would block the start for ever) and anything too big."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SettingsError(f"The settings file “{path}” could not be read: {exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise SettingsError(f"The settings file “{path}” is not a regular file.")
    if st.st_size > MAX_FILE_BYTES:
        raise SettingsError(f"The settings file “{path}” is too big to be settings.")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)  # never wait on a swapped-in FIFO
    try:
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as fh:
            return fh.read(MAX_FILE_BYTES + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"The settings file “{path}” could not be read: {exc}") from exc


def read_layer(path: Path, problems: list[str] | None = None) -> dict[str, Any]:
    """Read one settings file into flat keys; a missing file is an empty layer.

    A key with a wrong type or a value out of range is left out, with a line in `problems`
    naming it; the other keys stay.

    Raises:
        SettingsError: the file as a whole cannot be read (not TOML, nested too deep,
            not a regular file, too big).
    """
    text = _read_text(path)
    if text is None:
        return {}
    try:
        flat = _flatten(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, RecursionError, SettingsError) as exc:
        reason = "it is nested too deep" if isinstance(exc, RecursionError) else str(exc)
        raise SettingsError(f"The settings file “{path}” could not be read: {reason}") from exc
    layer: dict[str, Any] = {}
    for key, value in flat.items():
        setting = SCHEMA.get(key)
        problem = setting.problem(value) if setting else None
        if problem is None:
            layer[key] = float(value) if setting and type(setting.default) is float else value
        elif problems is not None:
            problems.append(
                f"In “{path}”, {key} ({setting.label}) {problem}; "  # type: ignore[union-attr]
                f"using {setting.default!r} instead."  # type: ignore[union-attr]
            )
    return layer


@dataclass
class Settings:
    """The effective settings and where each came from."""

    site: dict[str, Any] = field(default_factory=dict)
    user: dict[str, Any] = field(default_factory=dict)
    cli: dict[str, Any] = field(default_factory=dict)
    user_file: Path | None = None
    problems: list[str] = field(default_factory=list)
    user_file_broken: bool = False

    @property
    def locked(self) -> set[str]:
        """Keys the admin locked: those of `[locked] keys` that are lockable settings."""
        keys = self.site.get("locked.keys", [])
        if not isinstance(keys, list):
            return set()
        return {key for key in keys if key in SCHEMA and SCHEMA[key].lockable}

    def get(self, key: str) -> Any:
        """The effective value of `key`."""
        if key in self.cli:
            return self.cli[key]
        if key in self.user and key not in self.locked:
            return self.user[key]
        if key in self.site:
            return self.site[key]
        return DEFAULTS.get(key)

    def set_user(self, key: str, value: Any) -> str | None:
        """Change a user setting and write the user file if it changed.

        A user file that could not be read is first kept aside as
        `settings.toml.broken-<time>`, so what was in it is not lost.

        Returns:
            A sentence for the learner when the broken file was kept aside, else None.

        Raises:
            SettingsError: the key is locked, or the value is not allowed.
            OSError: the file could not be written.
        """
        if key in self.locked:
            raise SettingsError(f"{key} is locked by your administrator.")
        setting = SCHEMA.get(key)
        problem = setting.problem(value) if setting else None
        if problem:
            raise SettingsError(f"{key} ({setting.label}) {problem}.")  # type: ignore[union-attr]
        if self.user.get(key) == value:
            return None
        self.user[key] = value
        if self.user_file is None:
            return None
        notice = self._keep_broken_file() if self.user_file_broken else None
        self.user_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.user_file, dumps(self.user))
        return notice

    def _keep_broken_file(self) -> str | None:
        """Copy the unreadable user file aside before it is replaced."""
        assert self.user_file is not None
        self.user_file_broken = False
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = self.user_file.with_name(f"{self.user_file.name}.broken-{stamp}")
        with contextlib.suppress(OSError):
            if stat.S_ISREG(self.user_file.stat().st_mode):
                shutil.copy2(self.user_file, backup)
                return (
                    f"Your settings file could not be read, so a new one was written. The old "
                    f"one is kept as “{backup}”."
                )
        return None


def dumps(flat: dict[str, Any]) -> str:
    """Flat keys back to TOML tables, written by tomli-w (any text, newlines included)."""
    nested: dict[str, Any] = {}
    for key, value in sorted(flat.items()):
        *sections, name = key.split(".")
        table = nested
        for section in sections:
            table = table.setdefault(section, {})
        table[name] = value
    return tomli_w.dumps(nested)


def lock_problems(site: dict[str, Any], site_file: Path) -> list[str]:
    """A sentence for each key of the admin's `[locked] keys` that cannot be locked.

    Args:
        site: the site-wide layer, as `read_layer` returns it.
        site_file: where it was read from, for the sentences.

    Returns:
        One sentence per unknown or unlockable key (an unknown one may be a typo: the nearest
        setting is suggested), in the order the file lists them; such keys lock nothing.
    """
    problems = []
    lockable = [key for key, s in SCHEMA.items() if s.lockable]
    for key in dict.fromkeys(site.get("locked.keys", [])):
        setting = SCHEMA.get(key)
        if setting is None:
            close = difflib.get_close_matches(key, lockable, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(
                f"In “{site_file}”, [locked] keys names {key!r}, which is not a setting{hint}; "
                "it locks nothing."
            )
        elif not setting.lockable:
            problems.append(
                f"In “{site_file}”, [locked] keys names {key} ({setting.label}), which cannot "
                "be locked; that entry is ignored."
            )
    return problems


def load_settings(site_file: Path, user_file: Path, cli: dict[str, Any] | None = None) -> Settings:
    """Read the layers. A broken file is skipped and reported in `problems`, never fatal.

    So are keys of the admin's `[locked] keys` that are no setting or cannot be locked.
    """
    settings = Settings(cli=dict(cli or {}), user_file=user_file)
    for attr, path in (("site", site_file), ("user", user_file)):
        try:
            setattr(settings, attr, read_layer(path, settings.problems))
        except SettingsError as exc:
            settings.problems.append(str(exc))
            if attr == "user":
                settings.user_file_broken = True
        if attr == "site":
            settings.problems.extend(lock_problems(settings.site, site_file))
    return settings


def server_config_from_settings(settings: Settings) -> ServerConfig | None:
    """The tutor's server from the settings `server.*`, or None when `server.url` is empty.

    Raises:
        ServerConfigError: the address or the API key file cannot be used.
    """
    url = str(settings.get("server.url") or "").strip()
    if not url:
        return None
    return make_config(
        url,
        model=str(settings.get("server.model") or ""),
        key_file=str(settings.get("server.api_key_file") or ""),
        connect_timeout_s=float(settings.get("server.connect_timeout")),
        read_timeout_s=float(settings.get("server.read_timeout")),
        n_ctx=int(settings.get("model.n_ctx")),
    )
