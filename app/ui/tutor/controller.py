"""Connects the chat panel to the LLM service: questions in, streamed replies out.

Runs on the UI thread. It snapshots what a request needs (the conversation, the code) into
an immutable request before it leaves for the worker.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from app.core.conversation import Conversation
from app.core.lessons.templates import TemplateError
from app.llm.backend import ChatMessage, GenerationParams, ModelInfo, StreamStats
from app.llm.service import LlmService, LlmState
from app.ui.tutor.chat_panel import ChatPanel

SYSTEM_PROMPT = (
    "You are Code Tutor, a patient programming teacher for beginners. Explain in plain words, "
    "keep answers short, and put code in fenced Markdown blocks with the language name."
)


class TutorController(QObject):
    """Owns the conversation history and drives one ChatPanel."""

    sig_reply_finished = Signal(int, object)
    """(request id, StreamStats): a reply ended and is in the history."""

    def __init__(
        self,
        service: LlmService,
        panel: ChatPanel,
        code_provider: Callable[[], tuple[str, str]] | None = None,
        params: GenerationParams | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._panel = panel
        self._code_provider = code_provider
        self.params = params or GenerationParams()
        self.conversation = Conversation()
        self.last_stats: StreamStats | None = None
        self.prompt_builder: Callable[[str], tuple[str, str] | None] | None = None
        """Given a question, the (system, user) texts a lesson wants sent, or None."""
        panel.sig_send_requested.connect(self.ask)
        panel.sig_stop_requested.connect(self.stop)
        panel.sig_clear_requested.connect(self.clear)
        service.sig_chunk_generated.connect(panel.append_chunk)
        service.sig_generation_finished.connect(self._on_service_generation_finished)
        service.sig_generation_failed.connect(self._on_service_generation_failed)
        service.sig_state_changed.connect(self._on_service_state_changed)
        service.sig_model_loaded.connect(self._on_service_model_loaded)

    def _system_prompt(self) -> str:
        if self._code_provider is None:
            return SYSTEM_PROMPT
        language, code = self._code_provider()
        if not code.strip():
            return SYSTEM_PROMPT
        snippet = code if len(code) < 6000 else code[-6000:]
        return f"{SYSTEM_PROMPT}\n\nThe learner's {language} code:\n```{language}\n{snippet}\n```"

    @Slot(str)
    def ask(self, question: str) -> int | None:
        """Send a question; returns the request id, or None when no model is ready."""
        if self._service.model_info is None:
            self._panel.add_info("No model is loaded yet, so the tutor cannot answer.", True)
            return None
        self._panel.add_user_message(question)
        try:
            built = self.prompt_builder(question) if self.prompt_builder else None
        except TemplateError as exc:  # a lesson whose prompt cannot be built: refuse
            self._panel.add_info(str(exc), error=True)
            return None
        self.conversation.add("user", question)
        n_ctx = self._service.model_info.n_ctx
        budget = max(256, n_ctx - self.params.max_tokens - 64)
        system, latest = built if built else (self._system_prompt(), None)
        messages = [ChatMessage(r, c) for r, c in self.conversation.prompt(system, budget, latest)]
        request_id = self._service.send_chat(messages, self.params)
        self._panel.begin_reply(request_id)
        return request_id

    @Slot()
    def stop(self) -> None:
        """Stop the reply now streaming."""
        self._service.stop()

    @Slot()
    def clear(self) -> None:
        """Stop any reply and forget the conversation."""
        self._service.stop()
        self.conversation.clear()
        self._panel.clear()

    @Slot(int, object)
    def _on_service_generation_finished(self, request_id: int, stats: StreamStats) -> None:
        if request_id != self._panel.active_request:
            return
        self.last_stats = stats
        reply = self._panel.reply_text()
        if reply:
            self.conversation.add("assistant", reply)
        self._panel.end_reply(request_id, "Stopped." if stats.stopped else "")
        self.sig_reply_finished.emit(request_id, stats)

    @Slot(int, str)
    def _on_service_generation_failed(self, request_id: int, message: str) -> None:
        if request_id != self._panel.active_request:
            return
        self._panel.end_reply(request_id)
        self._panel.add_info(message, error=True)

    @Slot(object)
    def _on_service_state_changed(self, state: LlmState) -> None:
        self._panel.set_ready(state in (LlmState.READY, LlmState.GENERATING))

    @Slot(object)
    def _on_service_model_loaded(self, info: ModelInfo) -> None:
        if info.is_starter:
            self._panel.set_notice(
                "You are using the tiny starter model (SmolLM2-135M). It answers fast but often "
                "gets things wrong. For real help, choose a Code Llama model (Model ▸ Open model "
                "file…)."
            )
        else:
            self._panel.set_notice("")
