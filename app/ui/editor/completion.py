"""Inline completion for the editor: when to ask the model, what to ask, and what to show.

After a pause in typing (or on Ctrl+Space) the controller snapshots a bounded window of text
around the caret on the UI thread, asks the LLM service's completion lane for the middle
(`InfillRequest`, whose chunks come shaped by `app.core.completion.ProposalShaper`; or, for a
backend that can neither fill in the middle nor fall back, a `CompleteRequest` of the prefix,
shaped here) and shows the proposal as the editor's ghost text. At most one request is in
flight: a newer keystroke cancels the older; an answer for text that changed meanwhile is
dropped, but kept in a small cache (like llama.vim's) keyed by the code round the caret.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.core.completion import ANCHOR_CHARS, ANCHOR_LINES, FULL, LINE, ProposalShaper
from app.llm.backend import GenerationParams, ModelInfo, StreamStats
from app.llm.requests import CompleteRequest, InfillRequest
from app.llm.service import LlmService, LlmState, RequestHandle
from app.ui.editor.widget import CodeEditor

OFF = "off"
"""Completion mode: no requests at all (the lesson's policy)."""
MAX_RIGHT = 8  # no automatic request with more characters than this right of the caret
LINES_BEFORE, LINES_AFTER = 120, 40  # the window of text sent round the caret (more than the
BYTES_BEFORE, BYTES_AFTER = 6000, 2000  # engine's token budget), even in one huge line
KEY_BEFORE, KEY_AFTER = 2000, 1000  # what of the window the cache and staleness look at
DEBOUNCE_MIN_MS, DEBOUNCE_MAX_MS, DEBOUNCE_START_MS = 150.0, 350.0, 250.0
CACHE_SIZE = 64
TOKENS = {LINE: 48, FULL: 160}  # the shaper stops the model as soon as the proposal is whole
NO_FIM_NOTICE = (
    "This model cannot fill in the middle: inline completion sees only the code before the cursor."
)


@dataclass(frozen=True)
class Snapshot:
    """The text around the caret when a completion was asked for (taken on the UI thread)."""

    prefix: str
    suffix: str
    language: str
    mode: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What the cache and the staleness check compare: the code nearest the caret (not
        where the window starts)."""
        return (self.mode, self.language, self.prefix[-KEY_BEFORE:], self.suffix[:KEY_AFTER])


@dataclass
class _Ask:
    """One request in flight and what it was for."""

    handle: RequestHandle
    snapshot: Snapshot
    started: float  # perf_counter() when asked (the pause had ended)
    ahead: bool = False  # computed ahead (after a proposal, for when it is accepted)
    shaper: ProposalShaper | None = None  # for a raw completion (an infill comes shaped)
    parts: list[str] = field(default_factory=list)
    cut: bool = False  # stopped by us: the answer already had all we keep


class CompletionController(QObject):
    """Asks for inline completions and shows them as the editor's ghost text.

    All methods run on the UI thread.

    Args:
        editor: the editor whose caret it completes at.
        service: the LLM service (its completion lane).
        parent: the Qt parent; by default the editor, so nothing outlives it.
    """

    sig_status = Signal(str)
    """(message): a message for the status bar, e.g. that this model cannot fill in the
    middle (said once per model)."""
    sig_latency = Signal(float)
    """(ms): from the end of the pause (the request) to the ghost text painted; the pause
    itself is `last_debounce_ms`."""

    def __init__(
        self, editor: CodeEditor, service: LlmService, parent: QObject | None = None
    ) -> None:
        super().__init__(editor if parent is None else parent)  # its timer dies with it
        self._editor = editor
        self._service = service
        self._mode = LINE
        self._enabled = True
        self._ask: _Ask | None = None
        self._cache: OrderedDict[tuple[str, str, str, str], str] = OrderedDict()
        self._told_no_fim = False
        self._last_key = 0.0
        self._typing_gap_ms: float | None = None  # moving average of gaps between keys
        self._model_ms: float | None = None  # moving average of request → answer
        self._shown_at: float | None = None  # perf_counter() of the request being painted
        self.last_debounce_ms = 0.0
        """The pause waited before the latest automatic request (ms)."""
        self.last_snapshot_ms = 0.0
        """UI-thread time of the latest request: snapshot, checks, cache, submit (ms)."""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)
        editor.sig_typed.connect(self._on_editor_typed)
        editor.sig_completion_requested.connect(self.request_now)
        editor.sig_ghost_accepted.connect(self._on_editor_ghost_accepted)
        editor.sig_ghost_painted.connect(self._on_editor_ghost_painted)
        service.sig_model_loaded.connect(self._on_service_model_loaded)

    # -- settings ------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """The lesson's completion mode: "off", "line" or "full"."""
        return self._mode

    def set_mode(self, mode: str) -> None:
        """Follow the lesson's policy (`TutorPolicy.completion`); "off" asks nothing at all."""
        mode = mode if mode in (OFF, LINE, FULL) else LINE
        if mode != self._mode:
            self._mode = mode
            self._stop()  # a proposal of the old mode no longer applies

    @property
    def enabled(self) -> bool:
        """Whether proposals come by themselves after a pause (Ctrl+Space always asks)."""
        return self._enabled

    def set_enabled(self, enabled: bool) -> None:
        """Switch automatic proposals on or off (the toolbar toggle and the setting)."""
        self._enabled = enabled
        if not enabled:
            self._stop()

    def debounce_ms(self) -> float:
        """The pause to wait for: longer than the learner's usual gap between keys, longer
        for a slow model, within 150–350 ms."""
        if self._typing_gap_ms is None and self._model_ms is None:
            return DEBOUNCE_START_MS
        wait = max(1.5 * (self._typing_gap_ms or 0.0), 0.25 * (self._model_ms or 0.0))
        return min(DEBOUNCE_MAX_MS, max(DEBOUNCE_MIN_MS, wait))

    # -- asking --------------------------------------------------------------------------
    @Slot()
    def request_now(self) -> None:
        """Ask for a proposal at the caret now (Ctrl+Space), whatever stands around it."""
        self._timer.stop()
        self._request(explicit=True)

    def snapshot(self) -> Snapshot:
        """The text round the caret, bounded (cheap even for a huge file). The window starts
        at a line number that is a multiple of ANCHOR_LINES (in a huge line at a multiple of
        ANCHOR_CHARS bytes), so it stays put while the learner types and the engine's own
        anchored window, and its KV cache, hold."""
        prefix, suffix = self._editor.text_around_cursor(
            BYTES_BEFORE, BYTES_AFTER, LINES_BEFORE, LINES_AFTER, ANCHOR_LINES, ANCHOR_CHARS
        )
        return Snapshot(prefix, suffix, self._editor.language, self._mode)

    def _request(self, explicit: bool) -> None:
        began = time.perf_counter()
        try:
            self._cancel()
            if self._mode == OFF:
                return
            if self._service.state is not LlmState.READY:
                if explicit:
                    self.sig_status.emit("Inline completion needs a model: none is ready yet.")
                return
            if not self._editor.selectionEmpty():
                return
            snap = self.snapshot()
            if not explicit and not self._auto_allowed(snap):
                return
            cached = self._lookup(snap)
            if cached is not None:
                self._show(cached, began)
                return
            self._submit(snap, began)
        finally:
            self.last_snapshot_ms = (time.perf_counter() - began) * 1000

    def _auto_allowed(self, snap: Snapshot) -> bool:
        """No automatic request mid-line, or inside a string or comment in "line" mode."""
        if len(snap.suffix.split("\n", 1)[0].strip()) > MAX_RIGHT:
            return False
        return not (self._mode == LINE and self._editor.cursor_in_string_or_comment())

    def _submit(self, snap: Snapshot, began: float, ahead: bool = False) -> None:
        params = GenerationParams(max_tokens=TOKENS[snap.mode], temperature=0.0, repeat_penalty=1.0)
        capabilities = self._service.backend.capabilities
        shaper = None
        if capabilities.fim or capabilities.fim_fallback:
            request: InfillRequest | CompleteRequest = InfillRequest(
                prefix=snap.prefix,
                suffix=snap.suffix,
                language=snap.language,
                params=params,
                mode=snap.mode,
            )
        else:
            if not self._told_no_fim:
                self._told_no_fim = True
                self.sig_status.emit(NO_FIM_NOTICE)
            request = CompleteRequest(prompt=snap.prefix, params=params)
            shaper = ProposalShaper(snap.prefix, snap.suffix, snap.mode)
        handle = self._service.submit(request)
        ask = _Ask(handle, snap, began, ahead=ahead, shaper=shaper)
        self._ask = ask
        # The handle lives on this thread and signals on it: plain callables are fine.
        handle.sig_chunk_received.connect(lambda text: self._on_handle_chunk(ask, text))
        handle.sig_finished.connect(lambda stats: self._on_handle_finished(ask, stats))
        handle.sig_failed.connect(lambda _message: self._on_handle_failed(ask))

    def _lookup(self, snap: Snapshot) -> str | None:
        """A cached proposal for `snap`, or for a snapshot a few typed characters ago whose
        proposal starts with them (its rest)."""
        for back in range(min(len(snap.prefix), 16) + 1):
            cut = len(snap.prefix) - back
            before, typed = snap.prefix[:cut], snap.prefix[cut:]
            key = Snapshot(before, snap.suffix, snap.language, snap.mode).key
            proposal = self._cache.get(key)
            if proposal is not None and (
                back == 0 or proposal.startswith(typed) and proposal[back:]
            ):
                self._cache.move_to_end(key)
                return proposal[back:]
            if "\n" in typed:
                break
        return None

    def _remember(self, snap: Snapshot, proposal: str) -> None:
        self._cache[snap.key] = proposal
        self._cache.move_to_end(snap.key)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)

    def _show(self, proposal: str, began: float) -> None:
        if not proposal.strip():
            return
        self._shown_at = began
        self._editor.show_ghost(proposal)
        if self._editor.ghost_text and self._mode == FULL:
            self._compute_ahead(proposal)

    def _compute_ahead(self, proposal: str) -> None:
        """Ask now for the proposal that follows this one, for when Tab accepts it."""
        snap = self.snapshot()
        after = Snapshot(snap.prefix + proposal, snap.suffix, snap.language, snap.mode)
        if self._lookup(after) is None:
            self._submit(after, time.perf_counter(), ahead=True)

    def _cancel(self) -> None:
        if self._ask is not None:
            self._ask.handle.cancel()
            self._ask = None

    def _stop(self) -> None:
        self._timer.stop()
        self._cancel()
        self._editor.clear_ghost()

    # -- answers -------------------------------------------------------------------------
    def _on_handle_chunk(self, ask: _Ask, text: str) -> None:
        if ask.shaper is None:
            ask.parts.append(text)  # an infill's chunks are the shaped proposal
            return
        ask.parts.append(ask.shaper.feed(text))
        if ask.shaper.done and not ask.cut:
            ask.cut = True
            ask.handle.cancel()  # all the proposal has come: free the model

    def _on_handle_finished(self, ask: _Ask, stats: StreamStats) -> None:
        if self._ask is ask:
            self._ask = None
        if stats.note:
            self.sig_status.emit(stats.note)
        if stats.stopped and not ask.cut:
            return  # cancelled by a newer request, a keystroke, or a model load
        self._model_ms = _average(self._model_ms, (time.perf_counter() - ask.started) * 1000)
        if ask.shaper is not None:
            ask.parts.append(ask.shaper.finish())
        snap, proposal = ask.snapshot, "".join(ask.parts)
        self._remember(snap, proposal)
        if self._editor.ghost_text or self._mode != snap.mode:
            return
        if not self._editor.selectionEmpty() or self.snapshot().key != snap.key:
            return  # stale: the text or the caret moved on
        self._show(proposal, ask.started)

    def _on_handle_failed(self, ask: _Ask) -> None:
        if self._ask is ask:
            self._ask = None

    # -- the editor and the service ------------------------------------------------------
    @Slot()
    def _on_editor_typed(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last_key) * 1000
        self._last_key = now
        if gap < 1000:  # a pause is not a typing speed
            self._typing_gap_ms = _average(self._typing_gap_ms, gap)
        self._timer.stop()
        if self._editor.ghost_text:  # typed through the ghost text: it is still right, and
            return  # so is the proposal being computed ahead for its end
        self._cancel()  # a newer keystroke: the older answer is stale
        if not self._enabled or self._mode == OFF:
            return
        self.last_debounce_ms = self.debounce_ms()
        self._timer.start(round(self.last_debounce_ms))

    @Slot()
    def _on_timer_timeout(self) -> None:
        self._request(explicit=False)

    @Slot(str)
    def _on_editor_ghost_accepted(self, _text: str) -> None:
        if self._editor.ghost_text or self._mode != FULL:
            return  # the rest of the proposal still shows; "line" ends at the line's end
        began = time.perf_counter()
        snap = self.snapshot()
        cached = self._lookup(snap)
        if cached is not None:
            self._show(cached, began)
        elif self._ask is None or self._ask.snapshot.key != snap.key:
            self._request(explicit=True)  # not computed ahead yet: ask at once
        else:
            self._ask.started = began  # computed ahead and on its way: show it when it comes

    @Slot()
    def _on_editor_ghost_painted(self) -> None:
        if self._shown_at is not None:
            latency = (time.perf_counter() - self._shown_at) * 1000
            self._shown_at = None
            self.sig_latency.emit(latency)

    @Slot(object)
    def _on_service_model_loaded(self, _info: ModelInfo) -> None:
        self._cache.clear()  # another model proposes other things
        self._told_no_fim = False


def _average(old: float | None, new: float, weight: float = 0.3) -> float:
    """An exponential moving average."""
    return new if old is None else (1 - weight) * old + weight * new
