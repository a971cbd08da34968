"""The LLM actor: one QObject, living in one QThread for the app's life, owning the model.

Every slot here runs on the worker thread. Requests arrive as frozen dataclasses over queued
signals; results leave as signals carrying the request id. Stop is a `threading.Event` in the
request, checked between tokens, because a queued "stop" could not run while a reply streams.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal, Slot

from app.core.gguf import ModelFileError
from app.core.models import ModelSpec
from app.llm.backend import (
    Backend,
    CancelFlag,
    ChatMessage,
    GenerationError,
    GenerationParams,
    StreamStats,
)

_ids = itertools.count(1)
COALESCE_S = 0.015  # pieces arriving within 15 ms of the last signal travel together


def next_request_id() -> int:
    """A fresh request id, unique in this process."""
    return next(_ids)


@dataclass(frozen=True)
class LoadRequest:
    """Load a model (replacing the current one)."""

    spec: ModelSpec
    request_id: int = field(default_factory=next_request_id)


@dataclass(frozen=True)
class ChatRequest:
    """Stream a chat reply.

    Attributes:
        messages: the whole prompt, snapshotted on the UI thread.
        params: sampling settings.
        cancel: set by Stop (any thread); the worker checks it between tokens.
        created: `time.perf_counter()` when the UI made the request (for time to first token).
    """

    messages: tuple[ChatMessage, ...]
    params: GenerationParams = GenerationParams()
    request_id: int = field(default_factory=next_request_id)
    cancel: CancelFlag = field(default_factory=CancelFlag, compare=False, repr=False)
    created: float = field(default_factory=time.perf_counter, compare=False)


class LlmWorker(QObject):
    """Owns a Backend and runs its slow calls on the worker thread."""

    sig_model_loaded = Signal(int, object)
    """(request id, ModelInfo): a model is loaded and ready."""
    sig_load_phase_changed = Signal(int, str)
    """(request id, phase): "checking" (the model is checked in a child process before it
    loads) or "loading" (it loads in this process)."""
    sig_model_failed = Signal(int, str, str)
    """(request id, error kind, message): the model could not be loaded."""
    sig_chunk_generated = Signal(int, str)
    """(request id, text): the next piece of a reply (one token, or the few tokens made
    within 15 ms of the previous signal)."""
    sig_generation_finished = Signal(int, object)
    """(request id, StreamStats): the reply ended (complete or stopped)."""
    sig_generation_failed = Signal(int, str)
    """(request id, message): the reply failed."""

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self._backend = backend

    @property
    def backend(self) -> Backend:
        """The backend (touch it only from the worker thread)."""
        return self._backend

    @Slot(object)
    def load(self, request: LoadRequest) -> None:
        """Load a model; emits sig_model_loaded or sig_model_failed."""

        def report(phase: str) -> None:
            self.sig_load_phase_changed.emit(request.request_id, phase)

        try:
            info = self._backend.load(request.spec, report)
        except ModelFileError as exc:
            self.sig_model_failed.emit(request.request_id, exc.kind, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - any failure must reach the UI as a message
            self.sig_model_failed.emit(
                request.request_id, "load_failed", f"Could not load the model: {exc}"
            )
            return
        self.sig_model_loaded.emit(request.request_id, info)

    @Slot(object)
    def generate(self, request: ChatRequest) -> None:
        """Stream a reply; emits chunks, then sig_generation_finished or _failed."""
        stats = StreamStats()
        started = time.perf_counter()
        if request.cancel.is_set():
            stats.stopped = True
            self.sig_generation_finished.emit(request.request_id, stats)
            return
        pending: list[str] = []
        last_emit = 0.0
        try:
            for piece in self._backend.stream_chat(
                request.messages, request.params, request.cancel
            ):
                now = time.perf_counter()
                stats.tokens += 1
                stats.token_times.append(now)
                pending.append(piece)
                if stats.first_token_s is None:
                    stats.first_token_s = now - started
                # Coalesce pieces that come faster than the panel repaints: fewer wake-ups
                # of the UI thread, which shares the CPU cores with llama.cpp.
                if now - last_emit >= COALESCE_S or request.cancel.is_set():
                    self.sig_chunk_generated.emit(request.request_id, "".join(pending))
                    pending.clear()
                    last_emit = now
                if request.cancel.is_set():
                    break
        except GenerationError as exc:
            self.sig_generation_failed.emit(request.request_id, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - keep the worker alive for the next request
            self.sig_generation_failed.emit(request.request_id, f"The model failed: {exc}")
            return
        finally:
            if pending:
                self.sig_chunk_generated.emit(request.request_id, "".join(pending))
        stats.seconds = time.perf_counter() - started
        stats.stopped = request.cancel.is_set()
        self.sig_generation_finished.emit(request.request_id, stats)
