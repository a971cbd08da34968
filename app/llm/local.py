"""The local backend: llama-cpp-python in-process, GPU offload when the build has it."""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app.core.gguf import available_memory_bytes, check_memory, inspect_gguf
from app.core.models import ModelSpec
from app.core.preflight import RunSettings, fallback_chain
from app.core.prompts.budget import fit_messages
from app.llm.backend import (
    CancelFlag,
    Capabilities,
    ChatMessage,
    GenerationError,
    GenerationParams,
    ModelInfo,
    ModelLoadError,
)
from app.llm.build import (
    amx_in_play,
    default_settings,
    default_threads,
    device_text,
    gpu_offload_supported,
    model_shape,
    offloaded_layers,
    open_llama,
    route_llama_log,
)
from app.llm.fim import (
    COMPLETION_CONTEXT_TOKENS,
    FALLBACK_NOTE,
    FIM_ORDER,
    InlineCompleter,
)

if TYPE_CHECKING:
    import llama_cpp

    from app.llm.preflight import Preflight


class LocalBackend:
    """Runs a GGUF model with llama-cpp-python in this process.

    Args:
        n_threads: CPU threads (default: all cores available to the process).
        memory_probe: returns free memory in bytes (or None); replaceable in tests.
        gpu_supported: whether to offload (default: ask the llama.cpp build).
        preflight: checks each new (build, model, setting) in a child process first and
            keeps the crash marker; None loads with the default setting, unchecked.
    """

    def __init__(
        self,
        n_threads: int | None = None,
        memory_probe: Callable[[], int | None] = available_memory_bytes,
        gpu_supported: bool | None = None,
        preflight: Preflight | None = None,
    ) -> None:
        self._n_threads = n_threads or default_threads()
        self._memory_probe = memory_probe
        self._gpu_override = gpu_supported
        self._gpu = False
        self._preflight = preflight
        self._marker_record: dict | None = None
        self._abort_flag = ctypes.create_string_buffer(2)  # byte 0: 1 = abort the computation
        self._abort_callback: object = None
        self._llm: llama_cpp.Llama | None = None
        self._info: ModelInfo | None = None
        self._finish_reason: str | None = None
        self._completer: InlineCompleter | None = None
        self._fallback_told = False
        self._note = ""
        self.fim_order = FIM_ORDER
        """The FIM prompt's order, `app.llm.fim.SPM` or `PSM` (the benchmark compares them)."""

    @property
    def info(self) -> ModelInfo | None:
        """The loaded model, or None."""
        return self._info

    @property
    def llama(self) -> llama_cpp.Llama | None:
        """The underlying llama_cpp.Llama (benchmarks compare against it directly)."""
        return self._llm

    def unload(self) -> None:
        """Free the model and its memory."""
        if self._completer is not None:
            self._completer.close()
        self._completer = None
        if self._llm is not None:
            self._llm.close()
        self._llm = None
        self._info = None
        self._marker_record = None

    def interrupt(self) -> None:
        """Any thread: end a model check in progress (the app is quitting)."""
        if self._preflight is not None:
            self._preflight.abort()

    def load(self, spec: ModelSpec, report: Callable[[str], None] | None = None) -> ModelInfo:
        """Load `spec`; on any failure the previous model stays unloaded and an error says why.

        With a preflight, the setting is first checked in a child process (`report("checking")`
        is called before a check runs) and the safest working one is used.

        Raises:
            ModelFileError: missing, unreadable, not GGUF, truncated, not enough memory,
                or refused by llama.cpp (ModelLoadError).
        """
        import llama_cpp  # imported here, on the worker thread, to keep start-up fast

        route_llama_log()
        if self._gpu_override is None:
            self._gpu = gpu_offload_supported()
        else:
            self._gpu = self._gpu_override
        summary = inspect_gguf(spec.path)
        n_layers, n_embd, heads, kv_heads = model_shape(summary)
        kv_tokens = spec.n_ctx + min(spec.n_ctx, COMPLETION_CONTEXT_TOKENS)  # chat + completion
        kv_bytes = kv_tokens * n_layers * 2 * (n_embd * kv_heads // max(heads, 1)) * 2
        if not self._gpu:
            free = self._memory_probe()
            if free is not None and self._info is not None:  # the old model goes first
                free += _file_size(self._info.path)
            check_memory(spec.path, summary.file_size + kv_bytes, free)
        # The model in use stays loaded until the new one has passed its checks: a file that
        # is not a model, or crashes llama.cpp in the check, leaves the tutor working.
        amx = amx_in_play()
        chain = fallback_chain(self._gpu, n_layers, amx)
        notice = None
        if self._preflight is None:
            first = default_settings(self._gpu)
        else:
            checked = self._preflight.choose(
                spec, chain, n_layers, amx, on_checking=lambda: report and report("checking")
            )
            if checked.settings is None:
                raise ModelLoadError(spec.path, _every_setting_failed(spec, checked.tried))
            first, notice = checked.settings, checked.message
            inspect_gguf(spec.path)  # the file may have gone while it was checked
        self.unload()
        if report is not None:
            report("loading")
        started = time.perf_counter()
        # A load that llama.cpp refuses (say, GPU memory) is retried with fewer GPU layers.
        attempts = [first] + [s for s in chain if _fewer_layers(s, first)]
        settings = first
        last_error: Exception | None = None
        for settings in attempts:
            self._arm(spec, settings, "load")
            try:
                self._llm = open_llama(spec, settings, self._n_threads)
                break
            except (ValueError, RuntimeError, MemoryError) as exc:
                last_error = exc
            finally:
                self._disarm()
        if self._llm is None:
            raise ModelLoadError(
                spec.path,
                f"llama.cpp could not load “{spec.path.name}” ({last_error}). The file may be "
                "damaged or made for a newer llama.cpp; download it again or choose another model.",
            )
        if self._preflight is not None:
            self._marker_record = self._preflight.marker_record(spec, settings, "answer")
        self._install_abort_flag(llama_cpp)
        self._completer = InlineCompleter(self._llm, self._abort_on)
        self._fallback_told = False
        self._info = self._describe(spec, settings, n_layers, started, notice)
        return self._info

    def _describe(
        self,
        spec: ModelSpec,
        settings: RunSettings,
        n_layers: int,
        started: float,
        notice: str | None,
    ) -> ModelInfo:
        """The ModelInfo of the model just loaded with `settings`."""
        assert self._llm is not None
        offloaded = offloaded_layers(settings, n_layers)
        device = device_text(self._gpu, settings, n_layers)
        return ModelInfo(
            name=spec.display_name,
            path=str(spec.path),
            device=device,
            on_gpu=self._gpu and offloaded > 0,
            gpu_layers=offloaded if self._gpu else 0,
            total_layers=n_layers,
            n_ctx=self._llm.n_ctx(),
            chat_format=self._llm.chat_format or "model template",
            load_seconds=time.perf_counter() - started,
            is_starter=spec.is_starter,
            settings=settings,
            notice=notice,
        )

    def _arm(self, spec: ModelSpec, settings: RunSettings, phase: str) -> None:
        """Write the crash marker: llama.cpp computes in this process from now on."""
        if self._preflight is not None:
            self._preflight.marker.arm(self._preflight.marker_record(spec, settings, phase))

    def _disarm(self) -> None:
        if self._preflight is not None:
            self._preflight.marker.clear()

    def _install_abort_flag(self, llama_cpp: object) -> None:
        """Let Stop interrupt llama.cpp mid-computation (a long prompt), at no cost per step.

        llama.cpp polls `abort_callback(data)` while it computes. The callback is C's own
        `strlen` and `data` a two-byte buffer: it returns 0 (go on) while the first byte is 0
        and 1 (abort) once Stop writes 1 there, without calling into Python at all.
        """
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
            self._abort_callback = ctypes.cast(  # kept alive as long as the contexts
                ctypes.cast(libc.strlen, ctypes.c_void_p).value,
                llama_cpp.ggml_abort_callback,  # type: ignore[attr-defined]
            )
            self._abort_on(self._llm._ctx.ctx)  # type: ignore[union-attr]
        except (OSError, AttributeError, TypeError):  # an unusual libc or binding: Stop still
            self._abort_callback = None  # works between tokens

    def _abort_on(self, ctx: object) -> None:
        """Let Stop interrupt the llama.cpp context `ctx` (the chat's, the completion's)."""
        if self._abort_callback is None:
            return
        import llama_cpp

        llama_cpp.llama_set_abort_callback(
            ctx, self._abort_callback, ctypes.cast(self._abort_flag, ctypes.c_void_p)
        )

    def _require(self) -> llama_cpp.Llama:
        if self._llm is None:
            raise GenerationError("No model is loaded yet. Load a model first.")
        return self._llm

    def stream_chat(
        self,
        messages: Sequence[ChatMessage],
        params: GenerationParams,
        cancel: threading.Event,
    ) -> Iterator[str]:
        """Yield the reply one token at a time; return as soon as `cancel` is set.

        Raises:
            GenerationError: no model, or llama.cpp failed (e.g. the prompt is too long).
        """
        llm = self._require()
        messages = self.fit_to_context(messages, params.max_tokens)
        logit_bias = {llm.token_eos(): -1e9} if params.ignore_eos else None

        def start() -> Iterator[dict]:
            return llm.create_chat_completion(
                [{"role": m.role, "content": m.content} for m in messages],
                stream=True,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                repeat_penalty=params.repeat_penalty,
                logit_bias=logit_bias,
            )

        yield from self._stream(start, cancel, lambda c: c["choices"][0]["delta"].get("content"))

    def complete(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield what follows `prompt` (raw completion, no chat template)."""
        llm = self._require()
        logit_bias = {llm.token_eos(): -1e9} if params.ignore_eos else None

        def start() -> Iterator[dict]:
            return llm.create_completion(
                prompt,
                stream=True,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                repeat_penalty=params.repeat_penalty,
                logit_bias=logit_bias,
            )

        yield from self._stream(start, cancel, lambda c: c["choices"][0].get("text"))

    def infill(
        self, prefix: str, suffix: str, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield what belongs between `prefix` and `suffix` (the whole texts before and after
        the cursor: the lines round it are chosen here, within a token budget).

        The prompt is a token list with the vocabulary's own FIM tokens in `fim_order` (never
        `create_completion(suffix=…)`, which puts token 0 where they belong), evaluated in a
        context of its own whose cache survives keystrokes and chat replies; it ends at any
        end-of-generation token (`<EOT>`, end of text). A model without FIM tokens completes
        the prefix alone as raw text, and says so once (`last_note`, `FALLBACK_NOTE`).

        Raises:
            GenerationError: no model, or llama.cpp failed.
        """
        self._require()
        completer = self._completer
        assert completer is not None
        self._note = ""
        if completer.fim is None and not self._fallback_told:
            self._fallback_told = True
            self._note = FALLBACK_NOTE
        prompt = completer.prompt(prefix, suffix, params.max_tokens, self.fim_order)

        def start() -> Iterator[str]:
            yield from completer.stream(prompt, params, cancel)
            self._finish_reason = completer.finish_reason

        yield from self._stream(start, cancel, lambda piece: piece)

    @property
    def last_prompt_tokens(self) -> list[int]:
        """The tokens of the last inline-completion prompt (for tests and the benchmark)."""
        return self._completer.last_prompt_tokens if self._completer else []

    @property
    def last_prompt_reuse(self) -> tuple[int, int] | None:
        """(prompt tokens, of them served from the cache) of the last inline completion."""
        return self._completer.last_reuse if self._completer else None

    @property
    def fim_budget(self) -> int:
        """Tokens of code the inline-completion window holds now (`app.llm.fim.COLD_SECONDS`;
        0 before a model is loaded)."""
        return self._completer.budget if self._completer else 0

    @property
    def last_note(self) -> str:
        """What the last inline completion wants the learner told ("" mostly):
        `FALLBACK_NOTE` at the first one on a model without FIM tokens."""
        return self._note

    def _stream(
        self,
        start: Callable[[], Iterator],
        cancel: threading.Event,
        text_of: Callable[[object], str | None],
    ) -> Iterator[str]:
        """Run one llama.cpp generation with Stop wired to its abort flag and the crash
        marker armed; yield the text of each piece, and note why it ended
        (`last_finish_reason`)."""
        self._finish_reason = None
        self._abort_flag[0] = b"\x00"
        if isinstance(cancel, CancelFlag) and self._abort_callback is not None:
            cancel.add_hook(self._raise_abort_flag)
        if self._preflight is not None and self._marker_record is not None:
            self._preflight.marker.arm(self._marker_record)
        stream = None
        try:
            stream = start()
            for chunk in stream:
                if cancel.is_set():
                    self._finish_reason = None
                    return
                if isinstance(chunk, dict):
                    reason = chunk["choices"][0].get("finish_reason")
                    self._finish_reason = reason or self._finish_reason
                piece = text_of(chunk)
                if piece:
                    yield piece
        except (ValueError, RuntimeError) as exc:
            if cancel.is_set():  # llama.cpp was aborted by Stop mid-computation
                return
            raise GenerationError(
                f"The model could not answer: {exc}. Try a shorter question or clear the "
                "conversation."
            ) from exc
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            self._abort_flag[0] = b"\x00"
            self._disarm()

    @property
    def capabilities(self) -> Capabilities:
        """FIM when the vocabulary has its three tokens (else the prefix fallback); exact
        token counts; GPU or CPU. Any thread: reads what the load found."""
        if self._llm is None or self._info is None or self._completer is None:
            return Capabilities(fim=False, exact_tokens=True, where="cpu")
        fim = self._completer.fim is not None
        return Capabilities(
            fim=fim,
            fim_fallback=not fim,
            exact_tokens=True,
            where="gpu" if self._info.on_gpu else "cpu",
        )

    def fit_to_context(self, messages: Sequence[ChatMessage], max_tokens: int) -> list[ChatMessage]:
        """The messages that fit in the context with room for `max_tokens` of reply, by the
        one budget policy (`fit_messages`), counted with the model's own tokenizer."""
        llm = self._require()
        return fit_messages(messages, llm.n_ctx() - max_tokens, self.count_tokens)

    def _raise_abort_flag(self) -> None:
        """Any thread: ask llama.cpp to stop computing now."""
        self._abort_flag[0] = b"\x01"

    def tokenize(self, text: str) -> list[int]:
        """The loaded model's tokens for `text` (special tokens parsed, no BOS)."""
        llm = self._require()
        return list(llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes in the loaded model."""
        return len(self.tokenize(text))

    def context_size(self) -> int:
        """The loaded model's context length (llama.cpp's `n_ctx`).

        Raises:
            GenerationError: no model is loaded.
        """
        return self._require().n_ctx()

    @property
    def last_finish_reason(self) -> str | None:
        """Why the last stream ended: "stop", "length" (max_tokens reached) or None."""
        return self._finish_reason


def _file_size(path: str) -> int:
    try:
        return Path(path).stat().st_size
    except OSError:
        return 0


def _every_setting_failed(spec: ModelSpec, tried: list) -> str:
    """The message when llama.cpp failed with every setting it was checked with."""
    if tried and tried[-1][1].phase == "template":
        return (
            f"The chat template inside “{spec.path.name}” {tried[-1][1].reason()}: the file "
            "may be damaged or made to hang. Choose another model, or give its chat format "
            "(for example `codetutor --chat-format llama-2`)."
        )
    if tried and tried[-1][1].status == "cancelled":
        return f"Loading “{spec.path.name}” was cancelled: Code Tutor is closing."
    parts = "; ".join(f"with {s.describe()}: {o.reason()}" for s, o in tried)
    return (
        f"llama.cpp could not run “{spec.path.name}” with any setting ({parts}). Run "
        "`codetutor doctor` for details, or choose another model."
    )


def _fewer_layers(candidate: RunSettings, than: RunSettings) -> bool:
    """True when `candidate` is `than` with fewer GPU layers (-1 means all)."""
    if candidate.extra_bufts != than.extra_bufts or than.gpu_layers == 0:
        return False
    return candidate.gpu_layers >= 0 and (
        than.gpu_layers == -1 or candidate.gpu_layers < than.gpu_layers
    )
