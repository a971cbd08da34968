"""What Code Tutor remembers between runs that is not a setting: the last lesson opened.

Session state is one small JSON object, `state.json` in the user data folder
(`resolve_paths().data_dir`), written at once and atomically on every change. Nothing here
raises on a bad file or a failed write: what went wrong becomes a sentence for the learner
(`SessionState.load_problem`, the return value of `SessionState.set`).

Typical use::

    state = SessionState.in_folder(paths.data_dir, settings)
    if state.load_problem:
        show(state.load_problem)
    last = state.get(LAST_LESSON_KEY, "")
    problem = state.set(LAST_LESSON_KEY, "python-basics/02")
"""

from __future__ import annotations

import copy
import json
import logging
import os
import stat
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.core.atomic import atomic_write_text

if TYPE_CHECKING:
    from app.settings import Settings

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
LAST_LESSON_KEY = "lessons.last"
"""The last lesson opened ("course_id/lesson_id"); older versions kept it in settings.toml."""
MAX_FILE_BYTES = 1_000_000  # a few keys take a few hundred bytes; more is not our file
_STAMP = "%Y%m%d-%H%M%S"


def _same_kind(value: Any, default: Any) -> bool:
    """Whether `value` has the type of `default` (a whole number passes for a float)."""
    if isinstance(value, bool) or isinstance(default, bool):
        return isinstance(value, bool) and isinstance(default, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    return isinstance(value, type(default))


class SessionState:
    """Keys and JSON values remembered from one run to the next. Use from one thread.

    Attributes:
        path: the state file.
        load_problem: what the learner should be told about the file at start (it was
            unreadable and was moved aside, or could not even be moved), or None.
        last_error: why the last write failed, or None once a write succeeded.
    """

    def __init__(self, path: Path, settings: Settings | None = None) -> None:
        """Read the state file; a missing one is an empty state. Never raises.

        A file that is not valid JSON, not an object, not a regular file, unreadable or too
        big is moved aside as `state.json.corrupt-<time>` and the state starts empty.

        Args:
            path: the state file.
            settings: the loaded settings. When the state has no last lesson but the user's
                settings file still has the old `lessons.last` setting, that value is used, so
                upgrading keeps the learner's place.
        """
        self.path = Path(path)
        self.load_problem: str | None = None
        self.last_error: str | None = None
        self._values: dict[str, Any] = {}
        self._unsaved = False  # memory holds something the file lacks
        self._load()
        if settings is not None:
            self._migrate(settings)

    @classmethod
    def in_folder(cls, data_dir: Path, settings: Settings | None = None) -> SessionState:
        """The state kept in `data_dir`/state.json (see `__init__`)."""
        return cls(Path(data_dir) / STATE_FILE, settings)

    def get(self, key: str, default: Any = None) -> Any:
        """The value remembered under `key`.

        Args:
            key: e.g. `LAST_LESSON_KEY`.
            default: returned when nothing is remembered; also when the stored value has
                another type than a `default` that is not None (a hand-edited file).

        Returns:
            The value (a copy: changing it changes nothing stored), or `default`.
        """
        if key not in self._values:
            return default
        value = self._values[key]
        if default is not None and not _same_kind(value, default):
            return default
        return copy.deepcopy(value)

    def set(self, key: str, value: Any) -> str | None:
        """Remember `value` under `key` and write the file if it changed.

        A failed write does not raise: the value is still remembered for this run, and
        `last_error` holds the sentence that is returned.

        Args:
            key: e.g. `LAST_LESSON_KEY`.
            value: plain JSON data (text, numbers, true/false, None, lists, dicts).

        Returns:
            None when the file was written (or already held the value); else a sentence
            for the learner saying it could not be saved.

        Raises:
            TypeError: `key` is not text, or `value` is not plain JSON data (a caller's bug).
            ValueError: `value` holds NaN or an infinity, which JSON cannot carry.
        """
        if not isinstance(key, str):
            raise TypeError(f"state keys are text, not {key!r}")
        value = json.loads(json.dumps(value, allow_nan=False))  # tuples become lists, as on disk
        if not self._unsaved and key in self._values and self._values[key] == value:
            return None
        self._values[key] = value
        self._unsaved = True
        return self._save()

    # --- the file -----------------------------------------------------------------------

    def _load(self) -> None:
        try:
            st = self.path.stat()
        except (FileNotFoundError, NotADirectoryError):  # no file (or no data folder) yet
            return
        except OSError as exc:
            self._set_aside(f"cannot be read ({exc.strerror or exc})")
            return
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block the start for ever
            self._set_aside("is not a regular file")
            return
        if st.st_size > MAX_FILE_BYTES:
            self._set_aside("is too big to be Code Tutor's")
            return
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as fh:
                raw = fh.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            self._set_aside(f"cannot be read ({exc.strerror or exc})")
            return
        if len(raw) > MAX_FILE_BYTES:  # it grew after the stat
            self._set_aside("is too big to be Code Tutor's")
            return
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
            self._set_aside("is not valid JSON")
            return
        if not isinstance(data, dict):
            self._set_aside("does not hold a JSON object")
            return
        self._values = data

    def _set_aside(self, why: str) -> None:
        """Move the unusable file out of the way, so the next write does not replace it."""
        stamp = time.strftime(_STAMP, time.localtime())
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists() or target.is_symlink():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        try:
            os.replace(self.path, target)
        except OSError as exc:
            log.warning("%s %s and cannot be moved aside: %s", self.path, why, exc)
            self.load_problem = (
                f"The file where Code Tutor remembers your last lesson, “{self.path}”, {why} "
                f"and cannot be moved aside ({exc.strerror or exc}), so your last lesson is "
                "not reopened. Your code and progress are not affected."
            )
        else:
            log.warning("%s %s; moved to %s", self.path, why, target)
            self.load_problem = (
                f"The file where Code Tutor remembers your last lesson {why}, so your last "
                f"lesson is not reopened. The old file is kept as “{target}”; your code and "
                "progress are not affected."
            )

    def _migrate(self, settings: Settings) -> None:
        """Take the last lesson from the old `lessons.last` setting when the state lacks it."""
        current = self._values.get(LAST_LESSON_KEY)
        if isinstance(current, str) and current:
            return
        old = settings.user.get(LAST_LESSON_KEY)  # the user file's layer keeps unknown keys
        if isinstance(old, str) and old:
            self._values[LAST_LESSON_KEY] = old
            self._unsaved = True  # written with the next change

    def _save(self) -> str | None:
        text = json.dumps(self._values, indent=1, sort_keys=True) + "\n"  # ASCII: any text fits
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, text)
        except OSError as exc:
            self.last_error = (
                f"Code Tutor cannot save where you left off in “{self.path}” "
                f"({exc.strerror or exc}), so next time it may not reopen your last lesson."
            )
            log.warning("cannot write %s: %s", self.path, exc)
            return self.last_error
        self.last_error = None
        self._unsaved = False
        return None
