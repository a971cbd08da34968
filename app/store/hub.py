"""The Hugging Face hub, through huggingface_hub: where it is (the hub or a mirror), whether we
are offline, a file's metadata, the transfer of its bytes, and its errors in plain words.

huggingface_hub reads its environment once, at import (HF_HUB_OFFLINE, telemetry), so this
module turns telemetry off before the import and passes the endpoint, the token (none: a
mirror must never see a learner's token) and timeouts explicitly on every call. Offline is
decided here, before any call, so an offline app never opens a socket.

Why not `hf_hub_download`: since huggingface_hub 2.x it downloads into a process-unique
temporary file that it deletes when the download fails or is interrupted (huggingface_hub
PR #4228), so a paused, cut or quit download would start again from zero. The library's own
pieces are used instead: `get_hf_file_metadata` (the HEAD /resolve call: commit, ETag = the
LFS sha256, size, redirects) and `http_get(resume_size=...)` (Range requests, retries of a
cut connection), writing into a `.part` file the store keeps.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from app.core.catalog import CatalogEntry

DEFAULT_ENDPOINT = "https://huggingface.co"
METADATA_TIMEOUT_S = 10.0
"""The HEAD request's limit: a dead network fails within this, never hangs."""
CHUNK_BYTES = 1 << 20
"""Bytes per read of the body: Pause and progress react within one chunk (the library's
default of 10 MB would make Pause wait for 10 MB and lose them on a cut)."""
OFFLINE_VARIABLES = ("CODETUTOR_OFFLINE", "HF_HUB_OFFLINE")

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class HubError(Exception):
    """The hub could not give us the file; `str()` is a sentence for the learner.

    Attributes:
        offline: True when the network could not be reached at all (or offline mode is on).
    """

    def __init__(self, message: str, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


def endpoint_problem(url: str) -> str | None:
    """Why `url` cannot be a hub mirror's address, or None when it can."""
    text = url.strip()
    if not text:
        return "The mirror address is empty."
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        if "://" not in text:
            return (
                f"The mirror address “{text}” has no scheme: write it as https://{text} "
                "(setting model.mirror_endpoint)."
            )
        return (
            f"The mirror address “{text}” is not a web address: it must start with https:// "
            "or http:// (setting model.mirror_endpoint)."
        )
    return None


def offline_from_environment(env: dict[str, str] | None = None) -> bool:
    """Whether CODETUTOR_OFFLINE or HF_HUB_OFFLINE asks for offline mode ("1", "true", ...)."""
    env = dict(os.environ) if env is None else env
    return any(
        env.get(v, "").strip().lower() in ("1", "true", "yes", "on") for v in OFFLINE_VARIABLES
    )


@dataclass(frozen=True)
class HubConfig:
    """Where models come from.

    Attributes:
        endpoint: the hub or a mirror ("https://huggingface.co").
        offline: never touch the network.
    """

    endpoint: str = DEFAULT_ENDPOINT
    offline: bool = False

    @classmethod
    def from_settings(cls, mirror: str, env: dict[str, str] | None = None) -> HubConfig:
        """The configuration for the `model.mirror_endpoint` setting (empty: the hub)."""
        endpoint = mirror.strip().rstrip("/") or DEFAULT_ENDPOINT
        return cls(endpoint, offline_from_environment(env))

    @property
    def problem(self) -> str | None:
        """Why downloads cannot start with this configuration, or None."""
        if self.endpoint == DEFAULT_ENDPOINT:
            return None
        return endpoint_problem(self.endpoint)

    @property
    def is_mirror(self) -> bool:
        """Whether a mirror is configured."""
        return self.endpoint != DEFAULT_ENDPOINT


@dataclass(frozen=True)
class RemoteFile:
    """What the hub says about a file before its bytes are fetched.

    Attributes:
        url: where the bytes are (after the hub's redirects).
        size: its size in bytes.
        sha256: the LFS sha256 the hub gives as its ETag, or None (not an LFS file).
        etag: the ETag, which names this version of the file.
        commit: the repository commit it belongs to.
    """

    url: str
    size: int
    sha256: str | None
    etag: str
    commit: str


_hub_module: Any = None


def huggingface_hub() -> Any:
    """The huggingface_hub package, imported with telemetry off and small read chunks."""
    global _hub_module
    if _hub_module is None:
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        import huggingface_hub as hub
        import huggingface_hub.errors
        import huggingface_hub.utils
        from huggingface_hub import constants

        constants.HF_HUB_DISABLE_TELEMETRY = True  # also when it was imported before us
        constants.DOWNLOAD_CHUNK_SIZE = CHUNK_BYTES  # read by http_get at each call
        # Its "Trying to resume download..." warnings would go to the terminal; the store
        # says what happened in its own words.
        hub.utils.logging.set_verbosity_error()
        _hub_module = hub
    return _hub_module


def _headers() -> dict[str, str]:
    from app import __version__

    hub = huggingface_hub()
    return hub.utils.build_hf_headers(
        token=False, library_name="codetutor", library_version=__version__
    )


def file_url(entry: CatalogEntry, config: HubConfig) -> str:
    """The `/{repo}/resolve/{revision}/{file}` address of `entry` at `config`'s endpoint."""
    hub = huggingface_hub()
    return str(
        hub.hf_hub_url(entry.repo, entry.file, revision=entry.revision, endpoint=config.endpoint)
    )


def remote_file(entry: CatalogEntry, config: HubConfig) -> RemoteFile:
    """Ask the hub (or mirror) about `entry`'s file: one HEAD request.

    Raises:
        HubError: offline, unreachable, no such file, not a hub (an HTML page), or the hub
            answered an error; the message says which and what to do.
    """
    if config.offline:
        raise HubError(offline_message(), offline=True)
    if config.problem:
        raise HubError(config.problem)
    if entry.repo is None:
        raise HubError(f"{entry.name} is not on the hub: there is nothing to download.")
    hub = huggingface_hub()
    url = file_url(entry, config)
    try:
        meta = hub.get_hf_file_metadata(
            url,
            token=False,
            timeout=METADATA_TIMEOUT_S,
            headers=_headers(),
            endpoint=config.endpoint,
        )
    except Exception as exc:  # every failure of the call becomes a sentence (re-raised)
        raise HubError(explain(exc, entry, config), offline=is_network_error(exc)) from exc
    if meta.commit_hash is None or meta.etag is None:
        raise HubError(
            f"{where(config)} answered with a web page, not a model file (no hub headers). A "
            "network login page, a proxy or a wrong mirror address can do this: open a web "
            "page to log in, or check model.mirror_endpoint."
        )
    if meta.size is None:
        raise HubError(
            f"{where(config)} does not say how big {entry.file} is, so it cannot be checked."
        )
    sha = meta.etag.lower() if _SHA256.match(meta.etag.lower()) else None
    return RemoteFile(str(meta.location), int(meta.size), sha, meta.etag, meta.commit_hash)


def transfer(remote: RemoteFile, out: BinaryIO, resume: int, quiet_bar: Callable[..., Any]) -> None:
    """Fetch `remote`'s bytes from offset `resume` into `out` (opened for appending).

    huggingface_hub's `http_get` sends a Range request, resumes by itself after a cut
    connection (five tries) and checks the final size.

    Raises:
        Whatever the transfer raises: network errors (httpx2), HfHubHTTPError, OSError (a
        full disk, or the size check), or the caller's own exception from `out.write`.
    """
    huggingface_hub()  # configured first
    from huggingface_hub.file_download import http_get

    http_get(
        remote.url,
        out,
        resume_size=resume,
        headers=_headers(),
        expected_size=remote.size,
        tqdm_class=quiet_bar,
    )


class QuietBar:
    """A progress bar that shows nothing (the store reports progress itself)."""

    def __init__(self, **_kwargs: object) -> None:
        self.n = 0

    def __enter__(self) -> QuietBar:
        return self

    def __exit__(self, *_exc: object) -> bool:
        return False

    def update(self, n: int | float = 1) -> None:
        """Count, and nothing else."""
        self.n += int(n)

    def close(self) -> None:
        """Nothing to close."""


def where(config: HubConfig) -> str:
    """The start of a sentence: "The Hugging Face hub" or "The mirror https://..."."""
    return f"The mirror {config.endpoint}" if config.is_mirror else "The Hugging Face hub"


def offline_message() -> str:
    """What offline mode means for downloads."""
    return (
        "Offline: Code Tutor is in offline mode (CODETUTOR_OFFLINE or HF_HUB_OFFLINE is set), "
        "so nothing is downloaded. Models already on this computer still work."
    )


def is_network_error(exc: BaseException) -> bool:
    """Whether `exc` means the network or the server could not be reached at all."""
    import httpx2

    hub = huggingface_hub()
    return isinstance(
        exc, httpx2.ConnectError | httpx2.TimeoutException | hub.errors.OfflineModeIsEnabled
    )


def explain(exc: BaseException, entry: CatalogEntry, config: HubConfig) -> str:
    """A sentence for an error the hub call or the transfer raised."""
    import httpx2

    errors = huggingface_hub().errors
    site = where(config)
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return offline_message()
    if isinstance(exc, httpx2.ConnectError | httpx2.TimeoutException):
        return (
            f"Offline? {site} at {config.endpoint} cannot be reached ({_reason(exc)}). Check "
            "the network connection; where the hub is blocked, ask for a mirror "
            "(model.mirror_endpoint)."
        )
    if isinstance(exc, httpx2.RemoteProtocolError | httpx2.ReadError | httpx2.NetworkError):
        return f"The connection to {config.endpoint} was lost ({_reason(exc)})."
    if isinstance(exc, errors.RevisionNotFoundError):
        return f"{site} has no revision {entry.revision} of {entry.repo}."
    if isinstance(exc, errors.RemoteEntryNotFoundError):
        return f"{site} has no file {entry.file} in {entry.repo} (404)."
    if isinstance(exc, errors.GatedRepoError):
        return (
            f"{entry.repo} on {site.lower()} needs a login and accepted terms; download it by hand."
        )
    if isinstance(exc, errors.RepositoryNotFoundError):
        return f"{site} has no repository {entry.repo} (404)."
    if isinstance(exc, errors.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        return f"{site} answered with an error ({status or exc}); try again later."
    return f"The download failed: {exc}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text.splitlines()[0][:120]
