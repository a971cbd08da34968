"""The UI thread's handle on the LLM worker: starts its thread, admits requests, routes results.

All public methods run on the UI thread and return at once. `submit` returns a
`RequestHandle`; its own signals carry that request's chunks and its end, so a consumer
connects to its handle and never filters ids. The model's state (unloaded, checking,
loading, ready, error) is separate from whether the tutor is answering (`chat_busy`), so an
inline completion never touches Send or Stop.
"""

from __future__ import annotations

import enum
import time

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.core.models import ModelSpec
from app.core.prompts.plan import FittedPrompt, PromptPlan
from app.llm.backend import Backend, ChatMessage, GenerationParams, ModelInfo, StreamStats
from app.llm.requests import ChatRequest, GenerationRequest, Lane, LoadRequest, Request
from app.llm.worker import LlmWorker


class LlmState(enum.Enum):
    """What the model is: drives the status bar and whether requests can be sent."""

    UNLOADED = "No model"
    CHECKING = "Checking the model…"
    LOADING = "Loading…"
    READY = "Ready"
    ERROR = "Error"


ANSWERING = "Answering…"  # the status bar's words while the tutor's reply streams


class RequestHandle(QObject):
    """One request's results. Exactly one of sig_finished / sig_failed ends it; no chunk
    follows the end."""

    sig_started = Signal()
    """The worker began on it (for a chat: the prompt is being evaluated)."""
    sig_prompt_fitted = Signal(object)
    """(FittedPrompt): a prompt plan was fitted to the model's context: the messages sent,
    their tokens, the budget, and a note of what was left out. Before the first chunk."""
    sig_chunk_received = Signal(str)
    """(text): the next piece of the reply."""
    sig_finished = Signal(object)
    """(StreamStats): the reply ended, complete or stopped (`stats.stopped`)."""
    sig_failed = Signal(str)
    """(message): the reply failed; the message is for the learner."""
    sig_notice = Signal(str)
    """(message): the request waits and the learner should know why (the lab server is
    busy: the question is queued and sent again)."""

    def __init__(self, request: Request, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.request = request
        self.done = False
        self.started = False
        self.stats: StreamStats | None = None
        self.fitted: FittedPrompt | None = None
        self.error = ""

    @property
    def request_id(self) -> int:
        """The request's id."""
        return self.request.request_id

    @property
    def lane(self) -> Lane:
        """The request's lane."""
        return self.request.lane

    def cancel(self) -> None:
        """Stop this request (within one token; at once if it has not started)."""
        self.request.cancel.set()

    @property
    def cancelled(self) -> bool:
        """Stop was asked for."""
        return self.request.cancel.is_set()


class LlmService(QObject):
    """Owns the worker thread and the one LlmWorker in it, and the scheduling policy."""

    sig_state_changed = Signal(object)
    """(LlmState): the model's state changed."""
    sig_chat_busy_changed = Signal(bool)
    """(busy): a chat reply started streaming (True) or the last one ended (False)."""
    sig_model_loaded = Signal(object)
    """(ModelInfo): a model finished loading."""
    sig_model_failed = Signal(str, str)
    """(kind, message): a model failed to load; the app stays usable. When the model in use
    before is still loaded, the message ends "Still using <it>." and the state is Ready."""
    sig_request_ended = Signal(object)
    """(RequestHandle): any request ended (for observers such as the status bar's speed)."""

    _sig_load_requested = Signal(object)
    _sig_generate_requested = Signal(object)

    def __init__(self, backend: Backend, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = LlmState.UNLOADED
        self._info: ModelInfo | None = None
        self._live: dict[int, RequestHandle] = {}  # admitted and not ended, by request id
        self._chat_busy = False
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
        self._worker.sig_request_started.connect(self._on_worker_request_started)
        self._worker.sig_prompt_fitted.connect(self._on_worker_prompt_fitted)
        self._worker.sig_chunk_generated.connect(self._on_worker_chunk_generated)
        self._worker.sig_generation_finished.connect(self._on_worker_generation_finished)
        self._worker.sig_generation_failed.connect(self._on_worker_generation_failed)
        self._worker.sig_notice.connect(self._on_worker_notice)
        self._thread.start()

    # -- what it is ----------------------------------------------------------------------
    @property
    def state(self) -> LlmState:
        """The model's state."""
        return self._state

    @property
    def chat_busy(self) -> bool:
        """A chat reply is streaming (or waiting to)."""
        return self._chat_busy

    @property
    def model_info(self) -> ModelInfo | None:
        """The loaded model, or None."""
        return self._info

    @property
    def backend(self) -> Backend:
        """The backend (its `capabilities` may be read here; generate only through `submit`)."""
        return self._backend

    @property
    def current_chat(self) -> RequestHandle | None:
        """The newest chat request not yet ended, or None."""
        chats = [h for h in self._live.values() if h.lane is Lane.CHAT]
        return chats[-1] if chats else None

    @property
    def thread(self) -> QThread:
        """The worker's thread (for tests and shutdown checks)."""
        return self._thread

    def _set_state(self, state: LlmState) -> None:
        if state is not self._state:
            self._state = state
            self.sig_state_changed.emit(state)

    # -- requests -------------------------------------------------------------------------
    def _admit(self, request: Request) -> None:
        """The scheduling policy, in one place: a load cancels everything; chat replaces
        chat; a completion replaces the older completion and never cancels chat."""
        for handle in list(self._live.values()):
            if request.lane is Lane.MODEL or handle.lane is request.lane:
                if handle.lane is Lane.CHAT and not handle.cancelled:
                    self.last_stop_time = time.perf_counter()
                handle.cancel()

    def submit(self, request: GenerationRequest) -> RequestHandle:
        """Send a chat, infill or raw-completion request; returns its handle at once."""
        self._admit(request)
        handle = RequestHandle(request)  # no parent: it lives while someone holds it
        self._live[request.request_id] = handle
        if request.lane is Lane.CHAT:
            self._set_chat_busy(True)
        self._sig_generate_requested.emit(request)
        return handle

    def send_chat(
        self, messages: list[ChatMessage] | tuple[ChatMessage, ...], params: GenerationParams
    ) -> RequestHandle:
        """Ask for a reply to `messages` (stops any reply still streaming)."""
        return self.submit(ChatRequest(tuple(messages), params))

    def send_prompt(self, plan: PromptPlan, params: GenerationParams) -> RequestHandle:
        """Ask for a reply to the tutor's prompt `plan` (stops any reply still streaming).

        The worker fits the plan to the model's context with the model's own tokenizer,
        keeping `params.max_tokens` for the reply, and reports the result on the handle's
        sig_prompt_fitted before the first chunk.
        """
        return self.submit(ChatRequest((), params, plan=plan))

    def load_model(self, spec: ModelSpec) -> int:
        """Ask the worker to load `spec` (every request in flight is cancelled). Returns the
        load's request id."""
        request = LoadRequest(spec)
        self._admit(request)
        self._info = None
        self._pending_load = request.request_id
        self._set_state(LlmState.LOADING)
        self._sig_load_requested.emit(request)
        return request.request_id

    def stop(self) -> None:
        """Stop the tutor's reply, if one streams (takes effect within one token). Inline
        completions are left alone: they are the editor's."""
        for handle in list(self._live.values()):
            if handle.lane is Lane.CHAT and not handle.cancelled:
                self.last_stop_time = time.perf_counter()
                handle.cancel()

    def shutdown(self, timeout_ms: int = 1000) -> bool:
        """Stop every request and end the worker thread. Returns True when it ended in time.

        A worker stuck in C (a model load cannot be interrupted) is waited for up to a minute,
        unless `abandon_on_shutdown` is set: then it is left behind after `timeout_ms` and the
        caller ends the process (`app.cli.finish_gui`), so quitting never hangs.
        """
        for handle in list(self._live.values()):
            handle.cancel()
        self._backend.interrupt()  # a model check in a child process ends at once
        self._thread.quit()
        ended = self._thread.wait(timeout_ms)
        if not ended and not self.abandon_on_shutdown:
            ended = self._thread.wait(60_000)
        return ended

    def _set_chat_busy(self, busy: bool) -> None:
        if busy is not self._chat_busy:
            self._chat_busy = busy
            self.sig_chat_busy_changed.emit(busy)

    def _end(self, request_id: int) -> RequestHandle | None:
        """Take the handle out of the live set (None when it already ended)."""
        handle = self._live.pop(request_id, None)
        if handle is None:
            return None
        handle.done = True
        if handle.lane is Lane.CHAT and not any(h.lane is Lane.CHAT for h in self._live.values()):
            self._set_chat_busy(False)
        return handle

    # -- from the worker ------------------------------------------------------------------
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

    @Slot(int, str, str, object)
    def _on_worker_model_failed(
        self, request_id: int, kind: str, message: str, kept: ModelInfo | None
    ) -> None:
        if request_id != self._pending_load:
            return
        self._info = kept
        if kept is not None:
            message = f"{message}\n\nStill using {kept.name}."
        self._set_state(LlmState.READY if kept is not None else LlmState.ERROR)
        self.sig_model_failed.emit(kind, message)

    @Slot(int)
    def _on_worker_request_started(self, request_id: int) -> None:
        handle = self._live.get(request_id)
        if handle is not None:
            handle.started = True
            handle.sig_started.emit()

    @Slot(int, object)
    def _on_worker_prompt_fitted(self, request_id: int, fitted: FittedPrompt) -> None:
        handle = self._live.get(request_id)
        if handle is not None:
            handle.fitted = fitted
            handle.sig_prompt_fitted.emit(fitted)

    @Slot(int, str)
    def _on_worker_notice(self, request_id: int, text: str) -> None:
        handle = self._live.get(request_id)
        if handle is not None:
            handle.sig_notice.emit(text)

    @Slot(int, str)
    def _on_worker_chunk_generated(self, request_id: int, text: str) -> None:
        handle = self._live.get(request_id)
        if handle is not None:
            handle.sig_chunk_received.emit(text)

    @Slot(int, object)
    def _on_worker_generation_finished(self, request_id: int, stats: StreamStats) -> None:
        handle = self._end(request_id)
        if handle is not None:
            handle.stats = stats
            handle.sig_finished.emit(stats)
            self.sig_request_ended.emit(handle)

    @Slot(int, str)
    def _on_worker_generation_failed(self, request_id: int, message: str) -> None:
        handle = self._end(request_id)
        if handle is not None:
            handle.error = message
            handle.sig_failed.emit(message)
            self.sig_request_ended.emit(handle)
