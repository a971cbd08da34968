"""Connects the chat panel to the LLM service: questions in, streamed replies out.

Runs on the UI thread. At each request it takes a frozen `TutorContext` snapshot (the code,
the lesson, the last run) from its provider and builds the messages in core
(`app.core.prompts.builder`); the reply arrives on the request's own handle.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

from app.core.conversation import Conversation
from app.core.prompts.builder import build_messages
from app.core.prompts.templates import TemplateError, load_default_templates
from app.core.tutor.actions import TutorAction
from app.core.tutor.context import TutorContext
from app.llm.backend import GenerationParams, ModelInfo, StreamStats
from app.llm.service import LlmService, LlmState, RequestHandle
from app.ui.tutor.chat_panel import ChatPanel

STARTER_NOTICE = (
    "You are using the tiny starter model (SmolLM2-135M). It is very small, so it often gets "
    "things wrong. For real help, choose a Code Llama model (Model ▸ Open model file…)."
)


class TutorController(QObject):
    """Owns the conversation history and drives one ChatPanel."""

    sig_reply_finished = Signal(int, object)
    """(request id, StreamStats): a reply ended and is in the history."""

    def __init__(
        self,
        service: LlmService,
        panel: ChatPanel,
        context_provider: Callable[[], TutorContext] | None = None,
        params: GenerationParams | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._panel = panel
        self.context_provider = context_provider or (lambda: TutorContext(code=""))
        """Takes the snapshot a request is about (set by the composition root)."""
        self.params = params or GenerationParams()
        self.templates = load_default_templates()
        self.conversation = Conversation()
        self.last_stats: StreamStats | None = None
        self._handle: RequestHandle | None = None
        panel.sig_send_requested.connect(self.ask)
        panel.sig_stop_requested.connect(self.stop)
        panel.sig_clear_requested.connect(self.clear)
        service.sig_state_changed.connect(self._on_service_state_changed)
        service.sig_model_loaded.connect(self._on_service_model_loaded)

    @Slot(str)
    def ask(self, question: str) -> int | None:
        """Send a chat question; returns the request id, or None when it cannot be sent."""
        return self.request(TutorAction.CHAT, question)

    def request(self, action: TutorAction, question: str = "") -> int | None:
        """Ask the tutor for `action` on a fresh snapshot; the reply streams into the panel.

        A reply still streaming is stopped first (it ends with "Stopped."). Returns the
        request id, or None when no model is ready or the lesson's template cannot render
        (the panel then says why).
        """
        if self._service.model_info is None:
            self._panel.add_info("No model is loaded yet, so the tutor cannot answer.", True)
            return None
        self._close_current_reply()
        self._panel.add_user_message(question or action.label)
        try:
            messages = build_messages(
                action,
                self.context_provider(),
                self.templates,
                self.conversation.history(),
                question,
            )
        except TemplateError as exc:  # a lesson whose prompt cannot be built: refuse
            self._panel.add_info(str(exc), error=True)
            return None
        self.conversation.add("user", question or action.label)
        handle = self._service.send_chat(messages, self.params)
        self._handle = handle
        request_id = handle.request_id
        handle.sig_chunk_received.connect(lambda text: self._panel.append_chunk(request_id, text))
        handle.sig_finished.connect(lambda stats: self._on_handle_finished(handle, stats))
        handle.sig_failed.connect(lambda message: self._on_handle_failed(handle, message))
        self._panel.begin_reply(request_id)
        return request_id

    def _close_current_reply(self) -> None:
        """A new request stops the reply still streaming: it ends now, as "Stopped.", with
        what arrived kept in the panel and the history; its late chunks are dropped."""
        handle, self._handle = self._handle, None
        if handle is None or handle.done or handle.request_id != self._panel.active_request:
            return
        handle.cancel()
        reply = self._panel.reply_text()
        if reply:
            self.conversation.add("assistant", reply)
        self._panel.end_reply(handle.request_id, "Stopped.")

    @property
    def current(self) -> RequestHandle | None:
        """The reply streaming now, or None."""
        return self._handle

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

    def _on_handle_finished(self, handle: RequestHandle, stats: StreamStats) -> None:
        if handle is self._handle:
            self._handle = None
        if handle.request_id != self._panel.active_request:
            return
        self.last_stats = stats
        reply = self._panel.reply_text()
        if reply:
            self.conversation.add("assistant", reply)
        self._panel.end_reply(handle.request_id, "Stopped." if stats.stopped else "")
        self.sig_reply_finished.emit(handle.request_id, stats)

    def _on_handle_failed(self, handle: RequestHandle, message: str) -> None:
        if handle is self._handle:
            self._handle = None
        if handle.request_id != self._panel.active_request:
            return
        self._panel.end_reply(handle.request_id)
        self._panel.add_info(message, error=True)

    @Slot(object)
    def _on_service_state_changed(self, state: LlmState) -> None:
        self._panel.set_ready(state is LlmState.READY)

    @Slot(object)
    def _on_service_model_loaded(self, info: ModelInfo) -> None:
        self._panel.set_notice(STARTER_NOTICE if info.is_starter else "")
