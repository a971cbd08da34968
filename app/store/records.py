"""What the model library knows of its files, kept in one JSON file in the learner's store:
each file's check (by size and modification time, so a changed file is checked again), the
sha256 the hub gave at download, and the last failure of each entry. Thread-safe; written
atomically; a record that cannot be written costs only a check next time."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from app.core.atomic import atomic_write_text

SECTIONS = ("checked", "expected", "failures")


class Records:
    """The record file at `path` (read when first needed)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._data: dict[str, dict] | None = None
        self.load_problem: str | None = None

    def _load(self) -> dict[str, dict]:
        if self._data is None:
            data: dict[str, dict] = {key: {} for key in SECTIONS}
            try:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(raw, dict):
                    for key in SECTIONS:
                        if isinstance(raw.get(key), dict):
                            data[key] = raw[key]
            except FileNotFoundError:
                pass
            except (OSError, ValueError) as exc:
                self.load_problem = (
                    f"The model store's record “{self.path}” could not be read ({exc}); models "
                    "will be checked again."
                )
            self._data = data
        return self._data

    def _save(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(self._load(), indent=1, sort_keys=True))
        except OSError:
            pass  # a read-only home: the checks are redone next time, nothing is lost

    def check(self, path: Path, sha: str | None, ok: bool, how: str, note: str) -> None:
        """Record the outcome of checking `path` ("sha256" or "gguf"), as the file is now."""
        st = path.stat()
        with self._lock:
            self._load()["checked"][str(path.absolute())] = {
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "sha256": sha,
                "ok": ok,
                "how": how,
                "note": note,
            }
            self._save()

    def check_of(self, path: Path) -> dict | None:
        """The check recorded for `path`, or None when there is none or the file changed."""
        with self._lock:
            record = self._load()["checked"].get(str(path.absolute()))
        if not isinstance(record, dict):
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        if record.get("size") != st.st_size or record.get("mtime_ns") != st.st_mtime_ns:
            return None
        return record

    def set_expected(self, file_name: str, sha256: str) -> None:
        """Remember the sha256 the hub gave for `file_name`."""
        with self._lock:
            self._load()["expected"][file_name] = sha256
            self._save()

    def expected(self, file_name: str) -> str | None:
        """The sha256 the hub gave for `file_name`, if we asked."""
        with self._lock:
            value = self._load()["expected"].get(file_name)
        return value if isinstance(value, str) else None

    def set_failure(self, entry_id: str, message: str | None) -> None:
        """Remember why `entry_id` failed, or forget it (None)."""
        with self._lock:
            failures = self._load()["failures"]
            if message is None:
                if failures.pop(entry_id, None) is None:
                    return
            else:
                failures[entry_id] = message
            self._save()

    def failure(self, entry_id: str) -> str | None:
        """Why `entry_id` last failed, or None."""
        with self._lock:
            value = self._load()["failures"].get(entry_id)
        return str(value) if value else None
