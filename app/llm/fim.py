"""Inline completion's engine: the fill-in-the-middle prompt as a token list, and a second
llama.cpp context on the loaded model's weights whose KV cache is kept between keystrokes and
across the tutor's chat replies.

Thread contract: used only from the LLM worker's thread, like the backend that owns it.

Why a second context (measured by `python -m app.bench --fim`, starter model, 2 CPU cores,
two runs): the chat's context cannot hold both conversations' tokens, and swapping the
completion's state out and in around a chat reply (`Llama.save_state` / `load_state`) cost
20-22 ms to save and 18 ms to restore for 450 tokens (10.4 MB) each time, growing with the
model (Code Llama 7B: 512 kB a token, 230 MB for those 450), and it still throws the chat's own
cached prefix away. A second context costs its KV memory once (`COMPLETION_CONTEXT_TOKENS` ×
layers × 2 × KV width × 2 bytes: 24 MB for the starter, 512 MB for Code Llama 7B) and nothing
per switch: the first completion after a 128-token chat reply found 99.6 % of its prompt cached.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.core.completion import PREFIX_SHARE, fim_window
from app.llm.backend import GenerationError, GenerationParams

if TYPE_CHECKING:
    import llama_cpp

PSM = "psm"
"""Prefix-suffix-middle: `<PRE> prefix <SUF> suffix <MID>`."""
SPM = "spm"
"""Suffix-prefix-middle, in Code Llama's form: `<PRE> <SUF> suffix <MID> prefix` (its
reference `infilling_prompt_tokens(suffix_first=True)`; llama.cpp's server `--spm-infill`
writes `<SUF> suffix <PRE> prefix <MID>` instead, another model family's form)."""
FIM_ORDER = SPM
"""The order used, chosen by the share of prompt tokens served from the KV cache, measured by
`python -m app.bench --fim` on the FIM test model (the starter with FIM tokens; two runs, same
figures): over 50 completions one keystroke apart, SPM 0.987 and PSM 0.705; after a 128-token
chat reply 0.991 and 0.689; with a cursor move every 10 keystrokes 0.851 and 0.510. Typing
changes the end of the prefix, which SPM puts last, so the suffix and the prefix before the
cursor stay cached, while PSM evaluates the whole suffix again after each keystroke (latency
p50 33-38 ms in SPM, 148-173 ms in PSM, although the test model, which never learnt FIM,
ends every PSM proposal at once). Code Llama was trained on both orders."""

COMPLETION_CONTEXT_TOKENS = 1024
"""The completion context's length: the window (at most `MAX_BUDGET`), four FIM/BOS tokens,
and room for the proposal."""
FIRST_BUDGET = 256
"""Tokens of code sent round the cursor (prefix and suffix together, FIM tokens apart) until
the model's prompt speed is known."""
MIN_BUDGET, MAX_BUDGET = 128, 768
COLD_SECONDS = 0.4
"""The window is what this machine evaluates in this time, between `MIN_BUDGET` and
`MAX_BUDGET` tokens: a prompt nothing of which is cached (the cursor moved) should still come
back within the editor's 600 ms. It is chosen again only for such a prompt, so it never moves
the window (and throws the cache away) while the learner types. The starter on 2 CPU cores
evaluates ~400 tokens/s: 128-192 tokens, a dozen lines before the cursor and a few after;
Code Llama 7B on a GPU evaluates thousands: 768."""


@dataclass(frozen=True)
class FimTokens:
    """The vocabulary's fill-in-the-middle tokens.

    Attributes:
        pre: `<PRE>` (the prefix follows).
        suf: `<SUF>` (the suffix follows).
        mid: `<MID>` (the middle follows).
        bos: the start-of-text token, when the model wants one first; else None.
    """

    pre: int
    suf: int
    mid: int
    bos: int | None = None


def fim_prompt(
    order: str, fim: FimTokens, prefix: Sequence[int], suffix: Sequence[int]
) -> list[int]:
    """The FIM prompt: PSM `[BOS] <PRE> prefix <SUF> suffix <MID>` or SPM
    `[BOS] <PRE> <SUF> suffix <MID> prefix`.

    Raises:
        ValueError: an unknown order.
    """
    start = [] if fim.bos is None else [fim.bos]
    if order == PSM:
        return [*start, fim.pre, *prefix, fim.suf, *suffix, fim.mid]
    if order == SPM:
        return [*start, fim.pre, fim.suf, *suffix, fim.mid, *prefix]
    raise ValueError(f"unknown FIM order {order!r} (expected {PSM!r} or {SPM!r})")


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many tokens `a` and `b` share from the start."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class CompletionContext:
    """A llama.cpp context of its own on a loaded model's weights, for inline completion.

    It remembers which tokens its KV cache holds (`cached`: the last prompt and what was
    generated after it) and evaluates only what a new prompt does not share with them.

    Args:
        llm: the loaded model (its weights, vocabulary and context settings are shared).
        n_ctx: this context's length in tokens.
        prepare: called with the new context's pointer (the backend installs its abort flag).

    Raises:
        ValueError: llama.cpp could not make the context (memory).
    """

    def __init__(
        self, llm: llama_cpp.Llama, n_ctx: int, prepare: Callable[[object], None] | None = None
    ) -> None:
        import llama_cpp
        from llama_cpp import _internals

        params = llama_cpp.llama_context_params.from_buffer_copy(llm.context_params)
        params.n_ctx = n_ctx
        params.n_batch = min(n_ctx, llm.n_batch)
        params.n_ubatch = min(params.n_batch, params.n_ubatch)
        self._llama_cpp = llama_cpp
        self._ctx = _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        self._n_batch = params.n_batch
        self._batch = _internals.LlamaBatch(n_tokens=self._n_batch, embd=0, n_seq_max=1)
        self._vocab = llm._model.vocab
        self._n_vocab = llm.n_vocab()
        self._seed = llm._seed
        self.n_ctx = self._ctx.n_ctx()
        self.cached: list[int] = []
        self.reused = 0
        self.prompt_rate: float | None = None  # prompt tokens evaluated a second, lately
        self.finish_reason: str | None = None
        if prepare is not None:
            prepare(self._ctx.ctx)

    def close(self) -> None:
        """Free the context (the model stays loaded)."""
        self._batch.close()
        self._ctx.close()
        self.cached = []

    def is_end(self, token: int) -> bool:
        """The token ends generation (end of text, end of turn, FIM's `<EOT>` …)."""
        return bool(self._llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def generate(
        self, prompt: Sequence[int], params: GenerationParams, cancel: threading.Event
    ) -> Iterator[int]:
        """Evaluate what of `prompt` is not cached yet, then yield the tokens sampled after it
        until an end token or `params.max_tokens` (`finish_reason` "stop" or "length"; None
        when `cancel` ended it; `ignore_eos` does not apply). `reused` tells how many of the
        prompt's tokens the cache served. Closing the iterator early leaves the cache
        consistent.

        Raises:
            ValueError: the prompt and `max_tokens` are longer than the context.
            RuntimeError: llama.cpp failed, or Stop aborted its computation.
        """
        self.finish_reason = None
        if len(prompt) + 1 > self.n_ctx:
            raise ValueError(f"the prompt ({len(prompt)} tokens) is longer than {self.n_ctx}")
        self.reused = min(common_prefix(self.cached, prompt), len(prompt) - 1)
        self._forget_after(self.reused)
        self._eval(prompt[len(self.cached) :], cancel)
        room = self.n_ctx - len(self.cached)
        sampler = self._sampler(params)
        try:
            for _ in range(min(params.max_tokens, room)):
                if cancel.is_set():
                    return
                token = sampler.sample(self._ctx, -1)
                if self.is_end(token):
                    self.finish_reason = "stop"
                    return
                yield token
                self._eval([token], cancel)
            self.finish_reason = "length"
        finally:
            sampler.close()

    def _forget_after(self, keep: int) -> None:
        """Drop every cached token after the first `keep`."""
        if keep < len(self.cached):
            self._ctx.kv_cache_seq_rm(0, keep, -1)
            del self.cached[keep:]

    def _eval(self, tokens: Sequence[int], cancel: threading.Event) -> None:
        """Decode `tokens` after the cached ones, a batch at a time; on a failure (or Stop)
        the partly decoded batch is dropped from the cache. Notes `prompt_rate` (32 tokens
        or more)."""
        started = time.perf_counter()
        for at in range(0, len(tokens), self._n_batch):
            if cancel.is_set():
                raise RuntimeError("stopped")
            batch = list(tokens[at : at + self._n_batch])
            self._batch.set_batch(batch=batch, n_past=len(self.cached), logits_all=False)
            try:
                self._ctx.decode(self._batch)
            except BaseException:
                self._ctx.kv_cache_seq_rm(0, len(self.cached), -1)
                raise
            self.cached.extend(batch)
        if len(tokens) >= 32:
            rate = len(tokens) / max(time.perf_counter() - started, 1e-6)
            self.prompt_rate = rate if self.prompt_rate is None else (self.prompt_rate + rate) / 2

    def _sampler(self, params: GenerationParams) -> object:
        """A sampler chain as llama-cpp-python's `Llama.generate` builds it (greedy at
        temperature 0)."""
        from llama_cpp import _internals

        sampler = _internals.LlamaSampler()
        if params.repeat_penalty != 1.0:
            sampler.add_penalties(self._n_vocab, 64, params.repeat_penalty, 0.0, 0.0)
        if params.temperature <= 0.0:
            sampler.add_greedy()
        else:
            sampler.add_top_k(40)
            sampler.add_top_p(params.top_p, 1)
            sampler.add_min_p(0.05, 1)
            sampler.add_temp(params.temperature)
            sampler.add_dist(self._seed)
        return sampler


def text_pieces(tokens: Iterator[int], detokenize: Callable[[int], bytes]) -> Iterator[str]:
    """The text of each token, a character split across tokens (UTF-8 bytes) whole in the
    piece that completes it; closing this closes `tokens`."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        for token in tokens:
            piece = decoder.decode(detokenize(token))
            if piece:
                yield piece
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail
    finally:
        close = getattr(tokens, "close", None)
        if close is not None:
            close()


FALLBACK_NOTE = "This model cannot fill in the middle: completing from the code before the cursor"
"""What the editor's status bar says, once per model, when inline completion falls back to
completing from the prefix alone (the model has no FIM tokens, like the starter)."""


class InlineCompleter:
    """Inline completion on a loaded model: the prompt as tokens, evaluated in a
    `CompletionContext` made at the first request.

    With FIM tokens the prompt is `fim_prompt` of the code round the cursor; without them it
    is the code before the cursor alone, as raw text completion (no chat template).

    Args:
        llm: the loaded model.
        prepare: called with each new llama.cpp context pointer (the abort flag).
    """

    def __init__(self, llm: llama_cpp.Llama, prepare: Callable[[object], None]) -> None:
        import llama_cpp

        self._llm = llm
        self._prepare = prepare
        self._context: CompletionContext | None = None
        vocab = llm._model.vocab
        pre, suf, mid = (
            int(llama_cpp.llama_vocab_fim_pre(vocab)),
            int(llama_cpp.llama_vocab_fim_suf(vocab)),
            int(llama_cpp.llama_vocab_fim_mid(vocab)),
        )
        bos = int(llama_cpp.llama_vocab_bos(vocab))
        self.bos = bos if llama_cpp.llama_vocab_get_add_bos(vocab) and bos >= 0 else None
        self.fim = FimTokens(pre, suf, mid, self.bos) if min(pre, suf, mid) >= 0 else None
        # A SentencePiece vocabulary puts a space before every text it tokenizes; Code Llama's
        # suffix is encoded without it (its `encode_infilling`): tokens after a newline.
        self._barrier = self.text_tokens("\n")
        self._space_prefix = len(self._barrier) > 1
        self.last_prompt_tokens: list[int] = []
        self.last_reuse: tuple[int, int] | None = None
        self.finish_reason: str | None = None
        self.budget = FIRST_BUDGET
        """The window's size in tokens now (`COLD_SECONDS`)."""

    def close(self) -> None:
        """Free the completion context."""
        if self._context is not None:
            self._context.close()
        self._context = None

    def text_tokens(self, text: str) -> list[int]:
        """The tokens of the learner's `text` (special-token texts stay plain text, no BOS)."""
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count(self, text: str) -> int:
        """How many tokens `text` takes (as `text_tokens`)."""
        return len(self.text_tokens(text))

    def _suffix_tokens(self, text: str) -> list[int]:
        if not self._space_prefix or not text:
            return self.text_tokens(text)
        tokens = self.text_tokens("\n" + text)
        n = len(self._barrier)
        return tokens[n:] if tokens[:n] == self._barrier else self.text_tokens(text)

    def context(self) -> CompletionContext:
        """The completion context, made at the first call.

        Raises:
            GenerationError: llama.cpp could not make it (not enough memory).
        """
        if self._context is None:
            n_ctx = min(COMPLETION_CONTEXT_TOKENS, self._llm.n_ctx())
            try:
                self._context = CompletionContext(self._llm, n_ctx, self._prepare)
            except ValueError as exc:
                raise GenerationError(
                    f"Inline completion needs memory for its own context ({exc})."
                ) from exc
        return self._context

    def prompt(
        self, prefix: str, suffix: str, max_tokens: int, order: str = FIM_ORDER
    ) -> list[int]:
        """The prompt for the cursor between `prefix` and `suffix` (whole texts: the window
        round the cursor is chosen here), leaving room for `max_tokens`.

        Raises:
            GenerationError: no room for a completion context.
        """
        context = self.context()
        room = context.n_ctx - 4 - max(16, max_tokens)
        tokens = self._prompt(prefix, suffix, min(self.budget, room), order)
        cold = common_prefix(context.cached, tokens) < len(tokens) // 2
        if cold and context.prompt_rate is not None:  # evaluated whole anyway: resize
            budget = int(context.prompt_rate * COLD_SECONDS) // 64 * 64
            budget = max(MIN_BUDGET, min(MAX_BUDGET, room, budget))
            if budget != self.budget:
                self.budget = budget
                tokens = self._prompt(prefix, suffix, budget, order)
        return tokens

    def _prompt(self, prefix: str, suffix: str, budget: int, order: str) -> list[int]:
        budget = max(16, budget)
        if self.fim is None:
            before, _ = fim_window(prefix, "", budget, self.count, prefix_share=1.0)
            tokens = self.text_tokens(before)[-budget:]
            return tokens if self.bos is None else [self.bos, *tokens]
        before, after = fim_window(prefix, suffix, budget, self.count)
        head, tail = self.text_tokens(before), self._suffix_tokens(after)
        tail = tail[: max(budget - min(len(head), int(budget * PREFIX_SHARE)), 0)]
        head = head[max(0, len(head) - (budget - len(tail))) :]
        return fim_prompt(order, self.fim, head, tail)

    def stream(
        self, prompt: list[int], params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield the text generated after `prompt`; notes `last_prompt_tokens`, `last_reuse`
        (prompt tokens, those served from the cache) and `finish_reason`."""
        context = self.context()
        self.last_prompt_tokens = list(prompt)
        self.last_reuse = (len(prompt), min(common_prefix(context.cached, prompt), len(prompt) - 1))
        self.finish_reason = None
        detokenize = self._llm.detokenize
        yield from text_pieces(
            context.generate(prompt, params, cancel), lambda token: detokenize([token])
        )
        self.finish_reason = context.finish_reason
