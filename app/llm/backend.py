"""The Backend protocol every inference backend implements, and the types it speaks.

Thread contract: a backend is created on any thread but, once loaded, is used from one
thread only (the LLM worker's). Nothing here touches Qt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.core.gguf import ModelFileError
from app.core.models import ModelSpec
from app.core.preflight import RunSettings
from app.core.prompts.messages import ChatMessage

__all__ = ["ChatMessage"]  # the message type lives in core; re-exported for the backends


class CancelFlag(threading.Event):
    """A Stop flag: a threading.Event that also runs hooks when set.

    The backend hooks it to llama.cpp's abort flag, so Stop also interrupts a long prompt
    evaluation, not only the token-by-token loop.
    """

    def __init__(self) -> None:
        super().__init__()
        self._hooks: list[Callable[[], None]] = []
        self._hook_lock = threading.Lock()

    def add_hook(self, hook: Callable[[], None]) -> None:
        """Call `hook` when the flag is set (at once if it already is)."""
        with self._hook_lock:
            self._hooks.append(hook)
            already = self.is_set()
        if already:
            hook()

    def set(self) -> None:
        """Set the flag and run the hooks."""
        super().set()
        with self._hook_lock:
            hooks = list(self._hooks)
        for hook in hooks:
            hook()


class ModelLoadError(ModelFileError):
    """llama.cpp refused a file that passed our own checks."""

    kind = "load_failed"


class GenerationError(Exception):
    """Generation failed part-way; `str()` is a message for the learner."""


@dataclass(frozen=True)
class GenerationParams:
    """How to sample.

    Attributes:
        max_tokens: the most tokens to generate.
        temperature: 0 is greedy (repeatable).
        top_p: nucleus sampling's probability mass.
        ignore_eos: keep generating past end-of-text (benchmarks only).
        repeat_penalty: how much less likely a token already in the text becomes (1.0:
            no penalty); small models such as the starter model loop without it.
    """

    max_tokens: int = 512
    temperature: float = 0.2
    top_p: float = 0.95
    ignore_eos: bool = False
    repeat_penalty: float = 1.1


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded model is and where it runs.

    Attributes:
        name: display name.
        path: the GGUF file.
        device: a sentence for the status bar, e.g. "GPU: 31/31 layers" or
            "CPU only: this build has no GPU support".
        on_gpu: True when any layer is offloaded.
        gpu_layers: layers offloaded.
        total_layers: layers in the model.
        n_ctx: context length in tokens.
        chat_format: the chat format in use.
        load_seconds: time to load.
        is_starter: True for the tiny starter model.
        settings: how llama.cpp runs it (GPU layers, extra CPU buffer types).
        notice: what the learner should be told about how it runs, e.g. that the model
            check fell back to a safer setting after a crash; None when nothing happened.
        on_server: it runs on the tutor's server (`device` then names the server and the
            model, "Server: lab-gpu.local — codellama-7b-instruct").
    """

    name: str
    path: str
    device: str
    on_gpu: bool
    gpu_layers: int
    total_layers: int
    n_ctx: int
    chat_format: str
    load_seconds: float
    is_starter: bool = False
    settings: RunSettings | None = None
    notice: str | None = None
    on_server: bool = False


@dataclass
class StreamStats:
    """Counts filled in while a reply streams.

    Attributes:
        tokens: pieces of the reply (one token each, or nearly).
        first_token_s: seconds from the start to the first piece.
        seconds: seconds from the start to the end.
        stopped: Stop (or a newer request) ended it.
        truncated: it ended because it reached `GenerationParams.max_tokens`, not because
            the model was done.
        token_times: `time.perf_counter()` of each piece.
        prompt_tokens: an inline completion's prompt, in tokens (0 for other requests).
        reused_tokens: of those, how many the KV cache already held (not evaluated again).
        note: what the learner should be told about this reply, for the status bar ("" mostly),
            e.g. that the model cannot fill in the middle and completes the prefix instead.
    """

    tokens: int = 0
    first_token_s: float | None = None
    seconds: float = 0.0
    stopped: bool = False
    truncated: bool = False
    token_times: list[float] = field(default_factory=list)  # perf_counter() of each token
    prompt_tokens: int = 0
    reused_tokens: int = 0
    note: str = ""

    @property
    def reuse_share(self) -> float:
        """The share of the prompt's tokens served from the cache (0.0 without a prompt)."""
        return self.reused_tokens / self.prompt_tokens if self.prompt_tokens else 0.0

    @property
    def tokens_per_s(self) -> float:
        """Decode speed: tokens after the first over the time after the first."""
        if self.tokens < 2 or self.first_token_s is None:
            return 0.0
        span = self.seconds - self.first_token_s
        return (self.tokens - 1) / span if span > 0 else 0.0


@dataclass(frozen=True)
class Capabilities:
    """What a loaded model and its backend can do.

    Attributes:
        fim: the vocabulary has fill-in-the-middle tokens (prefix, suffix, middle), so
            `infill` sends the code on both sides of the cursor.
        fim_fallback: `infill` works without them, completing the code before the cursor
            alone (the first such reply's `StreamStats.note` says so).
        exact_tokens: `count_tokens` uses the model's own tokenizer (else an estimate).
        where: where it runs, for the status bar: "gpu", "cpu" or "server".
    """

    fim: bool = False
    fim_fallback: bool = False
    exact_tokens: bool = True
    where: str = "cpu"


class Backend(Protocol):
    """An inference backend: load a model, stream chat, completions and infills, count tokens.

    Every streaming method yields the reply piece by piece (one token each) and returns as
    soon as `cancel` is set; failures part-way raise GenerationError.
    """

    def load(self, spec: ModelSpec, report: Callable[[str], None] | None = None) -> ModelInfo:
        """Load `spec`, replacing any loaded model. Raises ModelFileError subclasses.

        `report` hears the phase: "checking" (a model check runs first), then "loading".
        """
        ...

    def interrupt(self) -> None:
        """Any thread: end a slow preparation (a model check) at once; the app is quitting."""
        ...

    def unload(self) -> None:
        """Free the model."""
        ...

    @property
    def info(self) -> ModelInfo | None:
        """The loaded model, or None."""
        ...

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event,
    ) -> Iterator[str]:
        """Yield the chat reply to `messages` (the model's chat template applies)."""
        ...

    def complete(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield what follows `prompt`, as raw text completion (no chat template)."""
        ...

    def infill(
        self, prefix: str, suffix: str, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield what belongs between `prefix` and `suffix` (fill-in-the-middle): the whole
        texts before and after the cursor, of which the backend sends the lines round it.

        Raises:
            GenerationError: the model has no fill-in-the-middle tokens (`capabilities.fim`)
                and the backend has no fallback (`capabilities.fim_fallback`).
        """
        ...

    def tokenize(self, text: str) -> list[int]:
        """The model's tokens for `text` (no start-of-text token)."""
        ...

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` takes in this model."""
        ...

    def context_size(self) -> int:
        """The loaded model's context length in tokens (prompt and reply together).

        Raises:
            GenerationError: no model is loaded.
        """
        ...

    @property
    def last_finish_reason(self) -> str | None:
        """Why the last stream ended: "stop" (the model was done), "length" (it reached
        `max_tokens`), or None (stopped, failed, or not yet known)."""
        ...

    @property
    def capabilities(self) -> Capabilities:
        """What the loaded model can do (all False/"cpu" before a model is loaded)."""
        ...
