"""The server backend against real servers on 127.0.0.1 started by the tests with the starter
model: llama-cpp-python's (`python -m llama_cpp.server`) and llama.cpp's `llama-server` where
it is built (`make llama-server`; skipped with that reason where not)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from app.core.models import server_model_spec, starter_model_spec
from app.core.server import ServerConfig
from app.llm.backend import CancelFlag, ChatMessage, GenerationParams
from app.llm.fim import FALLBACK_NOTE
from app.llm.server import ServerBackend, ServerUnavailableError
from app.llm.server_http import ServerError
from app.serve_process import ENGINES, ServeOptions, ServerProcess, find_llama_server, free_port

pytestmark = [pytest.mark.slow, pytest.mark.real_model]

KEY = "sk-test-lab"
ALIAS = "smollm2-135m-instruct"
COUNTING = [ChatMessage("user", "Count from 1 to 2000, one number per line.")]


def _require(engine: str) -> None:
    if engine == "llama-server" and find_llama_server() is None:
        pytest.skip("llama-server is not built: `make llama-server` builds it")


def _start(engine: str, tmp_path, parallel: int = 2) -> ServerProcess:
    options = ServeOptions(
        model_path=starter_model_spec().path,
        alias=ALIAS,
        port=free_port(),
        parallel=parallel,
        n_ctx=2048,
        api_key=KEY,
        engine=engine,
    )
    return ServerProcess.start(options, engine, log_path=tmp_path / f"{engine}.log")


@pytest.fixture(scope="module", params=ENGINES)
def server(request, tmp_path_factory):
    """One running server per engine for the module, with an API key."""
    _require(request.param)
    process = _start(request.param, tmp_path_factory.mktemp("server"))
    yield process
    process.stop()


def backend_for(server: ServerProcess, **config) -> ServerBackend:
    """A loaded backend on `server`, with the right key unless told otherwise."""
    config.setdefault("api_key", KEY)
    backend = ServerBackend(ServerConfig(server.url, **config))
    backend.load(server_model_spec(config.get("model", "")))
    return backend


def test_a_streamed_chat_reply_comes_from_the_real_server(server):
    """A question gets a streamed reply of several pieces from the starter model, the
    server's tokenizer counts tokens, and its model is named in the status bar."""
    backend = backend_for(server)
    messages = [ChatMessage("user", "What is Python? Answer in one sentence.")]
    pieces = list(backend.stream_chat(messages, GenerationParams(max_tokens=24), CancelFlag()))
    assert len(pieces) >= 3
    assert "".join(pieces).strip()
    assert backend.last_finish_reason in ("stop", "length")
    assert backend.info.device == f"Server: 127.0.0.1 — {ALIAS}"
    assert backend.capabilities.exact_tokens
    assert 1 <= backend.count_tokens("def add(a, b):\n    return a + b\n") <= 20


def test_stop_mid_reply_frees_the_server_for_the_next_question(server):
    """Stop a reply that would run for 1,500 tokens: the next question's first words come
    far sooner than the stopped reply's rest would have taken, so the server stopped
    generating when the stream closed."""
    backend = backend_for(server)
    cancel = CancelFlag()
    long = GenerationParams(max_tokens=1500, temperature=0.0, repeat_penalty=1.0, ignore_eos=True)
    pieces = backend.stream_chat(COUNTING, long, cancel)
    times = []
    for _piece in pieces:
        times.append(time.perf_counter())
        if len(times) == 40:
            break
    rate = (len(times) - 1) / (times[-1] - times[0])  # tokens/s the server makes
    cancel.set()
    pieces.close()
    stopped = time.perf_counter()
    second = backend.stream_chat(
        [ChatMessage("user", "Say hi.")], GenerationParams(max_tokens=4), CancelFlag()
    )
    next(second)
    waited = time.perf_counter() - stopped
    second.close()
    rest = (1500 - 40) / rate  # what the stopped reply would still have taken
    assert waited < rest / 3, f"the next reply waited {waited:.2f} s; the rest was {rest:.1f} s"
    if server.engine == "llama-server":
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            slots = httpx.get(
                server.url.removesuffix("/v1") + "/slots",
                headers={"Authorization": f"Bearer {KEY}"},
            ).json()
            if not any(slot.get("is_processing") for slot in slots):
                break
            time.sleep(0.05)
        idle_after = time.perf_counter() - stopped
        assert not any(slot.get("is_processing") for slot in slots)
        print(f"llama-server: every slot idle {idle_after:.2f} s after Stop")


def test_a_wrong_model_name_lists_the_servers_models(server):
    """server.model the server lacks: loading fails with the name it has."""
    with pytest.raises(ServerUnavailableError) as caught:
        backend_for(server, model="codellama-7b-instruct")
    assert "no model called “codellama-7b-instruct”" in str(caught.value)
    assert f"“{ALIAS}”" in str(caught.value)


def test_a_wrong_key_is_refused_in_words(server):
    """A wrong API key: 401, and the message says where the key is set."""
    with pytest.raises(ServerUnavailableError) as caught:
        backend_for(server, api_key="sk-wrong")
    assert "refused the API key (401)" in str(caught.value)


def test_inline_completion_works_on_a_model_without_fim_tokens(server):
    """The starter has no FIM tokens: /infill is refused (or absent) and the code before the
    cursor is completed instead, said once."""
    backend = backend_for(server)
    params = GenerationParams(max_tokens=8, temperature=0.0, repeat_penalty=1.0)
    text = "".join(backend.infill("def add(a, b):\n    return", "\n", params, CancelFlag()))
    assert text.strip()
    assert backend.last_note == FALLBACK_NOTE


@pytest.mark.parametrize("engine", ENGINES)
def test_a_server_killed_mid_reply_keeps_what_arrived_and_says_it_was_cut(engine, tmp_path):
    """The server process dies (SIGKILL) while it streams: the words that came stay, and
    the stream ends with "cut", not a hang."""
    _require(engine)
    process = _start(engine, tmp_path, parallel=1)
    try:
        backend = backend_for(process, read_timeout_s=30)
        long = GenerationParams(max_tokens=1500, repeat_penalty=1.0, ignore_eos=True)
        got: list[str] = []
        killer = threading.Timer(0, process.kill)
        with pytest.raises(ServerError) as caught:
            for piece in backend.stream_chat(COUNTING, long, CancelFlag()):
                got.append(piece)
                if len(got) == 5:
                    killer.start()
        assert len(got) >= 5
        assert caught.value.kind == "cut", str(caught.value)
        assert "What arrived is kept" in str(caught.value)
    finally:
        process.stop()


def test_infill_on_a_model_with_fim_tokens_uses_the_servers_infill(fim_spec, tmp_path):
    """llama-server on the starter with `<PRE>/<SUF>/<MID>` tokens: inline completion goes
    through its /infill (no fallback note), and the proposal comes back."""
    _require("llama-server")
    options = ServeOptions(
        model_path=fim_spec.path, alias="fim", port=free_port(), parallel=1, n_ctx=2048
    )
    with ServerProcess.start(options, "llama-server", log_path=tmp_path / "fim.log") as process:
        backend = ServerBackend(ServerConfig(process.url))
        backend.load(server_model_spec(""))
        params = GenerationParams(max_tokens=8, temperature=0.0, repeat_penalty=1.0)
        pieces = list(
            backend.infill("def add(a, b):\n    ", "\n\nprint(add(1, 2))\n", params, CancelFlag())
        )
        assert backend.last_note == ""
        assert backend.capabilities.fim
        assert pieces, "the server's /infill gave no proposal"
