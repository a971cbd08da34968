"""The UI thread's handle on the LLM worker: starts its thread, sends requests, tracks state.

All public methods run on the UI thread and return at once; results arrive as signals.
"""

from __future__ import annotations

import enum
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.core.models import ModelSpec
from app.llm.backend import Backend, ChatMessage, GenerationParams, ModelInfo
from app.llm.worker import ChatRequest, LlmWorker, LoadRequest


class LlmState(enum.Enum):
    """What the model is doing; drives buttons and the status bar."""

    UNLOADED = "No model"
    CHECKING = "Checking the model…"
    LOADING = "Loading…"
    READY = "Ready"
    GENERATING = "Answering…"
    ERROR = "Error"


class LlmService(QObject):
    """Owns the worker thread and the one LlmWorker in it."""

    sig_state_changed = Signal(object)
    """(LlmState): the model's state changed."""
    sig_model_loaded = Signal(object)
    """(ModelInfo): a model finished loading."""
    sig_model_failed = Signal(str, str)
    """(kind, message): a model failed to load; the app stays usable."""
    sig_chunk_generated = Signal(int, str)
    """(request id, text): a piece of a reply."""
    sig_generation_finished = Signal(int, object)
    """(request id, StreamStats): a reply ended."""
    sig_generation_failed = Signal(int, str)
    """(request id, message): a reply failed."""

    _sig_load_requested = Signal(object)
    _sig_generate_requested = Signal(object)

    def __init__(self, backend: Backend, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = LlmState.UNLOADED
        self._info: ModelInfo | None = None
        self._current: ChatRequest | None = None
        self._pending_load: int | None = None
        self.last_stop_time: float | None = None
        self.abandon_on_shutdown = False
        self._thread = QThread()
        self._thread.setObjectName("llm-worker")
        self._backend = backend
        self._worker = LlmWorker(backend)
        self._worker.moveToThread(self._thread)
        self._thread.finished.connect(self._worker.deleteLater)
        self._sig_load_requested.connect(self._worker.load)
        self._sig_generate_requested.connect(self._worker.generate)
        self._worker.sig_model_loaded.connect(self._on_worker_model_loaded)
        self._worker.sig_model_failed.connect(self._on_worker_model_failed)
        self._worker.sig_load_phase_changed.connect(self._on_worker_load_phase_changed)
        self._worker.sig_chunk_generated.connect(self.sig_chunk_generated)
        self._worker.sig_generation_finished.connect(self._on_worker_generation_finished)
        self._worker.sig_generation_failed.connect(self._on_worker_generation_failed)
        self._thread.start()

    @property
    def state(self) -> LlmState:
        """The current state."""
        return self._state

    @property
    def model_info(self) -> ModelInfo | None:
        """The loaded model, or None."""
        return self._info

    @property
    def current_request(self) -> ChatRequest | None:
        """The reply streaming now, or None."""
        return self._current

    @property
    def thread(self) -> QThread:
        """The worker's thread (for tests and shutdown checks)."""
        return self._thread

    def _set_state(self, state: LlmState) -> None:
        if state is not self._state:
            self._state = state
            self.sig_state_changed.emit(state)

    def load_model(self, spec: ModelSpec) -> int:
        """Ask the worker to load `spec`. Returns the request id."""
        self.stop()
        self._current = None  # the old reply's end must not mark the new model ready
        self._info = None
        request = LoadRequest(spec)
        self._pending_load = request.request_id
        self._set_state(LlmState.LOADING)
        self._sig_load_requested.emit(request)
        return request.request_id

    def send_chat(
        self, messages: list[ChatMessage] | tuple[ChatMessage, ...], params: GenerationParams
    ) -> int:
        """Ask for a reply to `messages`; stops any reply still streaming. Returns its id."""
        self.stop()
        request = ChatRequest(tuple(messages), params)
        self._current = request
        self._set_state(LlmState.GENERATING)
        self._sig_generate_requested.emit(request)
        return request.request_id

    def stop(self) -> None:
        """Stop the reply that is streaming, if any (takes effect within one token)."""
        if self._current is not None and not self._current.cancel.is_set():
            self.last_stop_time = time.perf_counter()
            self._current.cancel.set()

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop generation and end the worker thread. Returns True when it ended in time.

        A worker stuck in C (a model load cannot be interrupted) is waited for up to a minute,
        unless `abandon_on_shutdown` is set: then it is left behind after `timeout_ms` and the
        caller ends the process (`app.cli.finish_gui`), so quitting never hangs.
        """
        self.stop()
        self._backend.interrupt()  # a model check in a child process ends at once
        self._thread.quit()
        ended = self._thread.wait(timeout_ms)
        if not ended and not self.abandon_on_shutdown:
            ended = self._thread.wait(60_000)
        return ended

    @Slot(int, object)
    def _on_worker_model_loaded(self, request_id: int, info: ModelInfo) -> None:
        if request_id != self._pending_load:
            return
        self._info = info
        self._set_state(LlmState.READY)
        self.sig_model_loaded.emit(info)

    @Slot(int, str)
    def _on_worker_load_phase_changed(self, request_id: int, phase: str) -> None:
        if request_id == self._pending_load and self._info is None:
            self._set_state(LlmState.CHECKING if phase == "checking" else LlmState.LOADING)

    @Slot(int, str, str)
    def _on_worker_model_failed(self, request_id: int, kind: str, message: str) -> None:
        if request_id != self._pending_load:
            return
        self._info = None
        self._set_state(LlmState.ERROR)
        self.sig_model_failed.emit(kind, message)

    @Slot(int, object)
    def _on_worker_generation_finished(self, request_id: int, stats: object) -> None:
        if self._current is not None and request_id == self._current.request_id:
            self._current = None
            self._set_state(LlmState.READY if self._info else self._state)
        self.sig_generation_finished.emit(request_id, stats)

    @Slot(int, str)
    def _on_worker_generation_failed(self, request_id: int, message: str) -> None:
        if self._current is not None and request_id == self._current.request_id:
            self._current = None
            self._set_state(LlmState.READY if self._info else LlmState.ERROR)
        self.sig_generation_failed.emit(request_id, message)
