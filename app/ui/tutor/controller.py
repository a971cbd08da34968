"""Connects the chat panel to the LLM service: the tutor's actions in, streamed replies out.

Runs on the UI thread. At each request it takes a frozen `TutorContext` snapshot (the code,
the lesson, the last run) from its provider and builds the prompt plan in core
(`app.core.prompts.builder`); the worker fits it to the model's context by real tokens and
the reply arrives on the request's own handle. A reply in a hints lesson is judged by the
solution guard before its code is shown; a Document reply becomes a diff to apply.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from app.core.conversation import FREE_KEY, Conversation, ConversationStore
from app.core.lessons.model import CheckSpec
from app.core.prompts.builder import build_prompt
from app.core.prompts.plan import FittedPrompt
from app.core.prompts.templates import TemplateError, load_default_templates
from app.core.tutor.actions import TutorAction, action_label
from app.core.tutor.context import TutorContext
from app.core.tutor.document import proposal_from_reply
from app.core.tutor.repetition import repetition_end
from app.llm.backend import GenerationParams, ModelInfo, StreamStats
from app.llm.service import LlmService, LlmState, RequestHandle
from app.ui.tutor.chat_panel import ChatPanel
from app.ui.tutor.guard_job import GuardJob

STARTER_NOTICE = (
    "You are using the tiny starter model (SmolLM2-135M). It is very small, so it often gets "
    "things wrong. For real help, download a Code Llama model (Model ▸ Models…)."
)
TURNED_OFF = "Your teacher turned {action} off for this lesson."
REPEATING = "The tutor started repeating itself, so the reply was ended."
CUT = "The reply was cut: it reached the longest answer allowed ({tokens} tokens)."
EMPTY = "The tutor gave no answer. Try asking in other words."
NO_PROPOSAL = "The tutor's reply holds no documented code to apply."
GUARD_BUDGET_S = 8.0
"""The solution guard's total time for one reply (it then shows the code with a note)."""


@dataclass(frozen=True)
class GuardTarget:
    """What the solution guard checks a reply against: the open hints lesson.

    Attributes:
        lesson_key: the lesson's progress key (a revealed solution is recorded there).
        language: the lesson's language id.
        main_file: the file the checks run, relative to `files_dir`.
        files_dir: the learner's workspace (copied, never touched).
        checks: the lesson's checks.
        time_limit_s: the lesson's time limit per run.
    """

    lesson_key: str
    language: str
    main_file: str
    files_dir: Path
    checks: tuple[CheckSpec, ...]
    time_limit_s: float


@dataclass
class _Reply:
    """The reply streaming now, and what it was asked for."""

    handle: RequestHandle
    action: TutorAction
    context: TutorContext
    label: str
    message: int
    guard: GuardTarget | None
    document: object | None  # the Document request's selection snapshot
    text: str = ""
    ended_by: str = ""  # a note when the controller itself ended it
    fit_note: str = ""  # what was left out to fit the context: said under the reply
    notice: str = ""  # the last notice said while it waited (a busy server)


class TutorController(QObject):
    """Owns the conversation (kept per lesson) and drives one ChatPanel."""

    sig_reply_finished = Signal(int, object)
    """(request id, StreamStats): a reply ended and is in the history."""
    sig_context_used = Signal(int, int)
    """(prompt tokens, context size): the last prompt as the model counted it."""
    sig_line_pointed = Signal(int, str)
    """(line, what is wrong there): a Debug reply names the line at fault ("Line 3: ...")."""
    sig_document_proposed = Signal(object, str, object)
    """(DocProposal, label, selection snapshot): a Document reply to show as a diff."""
    sig_solution_revealed = Signal(str)
    """(lesson key): the learner unfolded code that solves the exercise."""
    sig_guard_finished = Signal(int, object)
    """(request id, GuardVerdict): the guard judged a reply (its code is shown or folded)."""

    def __init__(
        self,
        service: LlmService,
        panel: ChatPanel,
        context_provider: Callable[[], TutorContext] | None = None,
        params: GenerationParams | None = None,
        parent: QObject | None = None,
        store: ConversationStore | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._panel = panel
        self.context_provider = context_provider or (lambda: TutorContext(code=""))
        """Takes the snapshot a request is about (set by the composition root)."""
        self.guard_provider: Callable[[], GuardTarget | None] = lambda: None
        """The hints lesson a reply is guarded against, or None (set by the composition root)."""
        self.selection_provider: Callable[[], object] = lambda: None
        """Snapshots the editor's selection for Document (set by the composition root)."""
        self.params = params or GenerationParams()
        self.templates = load_default_templates()
        self.conversation = Conversation()
        self.store = store
        self.key = FREE_KEY
        self.last_stats: StreamStats | None = None
        self.last_fitted: FittedPrompt | None = None
        self.guard_budget_s = GUARD_BUDGET_S
        self._reply: _Reply | None = None
        self._model_notice = ""  # the notice above the chat for the model in use
        self._hint_levels: dict[str, int] = {}
        self._allowed: Callable[[str], bool] = lambda _action: True
        self._guard = GuardJob(self)
        self._guard.sig_finished.connect(self._on_guard_finished)
        self._guarded: dict[int, tuple[int, GuardTarget]] = {}  # request id: message, target
        self._revealable: dict[int, str] = {}  # message: lesson key
        panel.sig_send_requested.connect(self.ask)
        panel.sig_stop_requested.connect(self.stop)
        panel.sig_clear_requested.connect(self.clear)
        panel.sig_reveal_requested.connect(self._on_panel_reveal_requested)
        service.sig_state_changed.connect(self._on_service_state_changed)
        service.sig_model_loaded.connect(self._on_service_model_loaded)

    # -- asking ---------------------------------------------------------------------------
    @Slot(str)
    def ask(self, question: str) -> int | None:
        """Send a chat question; returns the request id, or None when it cannot be sent."""
        return self.request(TutorAction.CHAT, question)

    def set_allowed(self, allowed: Callable[[str], bool]) -> None:
        """Which actions the open lesson allows (`TutorPolicy.allows`)."""
        self._allowed = allowed

    def allows(self, action: TutorAction) -> bool:
        """Whether the open lesson lets the learner use `action`."""
        return self._allowed(action.value)

    def request(self, action: TutorAction, question: str = "") -> int | None:
        """Ask the tutor for `action` on a fresh snapshot; the reply streams into the panel.

        A reply still streaming is stopped first (it ends with "Stopped."). Returns the
        request id, or None when no model is ready, the lesson turned the action off, or its
        template cannot render (the panel then says why).
        """
        if not self.allows(action):
            self._panel.add_info(TURNED_OFF.format(action=action.label), error=True)
            return None
        if self._service.model_info is None:
            self._panel.add_info("No model is loaded yet, so the tutor cannot answer.", True)
            return None
        self._close_current_reply()
        # Document first widens the selection to whole lines, then the snapshot is taken.
        document = self.selection_provider() if action is TutorAction.DOCUMENT else None
        context = self.context_provider()
        if action is TutorAction.HINT:
            key = context.lesson.key if context.lesson else FREE_KEY
            level = self._hint_levels.get(key, 0) + 1
            self._hint_levels[key] = level
            context = dataclasses.replace(context, hint_level=level)
        label = action_label(action, context)
        try:
            plan = build_prompt(
                action, context, self.templates, self.conversation.history(), question
            )
        except TemplateError as exc:  # a lesson whose prompt cannot be built: refuse
            self._panel.add_user_message(question or label)
            self._panel.add_info(str(exc), error=True)
            return None
        guard = self.guard_provider()
        self._panel.add_user_message(question or label)
        # The turn keeps what the model was sent (so the next prompt only adds to this one,
        # and the model's cache of it is reused); the label is what the learner sees.
        self.conversation.add("user", question or label, label=question or label)
        turn = len(self.conversation.turns) - 1
        handle = self._service.send_prompt(plan, self.params)
        message = self._panel.begin_reply(handle.request_id, hold_code=guard is not None)
        reply = _Reply(handle, action, context, label, message, guard, document)
        self._reply = reply
        request_id = handle.request_id
        conversation = self.conversation
        handle.sig_prompt_fitted.connect(
            lambda fitted: self._on_prompt_fitted(reply, conversation, turn, fitted)
        )
        handle.sig_chunk_received.connect(lambda text: self._on_chunk(reply, text))
        handle.sig_finished.connect(lambda stats: self._on_handle_finished(reply, stats))
        handle.sig_failed.connect(lambda message: self._on_handle_failed(reply, message))
        handle.sig_notice.connect(lambda text: self._on_notice(reply, text))
        return request_id

    def _close_current_reply(self) -> None:
        """A new request stops the reply still streaming: it ends now, as "Stopped.", with
        what arrived kept in the panel and the history; its late chunks are dropped."""
        reply, self._reply = self._reply, None
        if reply is None or reply.handle.done:
            return
        if reply.handle.request_id != self._panel.active_request:
            return
        reply.handle.cancel()
        self._finish(reply, "Stopped.")

    @property
    def current(self) -> RequestHandle | None:
        """The reply streaming now, or None."""
        return self._reply.handle if self._reply is not None else None

    @Slot()
    def stop(self) -> None:
        """Stop the reply now streaming."""
        self._service.stop()

    @Slot()
    def clear(self) -> None:
        """Stop any reply and forget the conversation, here and where it is stored."""
        self._service.stop()
        self._guard.cancel()
        self.conversation.clear()
        self._panel.clear()
        self._revealable.clear()
        self._hint_levels.pop(self.key, None)
        if self.store is not None:
            problem = self.store.delete(self.key)
            if problem:
                self._panel.add_info(problem, error=True)

    # -- the conversation of each lesson --------------------------------------------------
    def switch_conversation(self, key: str) -> None:
        """Keep the current conversation and show the one of `key` (a lesson, or
        `FREE_KEY`), restored from the store."""
        if key == self.key:
            return
        self._close_current_reply()
        self._guard.cancel()
        self.save_conversation()
        self.key = key
        self.conversation = self.store.load(key) if self.store is not None else Conversation()
        self._panel.clear()
        self._revealable.clear()
        problem = self.store.load_problem if self.store is not None else None
        if problem:
            self._panel.add_info(problem, error=True)
        for turn in self.conversation.turns:
            if turn.role == "user":
                self._panel.add_user_message(turn.label or turn.content)
            else:
                self._panel.add_reply(turn.content)

    def save_conversation(self) -> None:
        """Write the conversation to the store (nothing when keeping is off)."""
        if self.store is None or not self.conversation.turns:
            return
        problem = self.store.save(self.key, self.conversation)
        if problem:
            self._panel.add_info(problem, error=True)

    def set_keep(self, keep: bool) -> None:
        """The "Keep tutor conversations" setting: off deletes what is stored."""
        if self.store is None:
            return
        problem = self.store.set_keep(keep)
        if problem:
            self._panel.add_info(problem, error=True)
        elif keep:
            self.save_conversation()

    def export_markdown(self, title: str) -> str:
        """The conversation as Markdown (Tutor ▸ Export conversation…)."""
        return self.conversation.to_markdown(title)

    # -- the reply ------------------------------------------------------------------------
    def _on_chunk(self, reply: _Reply, text: str) -> None:
        self._end_wait_notice(reply)
        if reply.ended_by or reply.handle.request_id != self._panel.active_request:
            return
        before = len(reply.text)
        reply.text += text
        cut = repetition_end(reply.text)
        if cut is not None:  # the rest is the loop going on: not shown, not kept
            reply.text = reply.text[:cut]
            text = reply.text[before:]
            reply.ended_by = REPEATING
            reply.handle.cancel()
        if text:
            self._panel.append_chunk(reply.handle.request_id, text)

    def _on_prompt_fitted(
        self, reply: _Reply, conversation: Conversation, turn: int, fitted: FittedPrompt
    ) -> None:
        self.last_fitted = fitted
        turns = conversation.turns  # the request's own, even after a switch of lesson
        if 0 <= turn < len(turns) and turns[turn].role == "user" and fitted.messages:
            turns[turn] = dataclasses.replace(turns[turn], content=fitted.messages[-1].content)
        info = self._service.model_info
        size = fitted.budget_tokens + self.params.max_tokens
        self.sig_context_used.emit(fitted.prompt_tokens, info.n_ctx if info else size)
        reply.fit_note = fitted.note  # the panel repaints the reply to its end: said after

    def _on_handle_finished(self, reply: _Reply, stats: StreamStats) -> None:
        self._end_wait_notice(reply)
        if reply is self._reply:
            self._reply = None
        if reply.handle.request_id != self._panel.active_request:
            return
        self.last_stats = stats
        note = reply.ended_by
        if not note and stats.stopped:
            note = "Stopped."
        elif not note and stats.truncated:
            note = CUT.format(tokens=self.params.max_tokens)
        elif not note and not reply.text.strip():
            note = EMPTY
        self._finish(reply, note)
        self.sig_reply_finished.emit(reply.handle.request_id, stats)
        if stats.stopped and not reply.ended_by:
            return
        self._after_reply(reply)

    def _finish(self, reply: _Reply, note: str) -> None:
        """End the reply in the panel and keep it in the conversation."""
        text = reply.text or self._panel.reply_text()
        if text:
            self.conversation.add("assistant", text)
        self._panel.end_reply(reply.handle.request_id, note)
        if reply.fit_note:
            self._panel.add_info(reply.fit_note)
        if reply.guard is not None:
            if text.strip():
                self._start_guard(reply, text)
            else:
                self._panel.show_verdict(reply.message, frozenset())
        self.save_conversation()

    def _after_reply(self, reply: _Reply) -> None:
        """What a finished reply leads to: a line to mark, a diff to offer."""
        if reply.action is TutorAction.DEBUG:
            pointed = _pointed_line(reply.text)
            if pointed is not None:
                self.sig_line_pointed.emit(*pointed)
        elif reply.action is TutorAction.DOCUMENT:
            original, first_line = _document_original(reply)
            proposal = proposal_from_reply(
                reply.text, original, reply.context.language, first_line=first_line
            )
            if proposal is None:
                self._panel.add_info(NO_PROPOSAL)
            else:
                self.sig_document_proposed.emit(proposal, reply.label, reply.document)

    def _on_notice(self, reply: _Reply, text: str) -> None:
        """The request waits (a busy lab server): say so above the conversation until the
        reply starts or ends."""
        if reply.handle.request_id == self._panel.active_request:
            reply.notice = text
            self._panel.set_notice(text)

    def _end_wait_notice(self, reply: _Reply) -> None:
        """The reply came (or ended): the model's own notice again, in place of the wait's."""
        if reply.notice:
            reply.notice = ""
            self._panel.set_notice(self._model_notice)

    def _on_handle_failed(self, reply: _Reply, message: str) -> None:
        self._end_wait_notice(reply)
        if reply is self._reply:
            self._reply = None
        if reply.handle.request_id != self._panel.active_request:
            return
        self._panel.end_reply(reply.handle.request_id)
        if reply.guard is not None:  # what arrived before the failure is checked all the same
            if reply.text.strip():
                self._start_guard(reply, reply.text)
            else:
                self._panel.show_verdict(reply.message, frozenset())
        self._panel.add_info(message, error=True)

    # -- the solution guard ---------------------------------------------------------------
    def _start_guard(self, reply: _Reply, text: str) -> None:
        target = reply.guard
        assert target is not None
        request_id = reply.handle.request_id
        self._guarded[request_id] = (reply.message, target)
        self._guard.start(
            request_id,
            text,
            reply.context.code,
            target.language,
            target.main_file,
            target.files_dir,
            list(target.checks),
            target.time_limit_s,
            self.guard_budget_s,
        )

    def _on_guard_finished(self, request_id: int, verdict: object) -> None:
        entry = self._guarded.pop(request_id, None)
        if entry is None:
            return
        message, target = entry
        solving = frozenset(getattr(verdict, "solving", frozenset()))
        self._panel.show_verdict(message, solving, getattr(verdict, "note", ""))
        if solving:
            self._revealable[message] = target.lesson_key
        self.sig_guard_finished.emit(request_id, verdict)

    def _on_panel_reveal_requested(self, message: int, index: int) -> None:
        key = self._revealable.get(message)
        if key is None or index not in self._panel.folded_blocks(message):
            return
        self._panel.reveal(message, index)
        self.sig_solution_revealed.emit(key)

    @Slot(object)
    def _on_service_state_changed(self, state: LlmState) -> None:
        self._panel.set_ready(state is LlmState.READY)

    @Slot(object)
    def _on_service_model_loaded(self, info: ModelInfo) -> None:
        self._model_notice = STARTER_NOTICE if info.is_starter else ""
        self._panel.set_notice(self._model_notice)

    def shutdown(self) -> None:
        """Stop the guard and keep the conversation (the window closes)."""
        self._guard.cancel()
        self.save_conversation()


def _pointed_line(reply: str) -> tuple[int, str] | None:
    """The first "Line N: what is wrong" of a Debug reply, as (N, the rest)."""
    found = re.search(r"(?im)^\W*line\s+(\d+)\W*[:\-–—]\s*(.+)$", reply)
    if found is None:
        found = re.search(r"(?i)\bline\s+(\d+)\b[:,]?\s*([^\n]*)", reply)
    if found is None:
        return None
    return int(found.group(1)), found.group(2).strip().strip("*`").strip()


def _document_original(reply: _Reply) -> tuple[str, int]:
    """The text a Document proposal is compared with: the selection (from the snapshot's
    whole lines) or the whole file, and its first line."""
    context = reply.context
    if context.selection and context.selection_lines:
        first, last = context.selection_lines
        lines = context.code.splitlines(keepends=True)
        return "".join(lines[first - 1 : last]), first
    return context.code, 1
