"""The LLM actor: one QObject, living in one QThread for the app's life, owning the model.

Every slot here runs on the worker thread. Requests (`app.llm.requests`) arrive as frozen
dataclasses over queued signals; results leave as signals carrying the request id, which
`LlmService` routes to that request's handle. Stop is a `threading.Event` in the request,
checked between tokens, because a queued "stop" could not run while a reply streams.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from PySide6.QtCore import QObject, Signal, Slot

from app.core.completion import ProposalShaper
from app.core.gguf import ModelFileError
from app.core.prompts.budget import fit_prompt
from app.core.prompts.plan import FittedPrompt
from app.core.prompts.templates import TemplateError
from app.llm.backend import Backend, ChatMessage, GenerationError, StreamStats
from app.llm.requests import (
    ChatRequest,
    CompleteRequest,
    GenerationRequest,
    InfillRequest,
    LoadRequest,
)

COALESCE_S = 0.015  # pieces arriving within 15 ms of the last signal travel together


class LlmWorker(QObject):
    """Owns a Backend and runs its slow calls on the worker thread, one at a time."""

    sig_model_loaded = Signal(int, object)
    """(request id, ModelInfo): a model is loaded and ready."""
    sig_load_phase_changed = Signal(int, str)
    """(request id, phase): "checking" (the model is checked in a child process before it
    loads) or "loading" (it loads in this process)."""
    sig_model_failed = Signal(int, str, str, object)
    """(request id, error kind, message, ModelInfo | None): the model could not be loaded;
    the last item is the model still loaded (the one in use before), or None."""
    sig_request_started = Signal(int)
    """(request id): the backend began working on it (the prompt is being evaluated)."""
    sig_prompt_fitted = Signal(int, object)
    """(request id, FittedPrompt): a chat request's plan was fitted to the model's context
    (what is sent, its tokens, and what was left out); before the reply's first chunk."""
    sig_chunk_generated = Signal(int, str)
    """(request id, text): the next piece of a reply (one token, or the few tokens made
    within 15 ms of the previous signal)."""
    sig_generation_finished = Signal(int, object)
    """(request id, StreamStats): the reply ended (complete or stopped)."""
    sig_generation_failed = Signal(int, str)
    """(request id, message): the reply failed."""
    sig_notice = Signal(int, str)
    """(request id, message): what the learner should know while the request waits, e.g.
    that the lab server is busy and the question is queued (server backend only)."""

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self._backend = backend
        self._current = 0  # the request being generated, for the backend's notices
        if hasattr(backend, "on_notice"):
            backend.on_notice = lambda text: self.sig_notice.emit(self._current, text)

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
            kept = self._backend.info
            self.sig_model_failed.emit(request.request_id, exc.kind, str(exc), kept)
            return
        except Exception as exc:  # noqa: BLE001 - any failure must reach the UI as a message
            message = f"Could not load the model: {exc}"
            kept = self._backend.info
            self.sig_model_failed.emit(request.request_id, "load_failed", message, kept)
            return
        self.sig_model_loaded.emit(request.request_id, info)

    @Slot(object)
    def generate(self, request: GenerationRequest) -> None:
        """Stream a chat reply, an infill or a raw completion; emits sig_request_started,
        for a chat with a plan sig_prompt_fitted, chunks, then exactly one of
        sig_generation_finished or _failed, and nothing after."""
        stats = StreamStats()
        started = time.perf_counter()
        if request.cancel.is_set():  # replaced or stopped while it waited in the queue
            stats.stopped = True
            self.sig_generation_finished.emit(request.request_id, stats)
            return
        self.sig_request_started.emit(request.request_id)
        self._current = request.request_id
        pending: list[str] = []
        last_emit = 0.0
        failure = ""
        shaper = None
        if isinstance(request, InfillRequest):  # its chunks are the proposal itself
            shaper = ProposalShaper(request.prefix, request.suffix, request.mode)
        pieces: Iterator[str] | tuple = ()
        try:
            messages = None
            if isinstance(request, ChatRequest) and request.plan is not None:
                messages = self._fit(request).messages
            pieces = () if request.cancel.is_set() else self._pieces(request, messages)
            for piece in pieces:
                now = time.perf_counter()
                stats.tokens += 1
                stats.token_times.append(now)
                pending.append(piece if shaper is None else shaper.feed(piece))
                if stats.first_token_s is None:
                    stats.first_token_s = now - started
                # Coalesce pieces that come faster than the panel repaints: fewer wake-ups
                # of the UI thread, which shares the CPU cores with llama.cpp.
                if (now - last_emit >= COALESCE_S or request.cancel.is_set()) and any(pending):
                    self.sig_chunk_generated.emit(request.request_id, "".join(pending))
                    pending.clear()
                    last_emit = now
                if request.cancel.is_set() or (shaper is not None and shaper.done):
                    break
            if shaper is not None and not request.cancel.is_set():
                pending.append(shaper.finish())
        except GenerationError as exc:
            failure = str(exc)
        except Exception as exc:  # noqa: BLE001 - keep the worker alive for the next request
            failure = f"The model failed: {exc}"
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:  # a proposal complete before the model was done: stop it
                close()
        if any(pending):  # what arrived before the end, always before the end signal
            self.sig_chunk_generated.emit(request.request_id, "".join(pending))
        if failure:
            self.sig_generation_failed.emit(request.request_id, failure)
            return
        stats.seconds = time.perf_counter() - started
        stats.stopped = request.cancel.is_set()
        reason = getattr(self._backend, "last_finish_reason", None)
        stats.truncated = not stats.stopped and reason == "length"
        if isinstance(request, InfillRequest):
            reuse = getattr(self._backend, "last_prompt_reuse", None)
            stats.prompt_tokens, stats.reused_tokens = reuse or (0, 0)
            stats.note = getattr(self._backend, "last_note", "") or ""
        self.sig_generation_finished.emit(request.request_id, stats)

    def _fit(self, request: ChatRequest) -> FittedPrompt:
        """Fit the request's plan with the model's tokenizer, keeping `max_tokens` for the
        reply; emits sig_prompt_fitted.

        Raises:
            GenerationError: not even the system message and the question fit.
        """
        assert request.plan is not None
        n_ctx = self._backend.context_size()
        budget = max(0, n_ctx - request.params.max_tokens)
        try:
            fitted = fit_prompt(request.plan, budget, self._backend.count_tokens)
        except TemplateError as exc:  # the question alone is over the size of any prompt
            raise GenerationError(f"The question is too long for the model: {exc}.") from exc
        self.sig_prompt_fitted.emit(request.request_id, fitted)
        if not fitted.fits:
            raise GenerationError(
                f"The question is too long for the model: it takes about "
                f"{fitted.prompt_tokens:,} tokens, and the model has room for "
                f"{budget:,} (its context is {n_ctx:,} tokens, less "
                f"{request.params.max_tokens:,} kept for the reply). Ask a shorter question."
            )
        return fitted

    def _pieces(
        self, request: GenerationRequest, messages: tuple[ChatMessage, ...] | None = None
    ) -> Iterator[str]:
        backend, params, cancel = self._backend, request.params, request.cancel
        if isinstance(request, ChatRequest):
            return backend.stream_chat(messages or request.messages, params, cancel)
        if isinstance(request, InfillRequest):
            return backend.infill(request.prefix, request.suffix, params, cancel)
        if isinstance(request, CompleteRequest):
            return backend.complete(request.prompt, params, cancel)
        raise TypeError(f"not a generation request: {request!r}")
