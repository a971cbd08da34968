"""Backends for tests that need llama.cpp to behave in a way the real one only does rarely."""

from __future__ import annotations

import re
import threading
import time


class StuckBackend:
    """A backend whose load never returns, like a model load stuck in C (a hung driver, a
    file on a dead network share): nothing can interrupt it."""

    def __init__(self) -> None:
        self.info = None
        self.loading = threading.Event()

    def load(self, spec, report=None):
        """Block for ever (in slices, so the test process can still exit)."""
        self.loading.set()
        while True:
            time.sleep(3600)

    def interrupt(self) -> None:
        """Nothing can interrupt a load stuck in C."""

    def unload(self) -> None:
        """Nothing is loaded."""


class ScriptedBackend:
    """A deterministic backend for tests of lanes, Stop, routing and the tutor's prompts,
    after Thonny's EchoAssistant: it answers with a script, one word-sized token at a time,
    and, when `paced`, only as fast as the test releases tokens (`release`).

    Args:
        reply: the text every request answers, or a function of (kind, prompt) → text,
            where kind is "chat", "infill" or "complete" and prompt the messages, the
            (prefix, suffix) pair or the prompt text. Default: echo the latest message.
        paced: hold each token until the test releases it.
        fim: whether the model "has" fill-in-the-middle tokens.
        n_ctx: the context length it reports (`context_size`); may be set at any time.
        fail_after: raise GenerationError after this many tokens (None: never).
    """

    def __init__(
        self,
        reply=None,
        *,
        paced: bool = False,
        fim: bool = True,
        n_ctx: int = 2048,
        fail_after: int | None = None,
    ) -> None:
        self.reply = reply
        self.paced = paced
        self.fim = fim
        self.n_ctx = n_ctx
        self.fail_after = fail_after
        self.calls: list[tuple[str, object]] = []
        self.generating = threading.Event()  # set while a request is being answered
        self.last_finish_reason: str | None = None  # "stop", "length", or None (stopped)
        self._gate = threading.Semaphore(0)
        self._info = None

    # -- pace ---------------------------------------------------------------------------
    def release(self, tokens: int = 1) -> None:
        """Any thread: let `tokens` more tokens through (paced backends only)."""
        for _ in range(tokens):
            self._gate.release()

    def run_free(self) -> None:
        """Stop pacing: every further token goes at once."""
        self.paced = False
        self.release(10_000)

    # -- the Backend protocol --------------------------------------------------------------
    def load(self, spec, report=None):
        """Pretend to load, at once: a ModelInfo for `spec`, on the CPU."""
        from app.llm.backend import ModelInfo

        if report is not None:
            report("loading")
        self._info = ModelInfo(
            name=spec.display_name,
            path=str(spec.path),
            device="CPU only: scripted",
            on_gpu=False,
            gpu_layers=0,
            total_layers=1,
            n_ctx=self.n_ctx,
            chat_format="scripted",
            load_seconds=0.0,
            is_starter=spec.is_starter,
        )
        return self._info

    def interrupt(self) -> None:
        """Nothing slow to interrupt."""

    def unload(self) -> None:
        """Forget the model."""
        self._info = None

    @property
    def info(self):
        """The "loaded" model."""
        return self._info

    @property
    def capabilities(self):
        """FIM as configured; exact token counts (by its own word tokenizer)."""
        from app.llm.backend import Capabilities

        return Capabilities(fim=self.fim and self._info is not None, exact_tokens=True)

    def stream_chat(self, messages, params, cancel):
        """Answer the chat (the messages are recorded in `calls`)."""
        from app.core.prompts.budget import fit_messages

        kept = fit_messages(messages, self.n_ctx - params.max_tokens, self.count_tokens)
        self.calls.append(("chat", tuple(kept)))
        text = self._text("chat", kept, kept[-1].content if kept else "")
        yield from self._speak(text, params, cancel)

    def complete(self, prompt, params, cancel):
        """Continue `prompt`."""
        self.calls.append(("complete", prompt))
        yield from self._speak(self._text("complete", prompt, prompt), params, cancel)

    def infill(self, prefix, suffix, params, cancel):
        """Fill the middle; refuses like a model without FIM tokens when `fim` is off."""
        from app.llm.backend import GenerationError

        if not self.fim:
            raise GenerationError("Scripted model cannot fill in the middle.")
        self.calls.append(("infill", (prefix, suffix)))
        yield from self._speak(self._text("infill", (prefix, suffix), prefix), params, cancel)

    def tokenize(self, text: str) -> list[int]:
        """One token per word, with its leading white space."""
        return [len(piece) for piece in re.findall(r"\s*\S+|\s+", text)]

    def count_tokens(self, text: str) -> int:
        """The tokens `text` would take, by the core's estimate (3.5 characters a token)."""
        from app.core.prompts.budget import estimate_tokens

        return estimate_tokens(text)

    def context_size(self) -> int:
        """The context length `n_ctx` (as set now)."""
        from app.llm.backend import GenerationError

        if self._info is None:
            raise GenerationError("No model is loaded yet. Load a model first.")
        return self.n_ctx

    # -- inside -------------------------------------------------------------------------
    def _text(self, kind: str, prompt: object, latest: str) -> str:
        if self.reply is None:
            return f"You said: {latest}"
        return self.reply(kind, prompt) if callable(self.reply) else str(self.reply)

    def _speak(self, text: str, params, cancel):
        from app.llm.backend import GenerationError

        self.generating.set()
        self.last_finish_reason = None
        pieces = re.findall(r"\s*\S+", text)[: params.max_tokens]
        try:
            for index, piece in enumerate(pieces):
                if self.fail_after is not None and index >= self.fail_after:
                    raise GenerationError("The scripted model failed on purpose.")
                while self.paced and not self._gate.acquire(timeout=0.005):
                    if cancel.is_set():
                        return
                if cancel.is_set():
                    return
                yield piece
            self.last_finish_reason = "length" if len(pieces) >= params.max_tokens else "stop"
        finally:
            self.generating.clear()
