"""The server backend against stub servers on 127.0.0.1: streamed replies, the server's own
tokenizer and /infill, and every way a server fails, each a sentence the learner can act on."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
from server_stubs import StubServer, chat_chunk, chat_stream, models_route

from app.core.models import server_model_spec, starter_model_spec
from app.core.server import ServerConfig
from app.llm.backend import CancelFlag, ChatMessage, GenerationParams
from app.llm.fim import FALLBACK_NOTE
from app.llm.server import ESTIMATED_NOTE, ServerBackend, ServerUnavailableError
from app.llm.server_http import ServerError, network_error
from app.serve_process import free_port

PARAMS = GenerationParams(max_tokens=32, temperature=0.0)


def _messages():
    return [ChatMessage("system", "You are a tutor."), ChatMessage("user", "What is a loop?")]


@pytest.fixture
def stub():
    """Start a stub server with the given routes (and /v1/models listing "tutor")."""
    servers: list[StubServer] = []

    def start(routes: dict, models: tuple[str, ...] = ("tutor",)) -> StubServer:
        all_routes = {("GET", "/v1/models"): models_route(*models), **routes}
        server = StubServer(all_routes).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def backend_for(url: str, **config) -> ServerBackend:
    """A backend on `url`, loaded (the server's model checked)."""
    backend = ServerBackend(ServerConfig(url, **config))
    backend.load(server_model_spec(config.get("model", "")))
    return backend


def collect(pieces, into: list[str]) -> None:
    """Gather the pieces into `into` (kept when the stream fails part-way)."""
    for piece in pieces:
        into.append(piece)


def test_a_streamed_reply_arrives_piece_by_piece_with_the_key_and_model(stub):
    """Chat streams the server's pieces; the request carries the model, the messages, the
    sampling and the bearer key; the status bar's name is "Server: host — model"."""
    server = stub({("POST", "/v1/chat/completions"): chat_stream(["A loop ", "repeats ", "code."])})
    backend = backend_for(server.url, api_key="sk-lab")
    pieces = list(backend.stream_chat(_messages(), PARAMS, CancelFlag()))
    assert pieces == ["A loop ", "repeats ", "code."]
    assert backend.last_finish_reason == "stop"
    assert backend.info.device == "Server: 127.0.0.1 — tutor"
    assert backend.capabilities.where == "server"
    method, path, body, headers = server.requests[-1]
    assert (method, path) == ("POST", "/v1/chat/completions")
    sent = json.loads(body)
    assert sent["model"] == "tutor" and sent["stream"] is True and sent["max_tokens"] == 32
    assert sent["messages"][-1] == {"role": "user", "content": "What is a loop?"}
    assert headers["Authorization"] == "Bearer sk-lab"


def test_a_reply_cut_by_max_tokens_says_length(stub):
    """A stream ending with finish_reason "length" is reported as cut by the limit."""

    def route(handler):
        handler.start_events()
        handler.event(chat_chunk("for i in"))
        handler.event(chat_chunk("", "length"))
        handler.event("[DONE]")

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url)
    assert "".join(backend.stream_chat(_messages(), PARAMS, CancelFlag())) == "for i in"
    assert backend.last_finish_reason == "length"


def test_no_model_name_takes_the_first_the_server_lists_and_a_wrong_one_lists_them(stub):
    """An empty server.model uses the server's first model; a name it lacks fails to load
    with the names it has."""
    server = stub({}, models=("codellama-7b-instruct", "smollm2"))
    assert backend_for(server.url).info.name == "codellama-7b-instruct"
    with pytest.raises(ServerUnavailableError) as caught:
        backend_for(server.url, model="codellama-13b")
    message = str(caught.value)
    assert "no model called “codellama-13b”" in message
    assert "“codellama-7b-instruct”, “smollm2”" in message


def test_a_model_the_server_refuses_mid_use_is_named_with_the_list(stub):
    """A 404 naming the model on a request (the server's list changed) says which models
    it has."""

    def route(handler):
        handler.send_json({"error": {"message": "model 'tutor' not found"}}, status=404)

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url)
    with pytest.raises(ServerError, match="no model called “tutor”. It has: “tutor”"):
        list(backend.stream_chat(_messages(), PARAMS, CancelFlag()))


def test_a_path_the_server_does_not_have_says_to_check_the_address(stub):
    """A base address whose /models is 404 fails to load saying to check server.url."""
    server = stub({})
    wrong = server.url.replace("/v1", "/api")
    with pytest.raises(ServerUnavailableError) as caught:
        backend_for(wrong)
    assert "has no /models (404)" in str(caught.value)
    assert "Check server.url" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "key", "words"),
    [
        (401, "wrong-key", "refused the API key (401). Check the key in server.api_key_file"),
        (401, "", "needs an API key and none is set"),
        (403, "key", "does not allow this key (403)"),
    ],
)
def test_a_refused_key_says_where_the_key_is_set(stub, status, key, words):
    """401 and 403 say the key is refused (or missing) and where it is set."""

    def route(handler):
        handler.send_json({"error": {"message": "Invalid API key"}}, status=status)

    server = stub({("GET", "/v1/models"): route})
    with pytest.raises(ServerUnavailableError) as caught:
        backend_for(server.url, api_key=key)
    assert words in str(caught.value)


def test_a_server_answering_html_says_it_is_a_web_page(stub):
    """A web page where the API should be (a router, a wiki) fails to load saying so."""

    def page(handler):
        handler.send_text("<!DOCTYPE html><html><body>Welcome</body></html>", "text/html")

    server = stub({("GET", "/v1/models"): page})
    with pytest.raises(ServerUnavailableError, match="answered /models with a web page"):
        backend_for(server.url)


def test_a_busy_server_queues_the_question_and_asks_again_after_retry_after(stub):
    """429 with Retry-After: the learner is told the question is queued; it is sent again
    after the wait, and the reply comes."""
    calls = []

    def route(handler):
        calls.append(time.monotonic())
        if len(calls) < 3:
            handler.send_json({"error": {"message": "busy"}}, 429, {"Retry-After": "1"})
            return
        chat_stream(["Here ", "it is."])(handler)

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url)
    notices: list[str] = []
    backend.on_notice = notices.append
    assert "".join(backend.stream_chat(_messages(), PARAMS, CancelFlag())) == "Here it is."
    assert notices[0] == (
        "The lab server is busy (429); your question is queued and is sent again in 1 s."
    )
    assert len(calls) == 3
    assert calls[1] - calls[0] >= 0.9  # it waited as asked


def test_stop_ends_the_wait_for_a_busy_server_at_once(stub):
    """503 asking for 30 s: Stop while queued returns within a poll, with nothing sent."""

    def route(handler):
        handler.send_json({"error": {"message": "loading"}}, 503, {"Retry-After": "30"})

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url)
    cancel = CancelFlag()
    backend.on_notice = lambda _text: threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    assert list(backend.stream_chat(_messages(), PARAMS, cancel)) == []
    assert time.monotonic() - started < 10  # not the 30 s the server asked for


def test_a_stream_cut_mid_reply_keeps_what_arrived_and_says_it_was_cut(stub):
    """The server closes the stream before [DONE]: the pieces stay, then a "cut" error."""
    server = stub({("POST", "/v1/chat/completions"): chat_stream(["Half ", "a "], done=False)})
    backend = backend_for(server.url)
    got: list[str] = []
    with pytest.raises(ServerError) as caught:
        collect(backend.stream_chat(_messages(), PARAMS, CancelFlag()), got)
    assert got == ["Half ", "a "]
    assert caught.value.kind == "cut"
    assert "What arrived is kept" in str(caught.value)


def test_a_server_that_stalls_ends_the_wait_after_the_read_timeout(stub):
    """One piece, then silence for 30 s: the read timeout (0.5 s here) ends the wait with a
    message, long before the server would have gone on."""
    release = threading.Event()

    def route(handler):
        handler.start_events()
        handler.event(chat_chunk("Thinking"))
        release.wait(30)

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url, read_timeout_s=0.5)
    got: list[str] = []
    started = time.monotonic()
    with pytest.raises(ServerError, match="nothing came for 0.5 s") as caught:
        collect(backend.stream_chat(_messages(), PARAMS, CancelFlag()), got)
    release.set()
    assert caught.value.kind == "stalled"
    assert got == ["Thinking"]
    assert time.monotonic() - started < 25


def test_stop_closes_a_silent_stream_at_once_and_the_server_sees_the_client_go(stub):
    """Stop while the server is silent returns at once; the server's next write fails,
    because the connection was closed (that is how a server learns to stop generating)."""
    wrote = threading.Event()
    failed = threading.Event()

    def route(handler):
        handler.start_events()
        handler.event(chat_chunk("One"))
        wrote.wait(10)
        time.sleep(0.2)
        try:
            for _ in range(50):
                handler.event(chat_chunk(" more"))
                time.sleep(0.01)
        except OSError:
            failed.set()

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url, read_timeout_s=30)
    cancel = CancelFlag()
    pieces = backend.stream_chat(_messages(), PARAMS, cancel)
    assert next(pieces) == "One"
    threading.Timer(0.2, cancel.set).start()
    started = time.monotonic()
    assert list(pieces) == []
    assert time.monotonic() - started < 10  # not the read timeout
    wrote.set()
    assert failed.wait(10), "the server could still write: the connection stayed open"


def test_one_huge_event_is_refused(stub):
    """A 10 MB single event is not a reply: the stream ends with a message."""

    def route(handler):
        handler.start_events()
        handler.wfile.write(b"data: " + b"x" * 10_000_000 + b"\n\n")

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url)
    with pytest.raises(ServerError, match="one message of more than 1 MB"):
        list(backend.stream_chat(_messages(), PARAMS, CancelFlag()))


def test_an_endless_stream_without_done_is_cut_at_the_reply_limit(stub):
    """A server that never ends its stream (no finish, no [DONE]) is cut just past
    max_tokens with a message; the app does not wait for ever."""

    def route(handler):
        handler.start_events()
        for _ in range(100_000):
            handler.event(chat_chunk("la "))

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url)
    got: list[str] = []
    with pytest.raises(ServerError, match="kept sending past the reply's limit of 32 tokens"):
        collect(backend.stream_chat(_messages(), PARAMS, CancelFlag()), got)
    assert 32 <= len(got) <= 32 + 17


def test_a_server_that_ignores_streaming_still_answers(stub):
    """A whole JSON answer instead of events (stream ignored) gives the reply at once."""

    def route(handler):
        handler.send_json(
            {"choices": [{"message": {"content": "All at once."}, "finish_reason": "stop"}]}
        )

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url)
    assert list(backend.stream_chat(_messages(), PARAMS, CancelFlag())) == ["All at once."]


def test_nothing_listening_is_connection_refused():
    """A port with no server: "connection refused", with what to check."""
    port = free_port()  # nothing listens there
    with pytest.raises(ServerUnavailableError) as caught:
        backend_for(f"http://127.0.0.1:{port}/v1")
    assert f"Nothing answers at http://127.0.0.1:{port}/v1 (connection refused)" in str(
        caught.value
    )


def test_https_to_a_plain_http_server_is_a_tls_error(stub):
    """https:// to a server that speaks plain HTTP: the secure connection fails, and the
    message says the address may need http://."""
    server = stub({})
    with pytest.raises(ServerUnavailableError) as caught:
        backend_for(server.url.replace("http://", "https://"))
    assert "A secure connection to 127.0.0.1 could not be made" in str(caught.value)
    assert "should start with http://" in str(caught.value)


def test_a_name_that_does_not_resolve_is_a_dns_error(no_network_beyond_loopback):
    """A host no DNS server knows: its name could not be found, check the address."""
    no_network_beyond_loopback.unresolvable.add("lab-gpu.invalid")
    with pytest.raises(ServerUnavailableError) as caught:
        backend_for("http://lab-gpu.invalid:8080/v1")
    assert "The server's name “lab-gpu.invalid” could not be found" in str(caught.value)


def test_a_connect_timeout_says_the_server_cannot_be_reached():
    """No answer to the connection within the connect timeout: unreachable, in words."""
    import httpx

    config = ServerConfig("http://10.9.8.7:8080/v1", connect_timeout_s=5)
    error = network_error(httpx.ConnectTimeout("timed out"), config)
    assert error.kind == "unreachable"
    assert "cannot be reached (no answer within 5 s)" in str(error)


def test_the_server_counts_tokens_and_tells_its_context(stub):
    """llama.cpp's /tokenize counts tokens exactly (cached), and /props gives the context
    length per slot."""

    def tokenize(handler):
        words = handler.json_body["content"].split()
        handler.send_json({"tokens": list(range(len(words)))})

    def props(handler):
        handler.send_json({"default_generation_settings": {"n_ctx": 2048}})

    server = stub({("POST", "/tokenize"): tokenize, ("GET", "/props"): props})
    backend = backend_for(server.url)
    assert backend.capabilities.exact_tokens
    assert backend.count_tokens("one two three") == 3
    asked = len(server.requests)
    assert backend.count_tokens("one two three") == 3
    assert len(server.requests) == asked  # the second count came from the cache
    assert backend.context_size() == 2048
    assert backend.info.notice is None


def test_without_a_tokenizer_counts_are_estimated_and_said_so(stub):
    """A server with no tokenize endpoint: counts are estimates, and the model's notice
    says so."""
    server = stub({})
    backend = backend_for(server.url)
    assert not backend.capabilities.exact_tokens
    assert backend.count_tokens("x" * 35) == 10
    assert backend.info.notice == ESTIMATED_NOTE


def test_infill_uses_the_servers_infill_with_the_code_round_the_cursor(stub):
    """/infill gets the prefix and suffix and streams the middle."""

    def infill(handler):
        handler.start_events()
        handler.event({"content": "return a + b", "stop": False})
        handler.event({"content": "", "stop": True, "stop_type": "eos"})

    server = stub({("POST", "/infill"): infill})
    backend = backend_for(server.url)
    pieces = backend.infill("def add(a, b):\n    ", "\n\nprint(add(1, 2))\n", PARAMS, CancelFlag())
    assert "".join(pieces) == "return a + b"
    sent = json.loads(server.requests[-1][2])
    assert sent["input_prefix"] == "def add(a, b):\n    "
    assert sent["input_suffix"].startswith("\n\nprint(add(1, 2))")
    assert backend.last_note == ""


def test_without_infill_the_code_before_the_cursor_is_completed_and_said_once(stub):
    """A server without /infill (404): completion of the prefix at /completions, and the
    fallback note on the first such proposal only."""

    def completions(handler):
        handler.start_events()
        handler.event({"choices": [{"text": "a + b", "finish_reason": None}]})
        handler.event({"choices": [{"text": "", "finish_reason": "stop"}]})
        handler.event("[DONE]")

    server = stub({("POST", "/v1/completions"): completions})
    backend = backend_for(server.url)
    assert "".join(backend.infill("x = ", "", PARAMS, CancelFlag())) == "a + b"
    assert backend.last_note == FALLBACK_NOTE
    assert not backend.capabilities.fim and backend.capabilities.fim_fallback
    assert "".join(backend.infill("y = ", "", PARAMS, CancelFlag())) == "a + b"
    assert backend.last_note == ""


def test_a_model_file_is_refused_while_the_server_runs_the_tutor(stub):
    """Choosing a model file with server.url set says the server is in use and how to
    run a file here instead."""
    server = stub({})
    backend = ServerBackend(ServerConfig(server.url))
    with pytest.raises(ServerUnavailableError, match="clear server.url"):
        backend.load(starter_model_spec())


def test_stop_before_the_server_answers_closes_the_connection(stub):
    """Stop while the server has not even sent its headers (a queued request): the call
    returns at once, and the server sees the client go, so it never runs the request."""
    gone = threading.Event()

    def route(handler):
        import select

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # a busy server: nothing sent yet
            readable, _, _ = select.select([handler.connection], [], [], 0.05)
            if readable and handler.connection.recv(1, socket.MSG_PEEK) == b"":
                gone.set()
                return

    server = stub({("POST", "/v1/chat/completions"): route})
    backend = backend_for(server.url, read_timeout_s=30)
    cancel = CancelFlag()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    assert list(backend.stream_chat(_messages(), PARAMS, cancel)) == []
    assert time.monotonic() - started < 10
    assert gone.wait(10), "the server never saw the client go"


def test_a_slow_tokenizer_is_given_up_for_estimates():
    """A server whose /tokenize hangs: one count waits the tokenizer's short timeout, then
    counts are estimated at once (a question never waits on every count)."""
    release = threading.Event()

    def tokenize(handler):
        if handler.json_body.get("content") == "hi":
            handler.send_json({"tokens": [1]})  # at load: the server tokenizes
            return
        release.wait(30)

    server = StubServer(
        {("GET", "/v1/models"): models_route("tutor"), ("POST", "/tokenize"): tokenize}
    ).start()
    try:
        backend = backend_for(server.url)
        assert backend.capabilities.exact_tokens
        started = time.monotonic()
        assert backend.count_tokens("x" * 35) == 10  # estimated after the timeout
        first = time.monotonic() - started
        started = time.monotonic()
        assert backend.count_tokens("y" * 70) == 20
        assert time.monotonic() - started < first / 2  # no second wait
        assert first < 25
    finally:
        release.set()
        server.stop()


def test_a_retry_after_that_is_no_number_waits_the_default():
    """Retry-After "nan", "inf" or garbage: the default wait, never a loop without pause."""
    import httpx

    from app.llm.server_http import RETRY_AFTER_DEFAULT_S, retry_after

    for value in ("nan", "inf", "soon", ""):
        assert retry_after(httpx.Headers({"Retry-After": value})) == RETRY_AFTER_DEFAULT_S
    assert retry_after(httpx.Headers({"Retry-After": "7"})) == 7


def test_an_event_ended_by_cr_lf_cr_is_not_lost():
    """A stream ending in CR LF CR (no last newline) still gives its last event;
    multi-line data and comments are read as SSE says."""
    from app.llm.server_http import SseParser

    parser = SseParser()
    assert parser.feed(b": keep-alive\r\ndata: one\r\ndata: two\r\n\r\ndata: x\r\n\r") == [
        "one\ntwo"
    ]
    assert parser.finish() == ["x"]
