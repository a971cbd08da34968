"""The model library: where model files live, which are ready, and the checks that make them so.

Two stores: the learner's own (`<user data>/models`) and, where the admin set `model.store_dir`,
a shared one (a lab's network share, files copied from a USB stick) that may be read-only. A
file is *ready* only after it was checked: its sha256 against the catalog's or the hub's, or,
where neither is known, its GGUF structure (then it is ready but "not verified"). Checks are
recorded in the learner's store (size and modification time), so a shared file is hashed once
and never written to. A file that fails is renamed into `.quarantine/` (in a store we may
write) or marked bad in the record (in a read-only one), and never offered as ready.

Thread-safe: a download worker and the UI may use one library at once.
"""

from __future__ import annotations

import contextlib
import enum
import errno
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.atomic import atomic_write_text
from app.core.catalog import CatalogEntry, local_entry, local_entry_toml, unique_id
from app.core.gguf import ModelFileError, inspect_gguf
from app.core.hardware import download_gb
from app.core.models import StarterModelMissingError, starter_model_path
from app.store.records import Records

HASH_CHUNK = 8 << 20
RECORDS = ".codetutor/records.json"
"""What is known of the files (checks, the hub's checksums, failures), in the learner's store."""
PARTIAL_DIR = ".partial"
QUARANTINE_DIR = ".quarantine"
LOCAL_CATALOG = "models.toml"
"""The learner's own model files, listed in their store (read by app.core.catalog)."""


class ModelState(enum.StrEnum):
    """What a catalog entry is on this computer (and, while a job runs, what it is doing)."""

    NOT_DOWNLOADED = "not downloaded"
    PAUSED = "paused"  # part of the file is here; Resume goes on from there
    DOWNLOADING = "downloading"
    VERIFYING = "verifying"
    UNCHECKED = "not checked yet"  # on disk, not yet verified: not offered as ready
    READY = "ready"
    FAILED = "failed"


class StoppedError(Exception):
    """A Pause or Cancel arrived while a file was being read or written."""


@dataclass(frozen=True)
class ModelStatus:
    """One entry's state on this computer.

    Attributes:
        entry: the catalog entry.
        state: its state.
        path: the ready (or unchecked) file, or the partial download; None otherwise.
        done: bytes downloaded so far (a paused download).
        total: the file's size in bytes.
        message: why it failed, or a note ("not verified: ...").
        shared: whether the file is in the shared (admin's) store.
        verified: whether its sha256 was checked.
    """

    entry: CatalogEntry
    state: ModelState
    path: Path | None = None
    done: int = 0
    total: int = 0
    message: str = ""
    shared: bool = False
    verified: bool = False

    def words(self) -> str:
        """The state in a few words: "ready", "paused at 42 %", "failed: <reason>"."""
        if self.state is ModelState.PAUSED:
            share = int(100 * self.done / self.total) if self.total else 0
            return f"paused at {share} %"
        if self.state is ModelState.FAILED:
            return f"failed: {self.message}"
        if self.state is ModelState.READY:
            where = " (shared store)" if self.shared else ""
            return f"ready{where}" + ("" if self.verified else " · not verified")
        return str(self.state)


def writable(folder: Path) -> bool:
    """Whether files could be written in `folder` (or the nearest folder that exists), without
    writing anything: a read-only mount or missing permission says no."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return os.access(probe, os.W_OK | os.X_OK)


def sha256_of(
    path: Path,
    progress: Callable[[int, int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> str:
    """The file's sha256, read in chunks; `progress(done, total)` after each.

    Raises:
        OSError: the file cannot be read.
        StoppedError: `stop()` returned True.
    """
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
            if stop is not None and stop():
                raise StoppedError()
    return digest.hexdigest()


class ModelLibrary:
    """The model files of the learner's store and the shared store, and what is known of them.

    Args:
        user_dir: the learner's own store (created when a file is first written).
        shared_dir: the admin's store (`model.store_dir`), or None.
        is_writable: tells whether a folder may be written (replaceable in tests).
    """

    def __init__(
        self,
        user_dir: Path,
        shared_dir: Path | None = None,
        is_writable: Callable[[Path], bool] = writable,
    ) -> None:
        self.user_dir = Path(user_dir)
        self.shared_dir = Path(shared_dir) if shared_dir else None
        self._is_writable = is_writable
        self.records = Records(self.user_dir / RECORDS)

    # --- where files go --------------------------------------------------------------

    @property
    def shared_writable(self) -> bool:
        """Whether the shared store exists and may be written (downloads then go there)."""
        return (
            self.shared_dir is not None
            and self.shared_dir.is_dir()
            and (self._is_writable(self.shared_dir))
        )

    @property
    def download_dir(self) -> Path:
        """Where new downloads go: the shared store if it is writable, else the learner's."""
        return self.shared_dir if self.shared_writable and self.shared_dir else self.user_dir

    @property
    def local_catalog(self) -> Path:
        """The learner's list of their own GGUF files."""
        return self.user_dir / LOCAL_CATALOG

    def part_path(self, entry: CatalogEntry) -> Path:
        """Where a download of `entry` in progress is kept (its metadata beside it, .json)."""
        return self.download_dir / PARTIAL_DIR / f"{entry.file}.part"

    def candidates(self, entry: CatalogEntry) -> list[tuple[Path, bool]]:
        """(path, in the shared store) of each place `entry`'s file may be, learner's first."""
        found = [(self.user_dir / entry.file, False)]
        if self.shared_dir is not None:
            found.append((self.shared_dir / entry.file, True))
        return found

    # --- records ------------------------------------------------------------------------

    @property
    def load_problem(self) -> str | None:
        """A sentence when the record file could not be read (files are checked again)."""
        return self.records.load_problem

    def note_expected(self, entry: CatalogEntry, sha256: str) -> None:
        """Remember the sha256 the hub gave for `entry`'s file (checked after download)."""
        self.records.set_expected(entry.file, sha256)

    def expected_sha256(self, entry: CatalogEntry) -> str | None:
        """The sha256 `entry`'s file must have: the catalog's, else the hub's when we asked."""
        return entry.sha256 or self.records.expected(entry.file)

    def note_failure(self, entry: CatalogEntry, message: str | None) -> None:
        """Remember why `entry` failed (shown until the next try), or forget it (None)."""
        self.records.set_failure(entry.id, message)

    # --- states --------------------------------------------------------------------------

    def status(self, entry: CatalogEntry) -> ModelStatus:
        """`entry`'s state, from the disk and the records; reads no file's content."""
        if entry.is_starter:
            try:
                path = starter_model_path()
            except StarterModelMissingError as exc:
                return ModelStatus(entry, ModelState.FAILED, message=str(exc))
            return ModelStatus(
                entry,
                ModelState.READY,
                path,
                total=entry.size,
                verified=True,
                message="ships with Code Tutor",
            )
        if entry.is_local:
            assert entry.path is not None
            if not entry.path.is_file():
                return ModelStatus(
                    entry, ModelState.FAILED, entry.path, message=f"the file “{entry.path}” is gone"
                )
            return ModelStatus(
                entry,
                ModelState.READY,
                entry.path,
                total=entry.size,
                message="your own file, not verified",
            )
        unchecked: ModelStatus | None = None
        bad: ModelStatus | None = None
        for path, shared in self.candidates(entry):
            if not path.is_file():
                continue
            record = self.records.check_of(path)
            if record is None:
                unchecked = unchecked or ModelStatus(
                    entry, ModelState.UNCHECKED, path, total=entry.size, shared=shared
                )
            elif record.get("ok"):
                return ModelStatus(
                    entry,
                    ModelState.READY,
                    path,
                    total=_size(path) or entry.size,
                    shared=shared,
                    verified=record.get("how") == "sha256",
                    message=str(record.get("note", "")),
                )
            else:
                bad = bad or ModelStatus(
                    entry,
                    ModelState.FAILED,
                    None,
                    total=entry.size,
                    shared=shared,
                    message=str(record.get("note", "")),
                )
        if unchecked is not None:
            return unchecked
        part = self.part_path(entry)
        try:  # a download thread may finish (rename) or cancel (delete) it at any moment
            done = part.stat().st_size if part.is_file() else None
        except FileNotFoundError:
            done = None
        if done is not None:
            total = _part_total(part) or entry.size
            return ModelStatus(entry, ModelState.PAUSED, part, done, total)
        if bad is not None:
            return bad
        failure = self.records.failure(entry.id)
        if failure:
            return ModelStatus(entry, ModelState.FAILED, total=entry.size, message=str(failure))
        return ModelStatus(entry, ModelState.NOT_DOWNLOADED, total=entry.size)

    def ready_path(self, entry: CatalogEntry) -> Path | None:
        """The file to load for `entry`, or None when it is not ready."""
        status = self.status(entry)
        return status.path if status.state is ModelState.READY else None

    # --- checks --------------------------------------------------------------------------

    def verify(
        self,
        entry: CatalogEntry,
        progress: Callable[[int, int], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> ModelStatus:
        """Check every copy of `entry` that is not checked yet, and return its state.

        A copy whose sha256 is wrong, or (with no sha256 known) whose GGUF structure is
        broken, is set aside and reported; a shared read-only copy is only marked bad.

        Raises:
            StoppedError: `stop()` returned True while hashing.
        """
        if entry.is_starter or entry.is_local:
            return self.status(entry)
        problems: list[str] = []
        for path, shared in self.candidates(entry):
            if not path.is_file() or self.records.check_of(path) is not None:
                continue
            problem = self.check_file(entry, path, shared, progress, stop)
            if problem:
                problems.append(problem)
        status = self.status(entry)
        if status.state is not ModelState.READY and problems:
            return ModelStatus(entry, ModelState.FAILED, total=entry.size, message=problems[-1])
        return status

    def check_file(
        self,
        entry: CatalogEntry,
        path: Path,
        shared: bool,
        progress: Callable[[int, int], None] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> str | None:
        """Check one file of `entry` and record the outcome; returns what is wrong, or None."""
        expected = self.expected_sha256(entry)
        try:
            if expected:
                actual = sha256_of(path, progress, stop)
                if actual == expected:
                    self.records.check(path, actual, True, "sha256", "")
                    return None
                reason = (
                    f"its sha256 is {actual[:12]}…, not the expected {expected[:12]}… (a damaged "
                    "download, or another file under the same name)"
                )
            else:
                inspect_gguf(path)
                note = "not verified: no checksum is known; its GGUF structure is complete"
                self.records.check(path, None, True, "gguf", note)
                return None
        except ModelFileError as exc:
            reason = str(exc)
        except OSError as exc:
            return f"“{path}” could not be read ({exc.strerror or exc})"
        return self._reject(entry, path, shared, reason)

    def _reject(self, entry: CatalogEntry, path: Path, shared: bool, reason: str) -> str:
        if shared and not self.shared_writable:
            message = (
                f"the copy in the shared store “{path}” is damaged: {reason}. It is not used; "
                "tell your administrator."
            )
            self.records.check(path, None, False, "sha256", message)
            return message
        moved = self.quarantine(path, "checksum-mismatch")
        message = (
            f"the file did not pass its check: {reason}. It was set aside as “{moved}”, not loaded."
        )
        self.note_failure(entry, message)
        return message

    def quarantine(self, path: Path, reason: str) -> Path:
        """Rename `path` into its store's `.quarantine/` folder (never loaded from there)."""
        folder = path.parent.parent if path.parent.name == PARTIAL_DIR else path.parent
        target = (
            folder
            / QUARANTINE_DIR
            / f"{path.name.removesuffix('.part')}.{reason}-{time.strftime('%Y%m%d-%H%M%S')}"
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        with contextlib.suppress(OSError):
            Path(f"{path}.json").unlink()
        return target

    def install(self, entry: CatalogEntry, part: Path, sha: str | None) -> Path:
        """Move a checked download into its store and record the check; returns the file."""
        target = part.parent.parent / entry.file
        os.replace(part, target)
        with contextlib.suppress(OSError):
            Path(f"{part}.json").unlink()
        if sha:
            self.records.check(target, sha, True, "sha256", "")
        else:
            self.records.check(target, None, True, "gguf", "not verified: no checksum is known")
        self.note_failure(entry, None)
        return target

    # --- the learner's changes -----------------------------------------------------------

    def remove(self, entry: CatalogEntry) -> str:
        """Delete `entry`'s file from the learner's store (or the writable shared store) and
        any partial download; returns a sentence saying what was done.

        Raises:
            OSError: the file could not be deleted (in use on Windows, a read-only folder).
        """
        removed = []
        for path, shared in self.candidates(entry):
            if path.is_file() and (not shared or self.shared_writable):
                path.unlink()
                removed.append(path)
        part = self.part_path(entry)
        if part.is_file():
            part.unlink()
            with contextlib.suppress(OSError):
                Path(f"{part}.json").unlink()
            removed.append(part)
        self.note_failure(entry, None)
        if not removed:
            if any(p.is_file() for p, _ in self.candidates(entry)):
                return f"{entry.display_name} is in the shared store, which is read-only: it stays."
            return f"{entry.display_name} was not on this computer."
        size = sum(entry.size for p in removed if p.suffix != ".part")
        freed = f", freeing {download_gb(size)}" if size else ""
        return f"Deleted {entry.display_name}{freed}."

    def add_local(
        self,
        path: Path,
        name: str | None = None,
        chat_format: str | None = None,
        taken: tuple[str, ...] = (),
    ) -> CatalogEntry:
        """Add a GGUF file on this computer to the learner's own list ("not verified").

        Raises:
            ModelFileError: it is not a usable GGUF file.
            OSError: the list could not be written.
        """
        path = Path(path).expanduser().absolute()
        model_id = unique_id(taken, path.stem)
        entry = local_entry(path, model_id, name or path.stem, chat_format)
        existing = (
            self.local_catalog.read_text(encoding="utf-8") if self.local_catalog.exists() else ""
        )
        text = existing + ("\n" if existing and not existing.endswith("\n\n") else "")
        text += local_entry_toml(model_id, entry.name, path, entry.chat_format)
        self.local_catalog.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.local_catalog, text)
        return entry


def _size(path: Path) -> int | None:
    """The file's size, or None when it went meanwhile (removed by another thread)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


def _part_total(part: Path) -> int | None:
    """The size recorded beside a partial download, if any."""
    try:
        meta = json.loads(Path(f"{part}.json").read_text(encoding="utf-8"))
        return int(meta["size"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def disk_full(exc: OSError) -> bool:
    """Whether `exc` says the disk (or the quota) is full."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)
