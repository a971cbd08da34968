"""Runs model downloads and checks off the UI thread and reports them as Qt signals.

Threads: every public method runs on the UI thread and returns at once. Each download or
check runs in its own daemon Python thread; its progress callback posts to this object over a
queued connection, so `sig_progressed` and `sig_finished` are always emitted on the UI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.core.catalog import CatalogEntry
from app.store.download import DownloadJob, Progress
from app.store.library import ModelState, StoppedError
from app.store.manager import ModelStore


class ModelJobs(QObject):
    """The downloads and checks in progress, one per catalog entry at most.

    Args:
        store: the model store the jobs work on.
        job_factory: makes a DownloadJob (replaceable in tests).
    """

    sig_progressed = Signal(object)
    """Progress: a download or check moved on (at most ~10 times a second per job)."""
    sig_finished = Signal(object)
    """Progress: a job ended (READY, PAUSED, FAILED, or NOT_DOWNLOADED when cancelled)."""

    _sig_reported = Signal(object, bool)  # (Progress, finished), posted from a job's thread

    def __init__(
        self,
        store: ModelStore,
        job_factory: Callable[..., DownloadJob] = DownloadJob,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self._factory = job_factory
        self._downloads: dict[str, DownloadJob] = {}
        self._checks: dict[str, threading.Event] = {}
        self._threads: list[threading.Thread] = []
        self._last: dict[str, Progress] = {}
        self._sig_reported.connect(self._on_job_reported, Qt.ConnectionType.QueuedConnection)

    def running(self, entry_id: str) -> bool:
        """Whether a download or check of `entry_id` is under way."""
        return entry_id in self._downloads or entry_id in self._checks

    def downloading(self, entry_id: str) -> bool:
        """Whether a download (not a check) of `entry_id` is under way."""
        return entry_id in self._downloads

    def last(self, entry_id: str) -> Progress | None:
        """The latest progress of `entry_id`'s running job, or None."""
        return self._last.get(entry_id) if self.running(entry_id) else None

    def download(self, entry: CatalogEntry) -> None:
        """Download (or resume) `entry` in the background."""
        if self.running(entry.id):
            return
        job = self._factory(
            entry, self.store.library, self.store.hub, lambda p: self._sig_reported.emit(p, False)
        )
        self._downloads[entry.id] = job
        self._last[entry.id] = Progress(entry.id, ModelState.DOWNLOADING, 0, entry.size)

        def work() -> None:
            self._sig_reported.emit(job.run(), True)

        self._start(work)

    def verify(self, entry: CatalogEntry) -> None:
        """Check `entry`'s files in the background (READY or FAILED follows)."""
        if self.running(entry.id):
            return
        stop = threading.Event()
        self._checks[entry.id] = stop
        self._last[entry.id] = Progress(entry.id, ModelState.VERIFYING, 0, entry.size)

        def progress(done: int, total: int) -> None:
            self._sig_reported.emit(Progress(entry.id, ModelState.VERIFYING, done, total), False)

        def work() -> None:
            try:
                status = self.store.library.verify(entry, progress, stop.is_set)
                final = Progress(
                    entry.id,
                    status.state,
                    status.total,
                    status.total,
                    message=status.message,
                    path=status.path,
                )
            except StoppedError:
                final = Progress(entry.id, self.store.library.status(entry).state)
            self._sig_reported.emit(final, True)

        self._start(work)

    def pause(self, entry_id: str) -> None:
        """Pause `entry_id`'s download (what was fetched is kept)."""
        if entry_id in self._downloads:
            self._downloads[entry_id].pause()

    def cancel(self, entry_id: str) -> None:
        """Cancel `entry_id`'s download (what was fetched is deleted) or check."""
        if entry_id in self._downloads:
            self._downloads[entry_id].cancel()
        elif entry_id in self._checks:
            self._checks[entry_id].set()

    def shutdown(self, timeout_s: float = 2.0) -> None:
        """Pause every download and stop every check, waiting up to `timeout_s` for them (the
        app is quitting: downloads resume at the next start)."""
        for job in self._downloads.values():
            job.pause()
        for stop in self._checks.values():
            stop.set()
        for thread in self._threads:
            thread.join(timeout_s)

    def _start(self, work: Callable[[], None]) -> None:
        thread = threading.Thread(target=work, name="model-job", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    @Slot(object, bool)
    def _on_job_reported(self, progress: Progress, finished: bool) -> None:
        if finished:
            self._downloads.pop(progress.entry_id, None)
            self._checks.pop(progress.entry_id, None)
            self._last.pop(progress.entry_id, None)
            self.sig_finished.emit(progress)
        elif self.running(progress.entry_id):
            self._last[progress.entry_id] = progress
            self.sig_progressed.emit(progress)
