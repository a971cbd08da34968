"""One model download: resumable, checked before it is offered, reporting progress by callback.

`DownloadJob.run` runs on a worker thread (never the UI thread): it asks the hub about the
file, checks free disk space, fetches the bytes into `<store>/.partial/<file>.part` (resuming
from what is there: after Pause, a cut connection or quitting the app), verifies the sha256
(or, where none is known, the GGUF structure), and only then moves the file into the store.
A file that fails is quarantined, never loaded. `pause` and `cancel` may be called from any
thread; they take effect within one read chunk.
"""

from __future__ import annotations

import collections
import contextlib
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.core.catalog import CatalogEntry
from app.core.gguf import ModelFileError, inspect_gguf
from app.core.hardware import download_gb
from app.store.hub import HubConfig, HubError, QuietBar, RemoteFile, explain, remote_file, transfer
from app.store.library import ModelLibrary, ModelState, StoppedError, disk_full, sha256_of

DISK_MARGIN = 64 << 20
"""Bytes kept free beyond the download, so the disk is not filled to the last byte."""
REPORT_INTERVAL_S = 0.1

DiskUsage = Callable[[Path], int]
"""Returns the free bytes of the disk holding a folder."""


def free_bytes(folder: Path) -> int:
    """Free bytes on the disk holding `folder` (or its nearest existing parent)."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    return shutil.disk_usage(probe).free


@dataclass(frozen=True)
class Progress:
    """Where a download stands.

    Attributes:
        entry_id: the catalog entry's id.
        state: DOWNLOADING, VERIFYING, then READY, PAUSED, FAILED or NOT_DOWNLOADED (cancelled).
        done: bytes downloaded (or hashed, while verifying).
        total: the file's size.
        speed: bytes per second over the last seconds, or None.
        eta_s: seconds left at that speed, or None.
        message: why it failed or stopped, in plain words.
        path: the ready file.
        resumable: whether Resume would go on from `done` (a paused or interrupted download).
    """

    entry_id: str
    state: ModelState
    done: int = 0
    total: int = 0
    speed: float | None = None
    eta_s: float | None = None
    message: str = ""
    path: Path | None = None
    resumable: bool = False

    @property
    def percent(self) -> int:
        """Whole percent done."""
        return int(100 * self.done / self.total) if self.total else 0

    def words(self) -> str:
        """In words: "downloading 42 % at 11.5 MB/s, 3 min left", "verifying 80 %", ..."""
        if self.state is ModelState.DOWNLOADING:
            text = f"downloading {self.percent} %"
            if self.speed:
                text += f" at {self.speed / 1e6:.1f} MB/s"
            if self.eta_s is not None:
                text += f", {_duration(self.eta_s)} left"
            return text
        if self.state is ModelState.VERIFYING:
            return f"verifying {self.percent} %"
        if self.state is ModelState.PAUSED:
            return f"paused at {self.percent} %"
        if self.state is ModelState.FAILED:
            return f"failed: {self.message}"
        if self.state is ModelState.NOT_DOWNLOADED:
            return "cancelled" if self.message == "cancelled" else "not downloaded"
        return str(self.state)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


class _Speed:
    """Bytes per second over a sliding window of a few seconds."""

    def __init__(self, window_s: float = 3.0) -> None:
        self.window_s = window_s
        self.samples: collections.deque[tuple[float, int]] = collections.deque()

    def add(self, now: float, done: int) -> float | None:
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window_s:
            self.samples.popleft()
        t0, d0 = self.samples[0]
        return (done - d0) / (now - t0) if now - t0 > 0.05 else None


class _PartFile:
    """The `.part` file handed to the transfer: counts, reports and stops between writes."""

    def __init__(self, fh: BinaryIO, job: DownloadJob, start: int) -> None:
        self.fh = fh
        self.job = job
        self.done = start

    def write(self, data: bytes) -> int:
        written = self.fh.write(data)
        self.done += len(data)
        self.job._downloaded(self.done)
        if self.job._stop.is_set():
            self.fh.flush()
            raise StoppedError()
        return written

    def truncate(self, size: int | None = None) -> int:  # a server that ignored our Range
        result = self.fh.truncate(size)
        self.done = self.fh.tell() if size is None else size
        return result

    def __getattr__(self, name: str) -> object:
        return getattr(self.fh, name)


OpenPart = Callable[[Path], BinaryIO]


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[bool]:
    """Hold an exclusive lock on `lock_path` (True) or find it held by another download (False).
    The lock is the operating system's (flock), so a killed process never leaves it behind;
    where there is no flock (Windows), every download gets it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield True
        return
    with lock_path.open("a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def open_part(path: Path) -> BinaryIO:
    """Open a partial download for appending (created if missing)."""
    return path.open("ab")


class DownloadJob:
    """Download, verify and install one catalog entry.

    Args:
        entry: the catalog entry (one with a `repo`).
        library: the model library it goes into.
        hub: where from, and whether offline.
        report: called with each `Progress` (from the thread running `run`), at most every
            `REPORT_INTERVAL_S` while bytes flow and at every change of state.
        disk_free: free bytes of a folder's disk (replaceable in tests: a full disk).
        opener: opens the `.part` file (replaceable in tests: a write that fails).
    """

    def __init__(
        self,
        entry: CatalogEntry,
        library: ModelLibrary,
        hub: HubConfig,
        report: Callable[[Progress], None] = lambda progress: None,
        disk_free: DiskUsage = free_bytes,
        opener: OpenPart = open_part,
    ) -> None:
        self.entry = entry
        self.library = library
        self.hub = hub
        self.report = report
        self._disk_free = disk_free
        self._opener = opener
        self._stop = threading.Event()
        self._cancel = False
        self._total = entry.size
        self._last_report = 0.0
        self._speed = _Speed()
        self.last: Progress = Progress(entry.id, ModelState.NOT_DOWNLOADED, total=entry.size)

    def pause(self) -> None:
        """Any thread: stop soon, keeping what was downloaded (Resume goes on from there)."""
        self._stop.set()

    def cancel(self) -> None:
        """Any thread: stop soon and delete what was downloaded."""
        self._cancel = True
        self._stop.set()

    def _emit(self, progress: Progress) -> Progress:
        self.last = progress
        self.report(progress)
        return progress

    def _downloaded(self, done: int) -> None:
        now = time.monotonic()
        speed = self._speed.add(now, done)
        if now - self._last_report < REPORT_INTERVAL_S and done < self._total:
            return
        self._last_report = now
        eta = (self._total - done) / speed if speed and done < self._total else None
        self._emit(Progress(self.entry.id, ModelState.DOWNLOADING, done, self._total, speed, eta))

    def _fail(self, message: str, done: int = 0, resumable: bool = False) -> Progress:
        self.library.note_failure(self.entry, message if not resumable else None)
        return self._emit(
            Progress(
                self.entry.id,
                ModelState.FAILED,
                done,
                self._total,
                message=message,
                resumable=resumable,
            )
        )

    def run(self) -> Progress:
        """Download, verify and install; returns the last progress (READY, PAUSED, FAILED or
        NOT_DOWNLOADED when cancelled). Never raises for a download problem."""
        try:
            return self._run()
        except StoppedError:
            return self._stopped()
        except OSError as exc:  # the store itself: not writable, gone
            return self._fail(self._store_problem(exc))

    def _run(self) -> Progress:
        entry = self.entry
        self.library.note_failure(entry, None)
        try:
            remote = remote_file(entry, self.hub)
        except HubError as exc:
            return self._fail(str(exc))
        self._total = remote.size
        if entry.sha256 and remote.size != entry.size:
            return self._fail(
                f"the hub offers {entry.file} with {remote.size:,} bytes, but the catalog expects "
                f"{entry.size:,}: not the file the catalog names (a changed repository or a "
                "wrong mirror). Nothing was downloaded."
            )
        if entry.sha256 and remote.sha256 and remote.sha256 != entry.sha256:
            return self._fail(
                f"the hub's checksum for {entry.file} is not the catalog's: not the file the "
                "catalog names. Nothing was downloaded."
            )
        if remote.sha256 and not entry.sha256:
            self.library.note_expected(entry, remote.sha256)
        part = self.library.part_path(entry)
        part.parent.mkdir(parents=True, exist_ok=True)
        with exclusive(Path(f"{part}.lock")) as ours:
            if not ours:
                return self._fail(
                    f"{entry.display_name} is being downloaded already (in another window or "
                    "terminal): wait for that download, or stop it first.",
                    resumable=True,
                )
            return self._download(part, remote)

    def _download(self, part: Path, remote: RemoteFile) -> Progress:
        """Fetch (the rest of) the file into `part`, check it and install it."""
        entry = self.entry
        start = self._resume_point(part, remote)
        needed = remote.size - start + DISK_MARGIN
        free = self._disk_free(part.parent)
        if needed > free:
            return self._fail(
                f"not enough free disk space: {entry.display_name} needs {download_gb(needed)} "
                f"more in “{self.library.download_dir}”, and only {download_gb(free)} is free. "
                f"Free {download_gb(needed - free)} (or set model.store_dir to a bigger disk), "
                "then download again.",
                start,
                resumable=start > 0,
            )
        if start < remote.size:
            self._emit(Progress(entry.id, ModelState.DOWNLOADING, start, remote.size))
            outcome = self._transfer(part, remote, start)
            if outcome is not None:
                return outcome
        return self._verify_and_install(part, remote)

    def _resume_point(self, part: Path, remote: RemoteFile) -> int:
        """Bytes of `part` that can be kept: all of them when it is the same version of the file
        (same ETag and size), none otherwise."""
        meta_path = Path(f"{part}.json")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        same = meta.get("etag") == remote.etag and meta.get("size") == remote.size
        size = part.stat().st_size if part.exists() else 0
        if not same or size > remote.size:
            part.unlink(missing_ok=True)
            size = 0
        meta = {
            "etag": remote.etag,
            "size": remote.size,
            "commit": remote.commit,
            "url": remote.url,
            "entry": self.entry.id,
        }
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
        return size

    def _transfer(self, part: Path, remote: RemoteFile, start: int) -> Progress | None:
        """Fetch the rest of the file; a Progress when it did not finish, else None."""
        try:
            fh = self._opener(part)
        except OSError as exc:
            return self._fail(self._store_problem(exc))
        writer = _PartFile(fh, self, start)
        try:
            with fh:
                transfer(remote, writer, start, QuietBar)  # type: ignore[arg-type]
        except StoppedError:
            return self._stopped()
        except OSError as exc:
            done = part.stat().st_size if part.exists() else 0
            if disk_full(exc):
                return self._fail(
                    f"the disk is full: the download stopped at {_percent(done, remote.size)} %. "
                    "Free some space, then Resume: it goes on from there.",
                    done,
                    resumable=True,
                )
            if "Consistency check failed" in str(exc):
                part.unlink(missing_ok=True)
                return self._fail(
                    f"the hub sent {done:,} bytes of {entry_words(self.entry)}, not the "
                    f"{remote.size:,} it announced; the partial file was deleted. Try again later.",
                )
            if not _is_network(exc):
                return self._fail(self._store_problem(exc), done, resumable=done > 0)
            return self._fail(self._network_words(exc, done, remote.size), done, done > 0)
        except Exception as exc:  # noqa: BLE001 - httpx and hub errors, all said in words
            done = part.stat().st_size if part.exists() else 0
            return self._fail(self._network_words(exc, done, remote.size), done, done > 0)
        return None

    def _network_words(self, exc: BaseException, done: int, total: int) -> str:
        words = explain(exc, self.entry, self.hub)
        if done:
            words += (
                f" The download stopped at {_percent(done, total)} %; Resume goes on from there."
            )
        return words

    def _stopped(self) -> Progress:
        part = self.library.part_path(self.entry)
        done = part.stat().st_size if part.exists() else 0
        if self._cancel:
            part.unlink(missing_ok=True)
            Path(f"{part}.json").unlink(missing_ok=True)
            return self._emit(
                Progress(
                    self.entry.id, ModelState.NOT_DOWNLOADED, 0, self._total, message="cancelled"
                )
            )
        return self._emit(
            Progress(self.entry.id, ModelState.PAUSED, done, self._total, resumable=True)
        )

    def _verify_and_install(self, part: Path, remote: RemoteFile) -> Progress:
        size = part.stat().st_size
        if size != remote.size:
            self.library.quarantine(part, "wrong-size")
            return self._fail(
                f"the file has {size:,} bytes, not {remote.size:,}; it was set aside."
            )
        expected = self.entry.sha256 or remote.sha256

        def hashed(done: int, total: int) -> None:
            now = time.monotonic()
            if now - self._last_report >= REPORT_INTERVAL_S or done == total:
                self._last_report = now
                self._emit(Progress(self.entry.id, ModelState.VERIFYING, done, total))

        self._emit(Progress(self.entry.id, ModelState.VERIFYING, 0, size))
        if expected:
            actual = sha256_of(part, hashed, self._stop.is_set)
            if actual != expected:
                moved = self.library.quarantine(part, "checksum-mismatch")
                return self._fail(
                    f"checksum mismatch: the downloaded file's sha256 is {actual[:12]}…, not "
                    f"{expected[:12]}…, so it is damaged or not the expected file. It was set "
                    f"aside as “{moved}” and not loaded; download it again."
                )
        else:
            try:
                inspect_gguf(part)
            except ModelFileError as exc:
                moved = self.library.quarantine(part, "not-a-model")
                return self._fail(f"{exc} It was set aside as “{moved}”.")
        path = self.library.install(self.entry, part, expected)
        return self._emit(Progress(self.entry.id, ModelState.READY, size, size, path=path))

    def _store_problem(self, exc: OSError) -> str:
        folder = self.library.download_dir
        if disk_full(exc):
            return f"the disk holding “{folder}” is full. Free some space, then Resume."
        return (
            f"the model folder “{folder}” cannot be written ({exc.strerror or exc}): it may be on "
            "a read-only disk. Ask for write access, or set model.store_dir (or CODETUTOR_HOME) "
            "to a folder you can write."
        )


def entry_words(entry: CatalogEntry) -> str:
    """The entry's file, for sentences."""
    return entry.file


def _percent(done: int, total: int) -> int:
    return int(100 * done / total) if total else 0


def _is_network(exc: OSError) -> bool:
    """Whether an OSError from the transfer is the network's (the hub errors are OSErrors)."""
    with contextlib.suppress(ImportError):
        from app.store.hub import huggingface_hub

        if isinstance(exc, huggingface_hub().errors.HfHubHTTPError):
            return True
    return False
