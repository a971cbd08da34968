"""The server backend: the tutor's model runs on an OpenAI-compatible server (a lab's GPU
machine running `codetutor serve`, llama.cpp's server, vLLM, Ollama), not in this process.

Chat and raw completion stream server-sent events from /chat/completions and /completions;
inline completion uses llama.cpp's /infill (the server builds the fill-in-the-middle prompt
itself) and falls back to completing the code before the cursor where there is none.
Tokens are counted by the server's tokenizer where it has one (llama.cpp's /tokenize,
llama-cpp-python's /extras/tokenize), else estimated. Every failure is a sentence; a busy
server (429, 503) is asked again after its Retry-After, and Stop ends any wait at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import httpx

from app.core.completion import fim_window
from app.core.gguf import ModelFileError
from app.core.models import ModelSpec
from app.core.prompts.budget import estimate_tokens, fit_messages
from app.core.server import ServerConfig
from app.llm.backend import (
    Capabilities,
    ChatMessage,
    GenerationError,
    GenerationParams,
    ModelInfo,
)
from app.llm.fim import FALLBACK_NOTE
from app.llm.server_http import (
    ServerError,
    Stream,
    html_error,
    looks_like_html,
    network_error,
    status_error,
)

MAX_BUSY_WAIT_S = 300.0  # a question waits this long in all for a busy server, then fails
FIM_WINDOW_TOKENS = 1024  # code round the cursor sent to /infill (estimated tokens)
TOKEN_CACHE_SIZE = 512
QUICK_READ_S = 15.0  # the server's model list and props answer at once, or fail
TOKENIZE_READ_S = 3.0  # a count that takes longer is estimated instead
TOKENIZE_PAUSE_S = 60.0  # after a failed count, estimates for this long
ESTIMATED_NOTE = "Token counts are estimated: the server does not say how it tokenizes."
MAX_TOKENS_SLACK = 16  # pieces past max_tokens before a stream is taken as endless
NO_INFILL_STATUSES = (404, 405, 501)  # no /infill here, or (501) a model without FIM


class ServerUnavailableError(ModelFileError):
    """The server cannot be used: unreachable, refusing the key, without the model..."""

    kind = "server"


def server_name(config: ServerConfig, model: str) -> str:
    """What the status bar says: "Server: lab-gpu.local — codellama-7b-instruct"."""
    return f"Server: {config.host} — {model}"


class ServerBackend:
    """Runs the tutor on an OpenAI-compatible server (the Backend protocol).

    Args:
        config: where the server is, the model and key, and the timeouts.
        transport: an httpx transport (tests); None for the network.
    """

    def __init__(self, config: ServerConfig, transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        headers = {"Accept-Encoding": "identity"}
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        timeout = httpx.Timeout(
            connect=config.connect_timeout_s,
            read=config.read_timeout_s,
            write=config.read_timeout_s,
            pool=config.read_timeout_s,
        )
        self._client = httpx.Client(headers=headers, timeout=timeout, transport=transport)
        # Streams get a connection each (none kept alive): Stop shuts its socket, even
        # before the server answered, and the server frees the learner's slot.
        self._stream_client = httpx.Client(
            headers=headers,
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_keepalive_connections=0),
        )
        quick = min(config.read_timeout_s, QUICK_READ_S)  # the model list, props, tokenize
        self._quick = httpx.Timeout(config.connect_timeout_s, read=quick, write=quick, pool=quick)
        count = min(quick, TOKENIZE_READ_S)
        self._count = httpx.Timeout(min(config.connect_timeout_s, count), read=count, pool=count)
        self._info: ModelInfo | None = None
        self._model = config.model
        self._n_ctx = config.n_ctx
        self._tokenize_path: str | None = None  # "/tokenize", "/extras/tokenize", or None
        self._infill = True  # until the server shows it has no /infill (or no FIM tokens)
        self._fallback_told = False
        self._note = ""
        self._finish_reason: str | None = None
        self._counts: dict[str, int] = {}
        self._tokenize_paused_until = 0.0
        self._lock = threading.Lock()
        self.on_notice: Callable[[str], None] | None = None
        """Told, on the worker thread, what the learner should know while a request waits
        (the server is busy, the question is queued); the worker forwards it to the UI."""

    # -- the model --------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo | None:
        """The server's model, once reached, or None."""
        return self._info

    def load(self, spec: ModelSpec, report: Callable[[str], None] | None = None) -> ModelInfo:
        """Reach the server and check its model. `spec` is `server_model_spec()`; its context
        length is used when the server does not tell its own.

        Raises:
            ServerUnavailableError: the server cannot be reached, refuses the key, answers
                with something else than the API, or has no model of that name (the message
                lists those it has).
        """
        if not spec.on_server:
            raise self._unavailable(
                f"The tutor uses the lab's server ({self.config.host}: server.url in the "
                f"settings), so it cannot run “{spec.display_name}” on this computer. To use "
                "a model file here, clear server.url."
            )
        if report is not None:
            report("loading")
        started = time.perf_counter()
        self._info = None
        models = self._list_models()
        model = self.config.model or (models[0] if models else "")
        if not model:
            raise self._unavailable(f"The server at {self.config.url} lists no model.")
        if models and model not in models:
            raise self._unavailable(_no_such_model(model, models))
        self._model = model
        self._n_ctx = self._server_context() or spec.n_ctx or self.config.n_ctx
        self._tokenize_path = self._find_tokenizer()
        self._infill = True
        self._fallback_told = False
        self._counts.clear()
        self._info = ModelInfo(
            name=model,
            path=self.config.url,
            device=server_name(self.config, model),
            on_gpu=False,
            gpu_layers=0,
            total_layers=0,
            n_ctx=self._n_ctx,
            chat_format="server",
            load_seconds=time.perf_counter() - started,
            notice=None if self._tokenize_path else ESTIMATED_NOTE,
            on_server=True,
        )
        return self._info

    def interrupt(self) -> None:
        """Nothing to end here: a request ends with its Stop flag, a model check with its
        quick timeouts (QUICK_READ_S)."""

    def unload(self) -> None:
        """Forget the server's model (the connection pool stays for the next load)."""
        self._info = None

    def close(self) -> None:
        """Close the connections (the backend is not used again)."""
        self._client.close()
        self._stream_client.close()

    @property
    def capabilities(self) -> Capabilities:
        """Inline completion always works: /infill, or the prefix completed without it."""
        if self._info is None:
            return Capabilities(fim=False, exact_tokens=False, where="server")
        return Capabilities(
            fim=self._infill,
            fim_fallback=True,
            exact_tokens=self._tokenize_path is not None,
            where="server",
        )

    # -- streaming --------------------------------------------------------------------------
    def stream_chat(
        self, messages: Sequence[ChatMessage], params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield the reply to `messages`, the oldest turns left out when they do not fit."""
        self._require()
        fitted = fit_messages(messages, self._n_ctx - params.max_tokens, self.count_tokens)
        payload = {
            "messages": [{"role": m.role, "content": m.content} for m in fitted],
            **self._sampling(params),
        }
        return self._stream("/chat/completions", payload, params, cancel, _chat_text)

    def complete(
        self, prompt: str, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield what follows `prompt` (raw completion, no chat template)."""
        self._require()
        payload = {"prompt": prompt, **self._sampling(params)}
        return self._stream("/completions", payload, params, cancel, _completion_text)

    def infill(
        self, prefix: str, suffix: str, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield what belongs between `prefix` and `suffix`: llama.cpp's /infill with the
        lines round the cursor, else the code before the cursor completed (said once)."""
        self._require()
        before, after = fim_window(prefix, suffix, FIM_WINDOW_TOKENS, estimate_tokens)
        self._note = ""
        return self._infill_pieces(before, after, params, cancel)

    def _infill_pieces(
        self, before: str, after: str, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        if self._infill:
            payload = {
                "input_prefix": before,
                "input_suffix": after,
                "n_predict": params.max_tokens,
                "temperature": params.temperature,
                "top_p": params.top_p,
                "repeat_penalty": params.repeat_penalty,
                "stream": True,
                "cache_prompt": True,
            }
            try:
                yield from self._stream("/infill", payload, params, cancel, _infill_text, root=True)
                return
            except ServerError as exc:
                if exc.status not in (*NO_INFILL_STATUSES, 400):
                    raise
                # no /infill here or a model without FIM tokens: for good; a 400 (this
                # request refused, e.g. too long): this once
                self._infill = exc.status == 400
        if not self._infill and not self._fallback_told:
            self._fallback_told = True
            self._note = FALLBACK_NOTE
        yield from self.complete(before, params, cancel)

    def _sampling(self, params: GenerationParams) -> dict[str, Any]:
        return {
            "model": self._model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "repeat_penalty": params.repeat_penalty,  # llama.cpp's servers; others ignore it
            "stream": True,
            **({"ignore_eos": True} if params.ignore_eos else {}),  # benchmarks: llama.cpp's
        }

    def _stream(
        self,
        path: str,
        payload: dict[str, Any],
        params: GenerationParams,
        cancel: threading.Event,
        text_of: Callable[[dict], tuple[str, str | None]],
        root: bool = False,
    ) -> Iterator[str]:
        """POST `payload` and yield the text of each event, asking again while the server
        is busy; note why the stream ended (`last_finish_reason`).

        Raises:
            ServerError: the request failed; a cut or endless stream after what arrived.
        """
        self._finish_reason = None
        url = (self.config.root if root else self.config.url) + path
        began = time.monotonic()
        while True:
            stream = Stream(self._stream_client, self.config, path, url, payload, cancel)
            try:
                yield from self._events(stream, params, text_of)
                return
            except ServerError as exc:
                if exc.kind == "not_found" and "model" in (exc.body or "").lower():
                    raise ServerError("not_found", self._model_missing_message(), 404) from exc
                waited = time.monotonic() - began
                if exc.kind != "busy" or stream.got_data or waited >= MAX_BUSY_WAIT_S:
                    if exc.kind == "busy":
                        raise ServerError(
                            "busy",
                            f"The lab server has been busy for {waited:.0f} s; ask again in "
                            "a minute, or tell your teacher.",
                            exc.status,
                        ) from exc
                    raise
                if self.on_notice is not None:
                    self.on_notice(str(exc))
                if cancel.wait(exc.retry_after_s):
                    return  # Stop while queued
            finally:
                stream.close()

    def _events(
        self,
        stream: Stream,
        params: GenerationParams,
        text_of: Callable[[dict], tuple[str, str | None]],
    ) -> Iterator[str]:
        pieces = 0
        limit = params.max_tokens + MAX_TOKENS_SLACK
        done = False
        for event in stream.events():
            if event.kind == "json":  # the server ignored stream=true: one whole answer
                text, reason = text_of(event.data)
                self._finish_reason = _reason(reason)
                if text:
                    yield text
                return
            if event.data.strip() == "[DONE]":
                done = True
                break
            try:
                data = json.loads(event.data)
            except ValueError as exc:
                raise ServerError(
                    "protocol", "The server sent a reply stream that is not JSON; it was ended."
                ) from exc
            if isinstance(data, dict) and data.get("error"):
                raise ServerError(
                    "failed", f"The server failed mid-reply: {_message_of(data['error'])}"
                )
            text, reason = text_of(data) if isinstance(data, dict) else ("", None)
            if text:
                pieces += 1
                yield text
            if reason:
                self._finish_reason = _reason(reason)
                done = True
            if pieces > limit:
                raise ServerError(
                    "protocol",
                    f"The server kept sending past the reply's limit of {params.max_tokens} "
                    "tokens without ending it; the reply was cut there.",
                )
        if not done and not stream.cancelled:
            raise ServerError(
                "cut",
                "The reply was cut: the server closed the stream before the end. What arrived "
                "is kept above.",
            )

    # -- tokens ---------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        """The server's tokens for `text`.

        Raises:
            GenerationError: the server has no tokenizer endpoint, or it failed.
        """
        if self._tokenize_path is None:
            raise GenerationError("The server does not tokenize; token counts are estimated.")
        return self._post_tokenize(self._tokenize_path, text)

    def count_tokens(self, text: str) -> int:
        """Tokens `text` takes: counted by the server when it can, else estimated. After a
        failed count (a busy or slow server), estimates for TOKENIZE_PAUSE_S: a question
        never waits on more than one slow count."""
        if self._tokenize_path is None or time.monotonic() < self._tokenize_paused_until:
            return estimate_tokens(text)
        with self._lock:
            cached = self._counts.get(text)
        if cached is not None:
            return cached
        try:
            count = len(self.tokenize(text))
        except GenerationError:
            self._tokenize_paused_until = time.monotonic() + TOKENIZE_PAUSE_S
            return estimate_tokens(text)
        with self._lock:
            if len(self._counts) >= TOKEN_CACHE_SIZE:
                self._counts.clear()
            self._counts[text] = count
        return count

    def context_size(self) -> int:
        """The context length the server runs with (per slot), else the configured one."""
        self._require()
        return self._n_ctx

    @property
    def last_finish_reason(self) -> str | None:
        """Why the last stream ended: "stop", "length", or None."""
        return self._finish_reason

    @property
    def last_note(self) -> str:
        """`FALLBACK_NOTE` at the first inline completion without /infill, else ""."""
        return self._note

    # -- asking the server -----------------------------------------------------------------
    def _require(self) -> None:
        if self._info is None:
            raise GenerationError("No server model is ready yet.")

    def _unavailable(self, message: str) -> ServerUnavailableError:
        return ServerUnavailableError(self.config.url, message)

    def _get(self, url: str, path: str) -> httpx.Response:
        try:
            return self._client.get(url, timeout=self._quick)
        except httpx.HTTPError as exc:
            raise network_error(exc, self.config, timeout_s=self._quick.read) from exc

    def _list_models(self) -> list[str]:
        """The model names the server lists at /models."""
        try:
            response = self._get(self.config.url + "/models", "/models")
            body = response.text[:1_000_000]
            if response.status_code != 200:
                raise status_error(
                    self.config, "/models", response.status_code, response.headers, body
                )
            if looks_like_html(response.headers.get("content-type", ""), body):
                raise html_error(self.config, "/models")
            try:
                data = response.json()
            except ValueError as exc:
                raise html_error(self.config, "/models") from exc
        except ServerError as exc:
            raise self._unavailable(str(exc)) from exc
        items = data.get("data", data.get("models", [])) if isinstance(data, dict) else []
        names = [
            str(item.get("id") or item.get("name") or item.get("model"))
            for item in items
            if isinstance(item, dict) and (item.get("id") or item.get("name") or item.get("model"))
        ]
        return names

    def _model_missing_message(self) -> str:
        try:
            return _no_such_model(self._model, self._list_models())
        except ModelFileError:
            return f"The server has no model called “{self._model}”. Check server.model."

    def _server_context(self) -> int | None:
        """The per-slot context length from llama.cpp's /props, or None."""
        try:
            response = self._client.get(self.config.root + "/props", timeout=self._quick)
            if response.status_code != 200:
                return None
            data = response.json()
        except (httpx.HTTPError, ValueError):
            return None
        settings = data.get("default_generation_settings", {}) if isinstance(data, dict) else {}
        n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
        return int(n_ctx) if isinstance(n_ctx, int) and n_ctx > 0 else None

    def _find_tokenizer(self) -> str | None:
        for path in ("/tokenize", "/extras/tokenize"):
            try:
                if self._post_tokenize(path, "hi"):
                    return path
            except GenerationError:
                continue
        return None

    def _post_tokenize(self, path: str, text: str) -> list[int]:
        body = {"content": text} if path == "/tokenize" else {"input": text, "model": self._model}
        try:
            response = self._client.post(self.config.root + path, json=body, timeout=self._count)
            data = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:
            raise GenerationError(f"The server could not tokenize: {exc}") from exc
        tokens = data.get("tokens") if isinstance(data, dict) else None
        if not isinstance(tokens, list):
            raise GenerationError("The server could not tokenize.")
        return [t if isinstance(t, int) else int(t.get("id", 0)) for t in tokens]


def _no_such_model(model: str, models: list[str]) -> str:
    listed = ", ".join(f"“{m}”" for m in models[:20]) or "none"
    return (
        f"The server has no model called “{model}”. It has: {listed}. Set server.model to one "
        "of them (or leave it empty to use the first)."
    )


def _message_of(error: object) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error)
    return str(error)


def _reason(reason: str | None) -> str | None:
    if reason in ("length", "limit", "max_tokens"):
        return "length"
    return "stop" if reason else None


def _chat_text(data: dict) -> tuple[str, str | None]:
    choices = data.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    delta = choice.get("delta") or choice.get("message") or {}
    text = delta.get("content") if isinstance(delta, dict) else None
    return (text or "", choice.get("finish_reason"))


def _completion_text(data: dict) -> tuple[str, str | None]:
    choices = data.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    return (choice.get("text") or "", choice.get("finish_reason"))


def _infill_text(data: dict) -> tuple[str, str | None]:
    """llama.cpp's /infill events: {"content": ..., "stop": bool, "stop_type": ...}."""
    if "choices" in data:
        return _completion_text(data)
    reason = None
    if data.get("stop"):
        reason = "length" if data.get("stop_type") == "limit" else "stop"
    return (str(data.get("content") or ""), reason)
