"""Runs the solution guard on a tutor reply in a background thread, for the chat panel.

Threads: `start` and `cancel` run on the UI thread and return at once. `judge_reply` runs in a
daemon Python thread, which posts its verdict to this object over a queued connection, so
`sig_finished` is always emitted on the UI thread (the thread this object lives on). Only the
newest job's verdict is emitted: a job that was cancelled, or replaced by a newer `start`, is
stopped and its verdict dropped, never emitted.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.core.lessons.model import CheckSpec
from app.runner.guard import FAILED_NOTE, GuardVerdict, judge_reply

log = logging.getLogger(__name__)


class GuardJob(QObject):
    """Judges one reply at a time; a newer request cancels the older one."""

    sig_finished = Signal(int, object)
    """(request id, GuardVerdict): the newest request's verdict (never a cancelled one's)."""

    # Posted from the judging thread; queued, so the slot runs on this object's thread.
    _sig_judged = Signal(int, int, object)  # (job number, request id, verdict)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._request_id: int | None = None  # the request whose verdict is awaited
        self._job = 0  # the number of the newest job; a verdict of another is dropped
        self._cancel: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._sig_judged.connect(self._on_thread_judged, Qt.ConnectionType.QueuedConnection)

    @property
    def busy(self) -> bool:
        """A request is being judged (from `start` until its `sig_finished` or `cancel`)."""
        return self._request_id is not None

    def start(
        self,
        request_id: int,
        reply: str,
        learner_code: str,
        language: str,
        main_file: str,
        files_dir: Path,
        checks: Sequence[CheckSpec],
        time_limit_s: float,
        budget_s: float = 8.0,
    ) -> None:
        """Judge `reply` in the background; `sig_finished(request_id, verdict)` follows.

        A job still running is cancelled first and its verdict dropped. The arguments are
        those of `app.runner.guard.judge_reply`.
        """
        self.cancel()
        cancel = threading.Event()
        self._job += 1
        self._request_id, self._cancel = request_id, cancel
        kwargs = {
            "language": language,
            "main_file": main_file,
            "files_dir": Path(files_dir),
            "checks": tuple(checks),
            "time_limit_s": time_limit_s,
            "budget_s": budget_s,
            "cancel": cancel,
        }
        self._thread = threading.Thread(
            target=self._judge,
            args=(self._job, request_id, reply, learner_code, kwargs),
            name=f"guard-{request_id}",
            daemon=True,
        )
        self._thread.start()

    def cancel(self) -> None:
        """Stop the running job, if any; its verdict is not emitted."""
        if self._cancel is not None:
            self._cancel.set()
        self._request_id, self._cancel = None, None

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the judging thread to end (for shutdown and tests).

        Returns:
            True when no thread is left running.
        """
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def _judge(
        self, job: int, request_id: int, reply: str, learner_code: str, kwargs: dict
    ) -> None:
        """Judging thread: run the guard and post the verdict."""
        try:
            verdict = judge_reply(reply, learner_code, **kwargs)
        except Exception as exc:  # a guard bug must still answer, or the reply stays hidden
            log.exception("the solution guard failed")
            note = FAILED_NOTE.format(why=str(exc) or type(exc).__name__)
            verdict = GuardVerdict(frozenset(), 0, False, 0.0, note)
        with contextlib.suppress(RuntimeError):  # the job was deleted while this thread ran
            self._sig_judged.emit(job, request_id, verdict)

    @Slot(int, int, object)
    def _on_thread_judged(self, job: int, request_id: int, verdict: GuardVerdict) -> None:
        if job != self._job or self._request_id is None:
            return  # cancelled or replaced
        self._request_id, self._cancel = None, None
        self.sig_finished.emit(request_id, verdict)
