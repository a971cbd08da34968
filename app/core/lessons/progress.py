"""The learner's progress per lesson and their lesson files (workspaces), kept safe on disk."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import stat
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from app.core.atomic import atomic_write_text
from app.core.lessons.files import copy_files, relative_path_problem

log = logging.getLogger(__name__)

PROGRESS_FILE = "progress.json"
FORMAT_VERSION = 1
_STAMP = "%Y%m%d-%H%M%S"


class LessonLike(Protocol):
    """What the workspace methods need of a lesson (a `Lesson` has it)."""

    @property
    def id(self) -> str:
        """The lesson folder's name."""
        ...

    @property
    def course_id(self) -> str:
        """The course folder's name."""
        ...

    @property
    def starter_dir(self) -> Path:
        """The folder of starter files."""
        ...


@dataclass(frozen=True)
class LessonProgress:
    """How far a learner got in one lesson.

    Attributes:
        done: the checks passed at least once (or the lesson was marked done).
        attempts: how many times the learner ran the checks.
        hints_used: how many hints they asked for.
        seconds_spent: time spent with the lesson open.
        last_opened: when it was last opened (seconds since the epoch; 0 = never).
        solutions_revealed: how many tutor replies were shown with a full solution in them
            (the learner chose to see the code the solution guard had folded).
    """

    done: bool = False
    attempts: int = 0
    hints_used: int = 0
    seconds_spent: float = 0.0
    last_opened: float = 0.0
    solutions_revealed: int = 0

    @classmethod
    def from_json(cls, raw: Any) -> LessonProgress:
        """Build from a stored entry; a field of the wrong type gets its default."""
        if not isinstance(raw, dict):
            return cls()
        fields: dict[str, Any] = {}
        for name, default in asdict(cls()).items():
            value = raw.get(name, default)
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int):
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
            else:
                ok = (
                    isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and math.isfinite(value)
                    and value >= 0
                )
            if not ok:
                value = default
            fields[name] = float(value) if isinstance(default, float) else value
        return cls(**fields)


def _stamp() -> str:
    return time.strftime(_STAMP, time.localtime())


def _unique(path: Path) -> Path:
    """`path`, or `path` with -2, -3 ... appended when it is taken."""
    candidate, n = path, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


class ProgressStore:
    """Progress of every lesson in data_dir/progress.json, and the learner's files.

    Every change is written at once, atomically. A corrupt progress.json is moved aside
    (progress.json.corrupt-<timestamp>) and the store starts empty. Use from one thread.

    Learner files live in data_dir/workspaces/<course_id>/<lesson_id>/; resets move the old
    files to data_dir/workspaces/.backups/<course_id>/<lesson_id>-<timestamp>/.

    Attributes:
        data_dir: the user data folder.
        last_error: why the last save of progress.json failed, or None.
        load_problem: what the learner should be told about progress.json at start (it was
            corrupt and kept aside), or None.
    """

    def __init__(self, data_dir: Path) -> None:
        """Open (or start) the store in `data_dir`; never raises on a bad progress.json."""
        self.data_dir = Path(data_dir)
        self.last_error: str | None = None
        self.load_problem: str | None = None
        self._entries: dict[str, LessonProgress] = {}
        self._load()

    @property
    def progress_file(self) -> Path:
        """The progress file, data_dir/progress.json."""
        return self.data_dir / PROGRESS_FILE

    @property
    def workspaces_dir(self) -> Path:
        """Where the learner's lesson files live."""
        return self.data_dir / "workspaces"

    # --- progress -----------------------------------------------------------------------

    def _load(self) -> None:
        path = self.progress_file
        try:
            if not stat.S_ISREG(path.stat().st_mode):  # a FIFO would block the start for ever
                self._set_aside("is not a regular file")
                return
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        except (OSError, UnicodeDecodeError) as exc:
            self._set_aside(f"cannot be read: {exc}")
            return
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            self._set_aside(f"is not valid JSON: {exc}")
            return
        lessons = data.get("lessons") if isinstance(data, dict) else None
        if not isinstance(lessons, dict):
            self._set_aside("has no 'lessons' table")
            return
        self._entries = {
            key: LessonProgress.from_json(value)
            for key, value in lessons.items()
            if isinstance(key, str)
        }

    def _set_aside(self, why: str) -> None:
        target = _unique(self.progress_file.with_name(f"{PROGRESS_FILE}.corrupt-{_stamp()}"))
        try:
            os.replace(self.progress_file, target)
            log.warning("%s %s; moved to %s, starting afresh", self.progress_file, why, target)
            self.load_problem = (
                f"Your progress file {why}, so Code Tutor starts your progress afresh. The old "
                f"file is kept as “{target}”; your code is not affected."
            )
        except OSError as exc:
            log.warning("%s %s and cannot be moved aside: %s", self.progress_file, why, exc)
            self.load_problem = (
                f"Your progress file {why} and cannot be moved aside ({exc.strerror or exc}); "
                "progress starts afresh and may not be saved. Your code is not affected."
            )
        self._entries = {}

    def _save(self) -> None:
        data = {
            "version": FORMAT_VERSION,
            "lessons": {key: asdict(p) for key, p in sorted(self._entries.items())},
        }
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.progress_file, json.dumps(data, indent=1) + "\n")
            self.last_error = None
        except OSError as exc:
            self.last_error = f"cannot save {self.progress_file}: {exc}"
            log.warning("%s", self.last_error)

    def _update(self, key: str, **changes: Any) -> LessonProgress:
        entry = replace(self.get(key), **changes)
        self._entries[key] = entry
        self._save()
        return entry

    def get(self, key: str) -> LessonProgress:
        """The progress of lesson `key` ("course_id/lesson_id"); all zero when new."""
        return self._entries.get(key, LessonProgress())

    def all(self) -> dict[str, LessonProgress]:
        """Every lesson with recorded progress, by key."""
        return dict(self._entries)

    def record_attempt(self, key: str, passed: bool) -> LessonProgress:
        """Count one run of the checks; a pass marks the lesson done."""
        entry = self.get(key)
        return self._update(key, attempts=entry.attempts + 1, done=entry.done or passed)

    def record_hint(self, key: str) -> LessonProgress:
        """Count one hint asked for."""
        return self._update(key, hints_used=self.get(key).hints_used + 1)

    def record_solution_revealed(self, key: str) -> LessonProgress:
        """Count one full solution from the tutor that the learner chose to see."""
        return self._update(key, solutions_revealed=self.get(key).solutions_revealed + 1)

    def add_time(self, key: str, seconds: float) -> LessonProgress:
        """Add time spent in the lesson (negative or non-finite values are ignored)."""
        if not math.isfinite(seconds) or seconds <= 0:
            return self.get(key)
        return self._update(key, seconds_spent=self.get(key).seconds_spent + seconds)

    def mark_done(self, key: str) -> LessonProgress:
        """Mark the lesson done."""
        return self._update(key, done=True)

    def mark_opened(self, key: str, when: float | None = None) -> LessonProgress:
        """Record that the lesson was opened now (or at `when`)."""
        return self._update(key, last_opened=time.time() if when is None else when)

    # --- learner files ------------------------------------------------------------------

    def workspace_dir(self, lesson: LessonLike) -> Path:
        """The folder of the learner's files for `lesson` (not created)."""
        return self.workspaces_dir / lesson.course_id / lesson.id

    def workspace_for(self, lesson: LessonLike) -> Path:
        """The learner's folder for `lesson`, filled with the starter files the first time.

        Raises:
            OSError: the folder cannot be created (e.g. the disk is full).
        """
        workspace = self.workspace_dir(lesson)
        if not workspace.is_dir():
            self._copy_starter(lesson, workspace)
        return workspace

    def _copy_starter(self, lesson: LessonLike, workspace: Path) -> None:
        workspace.parent.mkdir(parents=True, exist_ok=True)
        tmp = _unique(workspace.with_name(f".{workspace.name}.new"))
        try:
            copy_files(Path(lesson.starter_dir), tmp)
            os.replace(tmp, workspace)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def save_file(self, lesson: LessonLike, name: str, text: str) -> Path:
        """Write one of the learner's files atomically.

        Args:
            lesson: the lesson.
            name: the file's path inside the workspace, e.g. "main.py".
            text: its content.

        Returns:
            The file written.

        Raises:
            ValueError: `name` would leave the workspace.
            OSError: it could not be written; the old content is untouched.
        """
        problem = relative_path_problem(name)
        if problem:
            raise ValueError(f"file name {name!r} {problem}")
        target = self.workspace_for(lesson) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(target, text)
        return target

    def reset_to_starter(self, lesson: LessonLike) -> Path:
        """Put the learner's current files in a backup and start again from the starter.

        Returns:
            The fresh workspace.

        Raises:
            OSError: the backup or the copy failed; nothing has been deleted.
        """
        workspace = self.workspace_dir(lesson)
        if workspace.exists():
            backup_parent = self.workspaces_dir / ".backups" / lesson.course_id
            backup_parent.mkdir(parents=True, exist_ok=True)
            os.replace(workspace, _unique(backup_parent / f"{lesson.id}-{_stamp()}"))
        return self.workspace_for(lesson)

    def backups(self, lesson: LessonLike) -> list[Path]:
        """The backups `reset_to_starter` made for `lesson`, oldest first."""
        folder = self.workspaces_dir / ".backups" / lesson.course_id
        prefix = f"{lesson.id}-"
        found: list[tuple[str, int, Path]] = []
        try:
            for path in folder.iterdir():
                rest = path.name[len(prefix) :]
                if path.is_dir() and path.name.startswith(prefix) and _is_stamp(rest):
                    found.append((rest[:15], int(rest[16:] or 1), path))
        except OSError:
            return []
        return [path for _s, _n, path in sorted(found)]


def _is_stamp(rest: str) -> bool:
    """Whether `rest` is a backup time stamp, maybe with a "-N" suffix."""
    try:
        time.strptime(rest[:15], _STAMP)
    except ValueError:
        return False
    return len(rest) == 15 or (rest[15] == "-" and rest[16:].isdigit())
