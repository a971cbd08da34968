"""Where the tutor's server is and how to reach it: the settings `server.*`, checked.

A lab runs one inference server for the room (`codetutor serve`, llama.cpp's server, vLLM,
Ollama); each learner's app sends its questions there instead of running a model itself.
The API key is read from a file or the environment, never from the settings themselves, so
it is never written to a learner's settings file in clear.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

API_KEY_ENV = "CODETUTOR_SERVER_API_KEY"
"""The environment variable that may hold the server's API key."""

MAX_KEY_FILE_BYTES = 4096  # a key is a line; more is not a key file

SCHEMES = ("http", "https")


class ServerConfigError(Exception):
    """The server settings cannot be used; `str()` says why and what to write instead."""


@dataclass(frozen=True)
class ServerConfig:
    """How to reach the tutor's server.

    Attributes:
        url: the OpenAI-compatible API's base address, e.g. "http://lab-gpu.local:8080/v1".
        model: the model name to ask for; "" takes the first model the server lists.
        api_key: the key sent as a bearer token, or "" for none (never shown or written).
        connect_timeout_s: how long to wait for the server to accept a connection.
        read_timeout_s: how long a reply may go without a word before the wait ends.
        n_ctx: the context length to assume when the server does not tell its own.
    """

    url: str
    model: str = ""
    api_key: str = field(default="", repr=False)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 60.0
    n_ctx: int = 4096

    @property
    def host(self) -> str:
        """The server's host name, for the status bar ("lab-gpu.local")."""
        return urlsplit(self.url).hostname or self.url

    @property
    def root(self) -> str:
        """The server's address without the API's path: llama.cpp's own endpoints
        (/tokenize, /infill, /props) live there."""
        parts = urlsplit(self.url)
        path = parts.path.rstrip("/")
        path = path.removesuffix("/v1")
        return f"{parts.scheme}://{parts.netloc}{path}"


def check_url(url: str) -> str:
    """`url` cleaned (spaces and a trailing slash off), or ServerConfigError saying what is
    wrong with it in words a lab admin can act on."""
    text = url.strip()
    if not text:
        raise ServerConfigError("The server address (server.url) is empty.")
    if "://" not in text:
        raise ServerConfigError(
            f"The server address “{text}” has no scheme: write it in full, e.g. "
            f"“http://{text.rstrip('/')}” (or https:// when the server has a certificate)."
        )
    try:
        parts = urlsplit(text)
        host = parts.hostname
        _ = parts.port  # raises on a port that is not a number or out of range
    except ValueError as exc:  # "http://[lab-gpu", a bad port
        raise ServerConfigError(f"The server address “{text}” cannot be read: {exc}.") from exc
    if parts.scheme.lower() not in SCHEMES:
        raise ServerConfigError(
            f"The server address “{text}” starts with “{parts.scheme}://”: the tutor speaks "
            "http:// or https:// only."
        )
    if not host:
        raise ServerConfigError(f"The server address “{text}” names no host.")
    if parts.username is not None or parts.password is not None:
        raise ServerConfigError(
            "The server address has a user name or password in it (user:password@…), which "
            "would show in every message: put the key in server.api_key_file instead."
        )
    if parts.query or parts.fragment:
        raise ServerConfigError(
            f"The server address “{text}” has a query or fragment (after ? or #); write only "
            "the API's base address, e.g. http://lab-gpu.local:8080/v1."
        )
    return text.rstrip("/")


def read_api_key(key_file: str, environ: dict[str, str] | None = None) -> str:
    """The API key: from `key_file` when one is set, else from CODETUTOR_SERVER_API_KEY,
    else "" (no key).

    Raises:
        ServerConfigError: the file is missing, not a regular file, too big, not text,
            empty, or holds more than one line.
    """
    env = os.environ if environ is None else environ
    if not key_file:
        key = env.get(API_KEY_ENV, "").strip()
        if key and not _usable_key(key):
            raise ServerConfigError(
                f"The API key in the environment variable {API_KEY_ENV} has spaces, control "
                "characters or letters outside ASCII: a key is one word of plain characters."
            )
        return key
    path = Path(key_file).expanduser()
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise ServerConfigError(f"The API key file “{path}” is not a regular file.")
        if st.st_size > MAX_KEY_FILE_BYTES:
            raise ServerConfigError(
                f"The API key file “{path}” is {st.st_size:,} bytes: a key file holds one "
                "line, the key."
            )
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError as exc:
        raise ServerConfigError(f"The API key file “{path}” does not exist.") from exc
    except UnicodeDecodeError as exc:
        raise ServerConfigError(f"The API key file “{path}” is not text.") from exc
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ServerConfigError(f"The API key file “{path}” could not be read: {reason}.") from exc
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ServerConfigError(f"The API key file “{path}” is empty.")
    if len(lines) > 1:
        raise ServerConfigError(
            f"The API key file “{path}” has {len(lines)} lines: it should hold the key alone, "
            "on one line."
        )
    key = lines[0]
    if not _usable_key(key):
        raise ServerConfigError(
            f"The API key in “{path}” has spaces or control characters, or letters outside "
            "ASCII: a key is one word of plain characters."
        )
    return key


def _usable_key(key: str) -> bool:
    """A key that fits an HTTP header: printable ASCII, no spaces."""
    return key.isascii() and all(ch.isprintable() and not ch.isspace() for ch in key)


def make_config(
    url: str,
    model: str = "",
    key_file: str = "",
    connect_timeout_s: float = 5.0,
    read_timeout_s: float = 60.0,
    n_ctx: int = 4096,
    environ: dict[str, str] | None = None,
) -> ServerConfig:
    """A checked ServerConfig from the settings' values.

    Raises:
        ServerConfigError: the address or the key file cannot be used.
    """
    return ServerConfig(
        url=check_url(url),
        model=model.strip(),
        api_key=read_api_key(key_file, environ),
        connect_timeout_s=connect_timeout_s,
        read_timeout_s=read_timeout_s,
        n_ctx=n_ctx,
    )
