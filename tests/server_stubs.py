"""Tiny HTTP servers on 127.0.0.1 for the server backend's tests: each route is a function
that writes the answer a misbehaving server would (HTML, 429, a cut or endless stream...).

The real servers (llama.cpp's, llama-cpp-python's) are started by `tests/llm/test_server_real.py`;
these stubs only play the answers real servers give rarely or never on cue.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    """Looks the request up in the server's routes; 404 when none matches."""

    server: StubServer  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _route(self, method: str) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.server.requests.append((method, self.path, self.body, dict(self.headers)))
        route = self.server.routes.get((method, self.path))
        if route is None:
            self.send_json({"error": {"message": f"no {self.path}"}}, status=404)
            return
        try:
            route(self)
        except (BrokenPipeError, ConnectionResetError):
            self.server.disconnects += 1

    def do_GET(self) -> None:
        """GET."""
        self._route("GET")

    def do_POST(self) -> None:
        """POST."""
        self._route("POST")

    @property
    def json_body(self) -> dict:
        """The request's JSON body."""
        return json.loads(self.body or b"{}")

    def send_json(self, data: object, status: int = 200, headers: dict | None = None) -> None:
        """A whole JSON answer."""
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def send_text(self, text: str, content_type: str, status: int = 200) -> None:
        """A whole answer of another kind (an HTML page, plain text)."""
        payload = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def start_events(self) -> None:
        """Headers of a server-sent event stream (closed by the server at its end)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def event(self, data: object) -> None:
        """One event (a JSON object, or text such as "[DONE]")."""
        text = data if isinstance(data, str) else json.dumps(data)
        self.wfile.write(f"data: {text}\n\n".encode())
        self.wfile.flush()


class StubServer(ThreadingHTTPServer):
    """A server on a free port of 127.0.0.1 answering by `routes`."""

    daemon_threads = True

    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.routes = dict(routes)
        self.requests: list[tuple[str, str, bytes, dict]] = []
        self.disconnects = 0
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The API's base address."""
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> StubServer:
        """Serve on a thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port."""
        self.shutdown()
        self.server_close()


def models_route(*names: str) -> Route:
    """GET /v1/models listing `names`."""

    def route(handler: Handler) -> None:
        handler.send_json({"object": "list", "data": [{"id": n, "object": "model"} for n in names]})

    return route


def chat_chunk(text: str, finish: str | None = None) -> dict:
    """One chunk of a streamed chat reply."""
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


def chat_stream(pieces: list[str], pause_s: float = 0.0, done: bool = True) -> Route:
    """A streamed chat reply of `pieces`, ending with finish_reason "stop" and [DONE]."""

    def route(handler: Handler) -> None:
        handler.start_events()
        for piece in pieces:
            handler.event(chat_chunk(piece))
            if pause_s:
                time.sleep(pause_s)
        if done:
            handler.event(chat_chunk("", "stop"))
            handler.event("[DONE]")

    return route
