"""A small Hugging Face hub on 127.0.0.1 for the download tests.

Files are served under hub-style `/{repo}/resolve/{revision}/{file}` URLs with the headers
huggingface_hub needs (X-Repo-Commit, ETag and X-Linked-Etag holding the sha256 of an LFS file,
X-Linked-Size, Content-Length, Accept-Ranges) and Range requests. Faults are switched on per
file: a connection cut after some bytes, a throttled speed, an HTML page instead of the hub,
garbage bytes, a wrong announced size, a status code. Every request is recorded.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"
"""The commit every fake repository is at."""


@dataclass
class HubFile:
    """A file the fake hub serves, and the faults it shows."""

    data: bytes
    sha256: str
    cut_after: int | None = None  # close the connection after this many body bytes ...
    cuts_left: int = 0  # ... this many times (then serve normally)
    refuse_after_cut: bool = False  # once cut, answer 503 to every later GET
    bytes_per_s: float | None = None  # throttle the body
    html: bool = False  # answer like a captive portal: 200, text/html, no hub headers
    garbage: bool = False  # send other bytes of the same length
    announced_size: int | None = None  # the size the headers claim
    status: int | None = None  # answer every request with this status
    lfs: bool = True  # ETag is the sha256 (an LFS file); False: a git blob id, no sha256
    cut_done: bool = False


@dataclass
class Request:
    """One request the fake hub received."""

    method: str
    path: str
    range: str | None
    user_agent: str = ""


def is_loopback(host: object) -> bool:
    """Whether `host` (an address or a name) is this machine."""
    text = str(host).strip("[]").lower()
    return text in ("localhost", "::1", "") or text.startswith("127.")


class NetworkGuard:
    """Refuses, and records, every connection or name lookup that leaves 127.0.0.1."""

    def __init__(self) -> None:
        self.violations: list[str] = []
        self.unresolvable: set[str] = set()
        """Names whose lookup fails as a name no DNS server knows does (not a violation)."""

    def install(self, monkeypatch) -> None:
        """Patch socket's connect, connect_ex, create_connection and getaddrinfo."""
        guard = self
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_getaddrinfo = socket.getaddrinfo

        def check(address: object) -> None:
            if isinstance(address, tuple) and address and not is_loopback(address[0]):
                guard.violations.append(repr(address))
                raise ConnectionRefusedError(
                    111, f"test network guard: {address!r} is not loopback"
                )

        def connect(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                check(address)
            return real_connect(sock, address)

        def connect_ex(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                check(address)
            return real_connect_ex(sock, address)

        def getaddrinfo(host, *args, **kwargs):
            if host in guard.unresolvable:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            if host is not None and not is_loopback(host):
                guard.violations.append(f"lookup {host!r}")
                raise socket.gaierror(-2, f"test network guard: no lookups of {host!r}")
            return real_getaddrinfo(host, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@dataclass
class FakeHub:
    """The server; `url` is its endpoint (http://127.0.0.1:PORT)."""

    files: dict[tuple[str, str], HubFile] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    url: str = ""
    _server: http.server.ThreadingHTTPServer | None = None
    _connections: list[socket.socket] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, repo: str, name: str, data: bytes, **faults: object) -> HubFile:
        """Serve `data` as `name` in `repo` (at "main" and at COMMIT)."""
        entry = HubFile(data, hashlib.sha256(data).hexdigest(), **faults)  # type: ignore[arg-type]
        self.files[(repo, name)] = entry
        return entry

    def add_file(self, repo: str, name: str, path: Path, **faults: object) -> HubFile:
        """Serve the file at `path`."""
        return self.add(repo, name, path.read_bytes(), **faults)

    def gets(self, name: str) -> list[Request]:
        """The GET requests for the file `name`."""
        return [r for r in self.requests if r.method == "GET" and r.path.endswith("/" + name)]

    def start(self) -> FakeHub:
        """Start serving on a free port of 127.0.0.1."""
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                """Quiet."""

            def setup(self) -> None:
                """Remember the connection, so that `stop` can cut it."""
                super().setup()
                with hub.lock:
                    hub._connections.append(self.connection)

            def do_HEAD(self) -> None:
                """Metadata, as the hub's HEAD /resolve answers it."""
                hub._answer(self, head=True)

            def do_GET(self) -> None:
                """The file, or the part a Range asks for."""
                hub._answer(self, head=False)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False  # keep-alive connections must not hold stop()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving (later connections are refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self.lock:
            connections, self._connections = self._connections, []
        for connection in connections:  # kept-alive ones too: the hub is gone
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def _answer(self, h: http.server.BaseHTTPRequestHandler, head: bool) -> None:
        with self.lock:
            self.requests.append(
                Request(h.command, h.path, h.headers.get("Range"), h.headers.get("User-Agent", ""))
            )
        parts = h.path.split("?")[0].strip("/").split("/")
        if len(parts) < 5 or parts[2] != "resolve":
            return self._error(h, 404, "RepoNotFound", head)
        repo, revision, name = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
        if not any(r == repo for r, _ in self.files):
            return self._error(h, 404, "RepoNotFound", head)
        entry = self.files.get((repo, name))
        if revision not in ("main", COMMIT):
            return self._error(h, 404, "RevisionNotFound", head)
        if entry is None:
            return self._error(h, 404, "EntryNotFound", head)
        if entry.status is not None:
            return self._error(h, entry.status, "", head)
        if entry.html:
            return self._html(h, head)
        if not head and entry.refuse_after_cut and entry.cut_done:
            return self._error(h, 503, "", head)
        data = bytes(len(entry.data)) if entry.garbage else entry.data
        size = len(data)
        start = 0
        rng = h.headers.get("Range")
        if rng and not head:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= size:
                h.send_response(416)
                h.send_header("Content-Range", f"bytes */{size}")
                h.send_header("Content-Length", "0")
                h.end_headers()
                return None
        announced = entry.announced_size if entry.announced_size is not None else size
        h.send_response(206 if start else 200)
        h.send_header("X-Repo-Commit", COMMIT)
        etag = entry.sha256 if entry.lfs else hashlib.sha1(entry.data).hexdigest()
        h.send_header("ETag", f'"{etag}"')
        if entry.lfs:
            h.send_header("X-Linked-Etag", f'"{etag}"')
        h.send_header("X-Linked-Size", str(announced))
        h.send_header("Accept-Ranges", "bytes")
        h.send_header("Content-Type", "application/octet-stream")
        if start:
            h.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        h.send_header("Content-Length", str(size - start))
        h.end_headers()
        if head:
            return None
        self._body(h, entry, data[start:])
        return None

    def _body(self, h: http.server.BaseHTTPRequestHandler, entry: HubFile, body: bytes) -> None:
        limit = len(body)
        cutting = entry.cut_after is not None and entry.cuts_left > 0
        if cutting:
            limit = min(limit, max(0, entry.cut_after - (len(entry.data) - len(body))))
        chunk = 64 * 1024
        sent = 0
        started = time.monotonic()
        try:
            while sent < limit:
                piece = body[sent : min(limit, sent + chunk)]
                h.wfile.write(piece)
                sent += len(piece)
                if entry.bytes_per_s:
                    ahead = sent / entry.bytes_per_s - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        if cutting and limit < len(body):
            entry.cuts_left -= 1
            entry.cut_done = True
            h.close_connection = True
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)

    def _error(self, h: http.server.BaseHTTPRequestHandler, status: int, code: str, head: bool):
        body = b'{"error": "not found"}'
        h.send_response(status)
        h.send_header("X-Repo-Commit", COMMIT) if code == "EntryNotFound" else None
        if code:
            h.send_header("X-Error-Code", code)
            h.send_header("X-Error-Message", f"{code} (fake hub)")
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head:
            h.wfile.write(body)

    def _html(self, h: http.server.BaseHTTPRequestHandler, head: bool) -> None:
        body = b"<!DOCTYPE html><html><body><h1>Welcome to the campus network</h1></body></html>"
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head:
            h.wfile.write(body)
