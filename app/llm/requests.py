"""What the UI asks of the model: frozen requests, snapshotted on the UI thread.

Each request belongs to a lane, and the lanes decide what replaces what (the policy is
`LlmService._admit`): chat replaces chat; a completion (infill or raw) replaces the older
completion and never touches chat; a load cancels everything. Stop is a `CancelFlag` inside
the request, set from any thread and checked by the worker between tokens.
"""

from __future__ import annotations

import enum
import itertools
import time
from dataclasses import dataclass, field

from app.core.completion import FULL, MODES
from app.core.models import ModelSpec
from app.core.prompts.plan import PromptPlan
from app.llm.backend import CancelFlag, ChatMessage, GenerationParams

_ids = itertools.count(1)


def next_request_id() -> int:
    """A fresh request id, unique in this process."""
    return next(_ids)


class Lane(enum.Enum):
    """Which requests compete with which."""

    CHAT = "chat"  # the tutor's replies: explain, hint, debug, document, chat
    COMPLETION = "completion"  # inline completion: infill, or raw completion without FIM
    MODEL = "model"  # loading a model


@dataclass(frozen=True, kw_only=True)
class _Request:
    """What every request has.

    Attributes:
        request_id: unique in this process.
        cancel: set by Stop or by a newer request (any thread); the worker checks it
            between tokens.
        created: `time.perf_counter()` when the UI made the request (for time to first token).
    """

    request_id: int = field(default_factory=next_request_id)
    cancel: CancelFlag = field(default_factory=CancelFlag, compare=False, repr=False)
    created: float = field(default_factory=time.perf_counter, compare=False)


@dataclass(frozen=True)
class LoadRequest(_Request):
    """Load a model (replacing the current one)."""

    spec: ModelSpec
    lane = Lane.MODEL


@dataclass(frozen=True)
class ChatRequest(_Request):
    """Stream a chat reply, snapshotted on the UI thread.

    Attributes:
        messages: the whole prompt, for plain callers (the bench); ignored with a plan.
        params: how to sample; `max_tokens` is also the room kept for the reply.
        plan: the tutor's prompt plan, fitted to the model's context on the worker thread
            (`app.core.prompts.budget.fit_prompt`), or None to send `messages`.
    """

    messages: tuple[ChatMessage, ...]
    params: GenerationParams = GenerationParams()
    plan: PromptPlan | None = None
    lane = Lane.CHAT


@dataclass(frozen=True)
class InfillRequest(_Request):
    """Inline completion: what belongs at the cursor between `prefix` and `suffix`.

    The handle's chunks, joined, are the proposal itself, already shaped by
    `app.core.completion.ProposalShaper` (cut to `mode`, what repeats the code after the
    cursor left out, nothing at all for a blank one); its `StreamStats` tell the share of the
    prompt served from the cache and any `note` for the status bar.

    Attributes:
        prefix: all the text before the cursor (the backend chooses the lines round it by
            tokens; do not cut it: the window is anchored to line numbers from the top).
        suffix: all the text after the cursor.
        language: the language id of the file (`app.core.languages`).
        params: how to sample (greedy, 64 tokens at most by default).
        mode: `app.core.completion.LINE` (the rest of the current line) or `FULL` (several
            lines, up to a blank line after a complete block, 8 at most).
    """

    prefix: str
    suffix: str
    language: str
    params: GenerationParams = GenerationParams(max_tokens=64, temperature=0.0)
    mode: str = FULL
    lane = Lane.COMPLETION

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown completion mode {self.mode!r} (expected one of {MODES})")


@dataclass(frozen=True)
class CompleteRequest(_Request):
    """Raw completion of `prompt` (no chat template): benchmarks, and inline completion with
    a model that has no fill-in-the-middle tokens."""

    prompt: str
    params: GenerationParams = GenerationParams(max_tokens=64, temperature=0.0)
    lane = Lane.COMPLETION


Request = LoadRequest | ChatRequest | InfillRequest | CompleteRequest
GenerationRequest = ChatRequest | InfillRequest | CompleteRequest
