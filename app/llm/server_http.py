"""HTTP for the server backend: one streamed request read on its own thread, server-sent
events parsed with a size limit, and every failure put in words a learner can act on.

The response is read on a helper thread and handed over through a queue, so the worker's
generator never sits in a blocking read: Stop returns at once (and shuts the socket, which
tells the server to stop generating), and a server that goes quiet ends the wait after the
read timeout even when it keeps the connection open.
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import json
import math
import queue
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from app.core.server import ServerConfig
from app.llm.backend import GenerationError

MAX_EVENT_BYTES = 1_000_000  # one token is a few bytes; a megabyte in one event is no reply
MAX_ERROR_BYTES = 65_536  # what is read of an error's body
POLL_S = 0.05  # how often the waiting generator looks at Stop
RETRY_AFTER_DEFAULT_S = 2.0
RETRY_AFTER_MAX_S = 30.0


class ServerError(GenerationError):
    """A request to the server failed; `str()` is for the learner.

    Attributes:
        kind: "unreachable", "dns", "refused", "tls", "auth", "not_found", "busy", "html",
            "cut", "stalled", "protocol" or "failed".
        status: the HTTP status, or 0 when none came.
        retry_after_s: for "busy", how long the server asked to wait.
        body: the start of the error's body, for the caller to read a message from.
    """

    def __init__(
        self, kind: str, message: str, status: int = 0, retry_after_s: float = 0.0, body: str = ""
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after_s = retry_after_s
        self.body = body


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def network_error(
    exc: BaseException,
    config: ServerConfig,
    mid_reply: bool = False,
    timeout_s: float | None = None,
) -> ServerError:
    """A transport failure in words: what happened and what to check. `mid_reply`: the
    server had begun to answer; `timeout_s`: the read timeout in force (else the config's)."""
    where = config.url
    host = config.host
    chain = list(_causes(exc))
    text = " ".join(str(e) for e in chain).lower()
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout | httpx.PoolTimeout):
        return stalled_error(config, timeout_s)
    if mid_reply:
        return ServerError(
            "cut",
            "The connection to the server was cut mid-reply. What arrived is kept above; "
            "ask again when the server is back.",
        )
    if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in text or "tls" in text:
        detail = next((str(e) for e in chain if isinstance(e, ssl.SSLError)), str(exc))
        plain = " If the server speaks plain HTTP, the address should start with http://."
        hint = plain if where.startswith("https") else ""
        return ServerError(
            "tls", f"A secure connection to {host} could not be made ({detail}).{hint}"
        )
    if any(isinstance(e, socket.gaierror) for e in chain) or "name or service not known" in text:
        return ServerError(
            "dns",
            f"The server's name “{host}” could not be found (DNS lookup failed). Check the "
            "address in server.url, or use the server's IP address.",
        )
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in text:
        return ServerError(
            "refused",
            f"Nothing answers at {where} (connection refused): is the server running, and on "
            "that port? `codetutor serve` starts one.",
        )
    unreachable = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN}
    if isinstance(exc, httpx.ConnectTimeout) or any(
        isinstance(e, OSError) and e.errno in unreachable for e in chain
    ):
        return ServerError(
            "unreachable",
            f"The server at {where} cannot be reached (no answer within "
            f"{config.connect_timeout_s:g} s): check the network and the address.",
        )
    return ServerError("failed", f"The server at {where} could not be reached: {exc}.")


def stalled_error(config: ServerConfig, timeout_s: float | None = None) -> ServerError:
    """The server went quiet for the read timeout (`timeout_s`, else the config's)."""
    waited = config.read_timeout_s if timeout_s is None else timeout_s
    return ServerError(
        "stalled",
        f"The server stopped answering: nothing came for {waited:g} s, so the "
        "wait was ended. What arrived is kept; ask again, or tell your teacher if it goes on.",
    )


def retry_after(headers: httpx.Headers) -> float:
    """The wait the server asked for (Retry-After: seconds or an HTTP date), bounded."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return RETRY_AFTER_DEFAULT_S
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return RETRY_AFTER_DEFAULT_S
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return RETRY_AFTER_DEFAULT_S
    return min(max(seconds, 0.5), RETRY_AFTER_MAX_S)


def _error_message(body: str) -> str:
    """The server's own message in an error body (OpenAI's {"error": {"message"}} or
    llama.cpp's), or "" when it has none."""
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    error = data.get("error", data) if isinstance(data, dict) else None
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or ""
    elif isinstance(error, str):
        message = error
    else:
        message = ""
    if not message and isinstance(data, dict) and isinstance(data.get("detail"), str):
        message = data["detail"]
    return str(message)[:500]


def looks_like_html(content_type: str, body: str) -> bool:
    """The answer is a web page (a proxy's, a router's, a wrong address)."""
    start = body.lstrip()[:200].lower()
    return "html" in content_type.lower() or start.startswith(("<!doctype html", "<html"))


def html_error(config: ServerConfig, path: str) -> ServerError:
    """The server answered with a web page instead of the API."""
    return ServerError(
        "html",
        f"The server at {config.url} answered {path} with a web page, not the tutor's API. "
        "Check server.url: it is the API's base address, usually ending in /v1 "
        "(e.g. http://lab-gpu.local:8080/v1).",
    )


def status_error(
    config: ServerConfig, path: str, response_status: int, headers: httpx.Headers, body: str
) -> ServerError:
    """An HTTP error status in words."""
    own = _error_message(body)
    detail = f" The server said: “{own}”." if own else ""
    if looks_like_html(headers.get("content-type", ""), body) and response_status != 404:
        return html_error(config, path)
    if response_status in (401, 403):
        if not config.api_key:
            hint = (
                "The server needs an API key and none is set: put it in the file named by "
                "server.api_key_file, or in the environment variable CODETUTOR_SERVER_API_KEY."
            )
        else:
            hint = (
                "Check the key in server.api_key_file (or CODETUTOR_SERVER_API_KEY) with your "
                "teacher or lab admin."
            )
        word = "refused the API key" if response_status == 401 else "does not allow this key"
        return ServerError(
            "auth", f"The server {word} ({response_status}). {hint}", response_status, body=body
        )
    if response_status == 404:
        return ServerError(
            "not_found",
            f"The server at {config.url} has no {path} (404).{detail} Check server.url "
            "(usually ending in /v1) and server.model.",
            404,
            body=body,
        )
    if response_status in (429, 503):
        wait = retry_after(headers)
        return ServerError(
            "busy",
            f"The lab server is busy ({response_status}); your question is queued and is sent "
            f"again in {wait:.0f} s.",
            response_status,
            retry_after_s=wait,
            body=body,
        )
    kind = "failed" if response_status >= 500 else "protocol"
    return ServerError(
        kind,
        f"The server could not answer ({response_status}).{detail or ' It gave no reason.'}",
        response_status,
        body=body,
    )


@dataclass
class Event:
    """One item the reader thread hands over."""

    kind: str  # "data", "json" (a whole non-streamed body), "end", "error"
    data: Any = None


class SseParser:
    """Server-sent events from bytes: each complete event's data, joined over its lines.

    Raises:
        ServerError: one event (or one line) is over MAX_EVENT_BYTES.
    """

    def __init__(self, limit: int = MAX_EVENT_BYTES) -> None:
        self._buffer = bytearray()
        self._data: list[bytes] = []
        self._size = 0
        self._limit = limit

    def feed(self, chunk: bytes) -> list[str]:
        """The data of the events `chunk` completes."""
        self._buffer.extend(chunk)
        events: list[str] = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > self._limit:
                    raise self._too_big()
                return events
            line = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[: end + 1]
            if not line:  # a blank line ends the event
                if self._data:
                    events.append(b"\n".join(self._data).decode("utf-8", "replace"))
                self._data, self._size = [], 0
                continue
            if line.startswith(b":"):
                continue  # a comment (keep-alive)
            name, _, value = line.partition(b":")
            if name == b"data":
                value = value[1:] if value.startswith(b" ") else value
                self._size += len(value)
                if self._size > self._limit:
                    raise self._too_big()
                self._data.append(value)

    def finish(self) -> list[str]:
        """The data of an event the stream ended without closing."""
        events = self.feed(b"\n") if self._buffer else []
        if self._data:
            events += self.feed(b"\n")
        return events

    def _too_big(self) -> ServerError:
        return ServerError(
            "protocol",
            f"The server sent one message of more than {self._limit // 1_000_000} MB, which "
            "is no reply stream; the reply was ended. Check that server.url points at an "
            "OpenAI-compatible server.",
        )


class Stream:
    """One POST whose answer is read on a helper thread and handed over event by event.

    Iterate `events()`; it returns within a poll of Stop being set. `close()` (any thread)
    shuts the connection's socket, also while the server has not answered yet (a queued
    request), so the server sees the client go and frees its slot. Use a client that keeps
    no connection alive: each stream is its own connection, shut when it ends.
    """

    def __init__(
        self,
        client: httpx.Client,
        config: ServerConfig,
        path: str,
        url: str,
        payload: dict[str, Any],
        cancel: threading.Event,
    ) -> None:
        self._client = client
        self._config = config
        self._path = path
        self._url = url
        self._payload = payload
        self._cancel = cancel
        self._queue: queue.Queue[Event] = queue.Queue()
        self._lock = threading.Lock()
        self._response: httpx.Response | None = None
        self._network: Any = None  # httpcore's network stream, once connected
        self._closed = False
        self.got_data = False
        self._thread = threading.Thread(target=self._read, name="server-stream", daemon=True)
        self._thread.start()

    # -- the helper thread ---------------------------------------------------------------
    def _trace(self, event: str, info: dict[str, Any]) -> None:
        """Keep the connection's network stream as soon as it exists (httpcore's trace), so
        `close()` can shut it before the server answers."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            with self._lock:
                self._network = info.get("return_value")
                closed = self._closed
            if closed:
                self._shut()

    def _read(self) -> None:
        try:
            request = self._client.build_request(
                "POST", self._url, json=self._payload, extensions={"trace": self._trace}
            )
            response = self._client.send(request, stream=True)
            try:
                with self._lock:
                    self._response = response
                    closed = self._closed
                if closed:
                    return
                self._read_response(response)
            finally:
                response.close()
        except ServerError as exc:
            self._queue.put(Event("error", exc))
        except (httpx.HTTPError, OSError) as exc:
            if not self._closed:
                answered = self._response is not None
                self._queue.put(Event("error", (exc, answered)))
        except Exception as exc:  # noqa: BLE001 - the waiting side must always hear the end
            self._queue.put(Event("error", ServerError("failed", f"The server failed: {exc}")))

    def _read_response(self, response: httpx.Response) -> None:
        content_type = response.headers.get("content-type", "")
        if response.status_code != 200:
            body = _read_capped(response)
            error = status_error(
                self._config, self._path, response.status_code, response.headers, body
            )
            self._queue.put(Event("error", error))
            return
        if "text/event-stream" not in content_type:
            body = _read_capped(response, MAX_EVENT_BYTES)
            if looks_like_html(content_type, body):
                self._queue.put(Event("error", html_error(self._config, self._path)))
                return
            try:
                data = json.loads(body)
            except ValueError:
                error = ServerError(
                    "protocol",
                    f"The server answered {self._path} with something that is not the "
                    f"OpenAI API ({content_type or 'no content type'}). Check server.url.",
                )
                self._queue.put(Event("error", error))
                return
            self._queue.put(Event("json", data))
            return
        parser = SseParser()
        for chunk in response.iter_bytes():
            for data in parser.feed(chunk):
                self._queue.put(Event("data", data))
            if self._closed:
                return
        for data in parser.finish():
            self._queue.put(Event("data", data))
        self._queue.put(Event("end"))

    # -- the waiting side ----------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        """Stop was set: the stream ended because the learner asked it to."""
        return self._cancel.is_set()

    def events(self) -> Iterator[Event]:
        """The events as they come; returns when Stop is set or the stream ended.

        Raises:
            ServerError: the request failed, the stream broke, or nothing came within the
                read timeout.
        """
        last = time.monotonic()
        try:
            while True:
                if self._cancel.is_set():
                    return
                try:
                    event = self._queue.get(timeout=POLL_S)
                except queue.Empty:
                    if time.monotonic() - last > self._config.read_timeout_s:
                        raise stalled_error(self._config) from None
                    continue
                last = time.monotonic()
                if event.kind == "error":
                    if isinstance(event.data, ServerError):
                        raise event.data
                    exc, answered = event.data
                    mid_reply = self.got_data or answered
                    raise network_error(exc, self._config, mid_reply=mid_reply) from exc
                if event.kind == "end":
                    return
                self.got_data = True
                yield event
                if event.kind == "json":
                    return
        finally:
            self.close()

    def close(self) -> None:
        """End the request now, from any thread: the socket is shut (also before the server
        answered), the reader ends, and `events()` returns."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(Event("end"))
        self._shut()

    def _shut(self) -> None:
        with self._lock:
            network = self._network
            response = self._response
        if network is None and response is not None:
            network = response.extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the reader's recv; the server sees EOF
        elif response is not None:
            with contextlib.suppress(Exception):
                response.close()


def _read_capped(response: httpx.Response, limit: int = MAX_ERROR_BYTES) -> str:
    """The body's first `limit` bytes as text."""
    data = bytearray()
    for chunk in response.iter_bytes():
        data.extend(chunk)
        if len(data) >= limit:
            break
    return bytes(data[:limit]).decode("utf-8", "replace")
