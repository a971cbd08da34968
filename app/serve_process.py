"""The servers `codetutor serve` starts for a classroom: llama.cpp's llama-server
(`make llama-server`), which answers several learners at once, one slot each, or
llama-cpp-python's own server (`python -m llama_cpp.server`), which answers one request at a
time. This module finds an engine, builds its command line and environment (the API key goes
in the environment, never on the command line), starts the child, waits until it answers,
and stops it. The load benchmark and the tests start their servers here too.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import importlib.util
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from app.paths import PROJECT_ROOT

ENGINES = ("llama-server", "llama-cpp-python")
"""The servers `codetutor serve` can run, best first."""

LLAMA_SERVER_ENV = "CODETUTOR_LLAMA_SERVER"
"""The environment variable that may name the llama-server binary."""

BUILT_LLAMA_SERVER = Path(".tools/llama-server/bin/llama-server")
"""Where `make llama-server` puts the binary, under the project's folder."""

STARTER_ALIAS = "smollm2-135m-instruct"
"""The model name the starter model is served under."""

SERVER_MODULES = (
    "uvicorn",
    "fastapi",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
    "llama_cpp",
)
"""What `python -m llama_cpp.server` imports."""

CHAT_TEMPLATES = {"llama-2": "llama2"}
"""llama-cpp-python chat formats -> llama-server's built-in template names."""

CHILD_ENV_DROPPED = ("HOST", "PORT", "CONFIG_FILE")
"""Variables llama-cpp-python's server would take over its command line."""

STOP_GRACE_S = 5.0
"""How long a server may take to end after SIGTERM before it is killed."""


class ServeError(Exception):
    """The server cannot be started or stopped; `str()` says why, for the lab's admin."""


@dataclass(frozen=True)
class ServeOptions:
    """What to serve and how.

    Attributes:
        model_path: the GGUF file.
        alias: the model name clients send and see in `/v1/models`.
        host: the address to listen on; 127.0.0.1 reaches this computer only.
        port: the TCP port.
        parallel: llama-server's slots (requests answered together).
        n_ctx: context length per slot, in tokens.
        api_key: the key clients must send as a bearer token; None: no key.
        engine: "auto" or one of ENGINES.
        threads: CPU threads for generation; None: the engine's default.
        chat_format: llama-cpp-python's chat format ("llama-2" for Code Llama - Instruct);
            None: the file's own template.
        gpu_layers: layers offloaded to the GPU: -1 all (a build without GPU support runs
            on the CPU and says so in its log), 0 none.
    """

    model_path: Path
    alias: str
    host: str = "127.0.0.1"
    port: int = 8080
    parallel: int = 8
    n_ctx: int = 4096
    api_key: str | None = field(default=None, repr=False)  # never shown
    engine: str = "auto"
    threads: int | None = None
    chat_format: str | None = None
    gpu_layers: int = -1


def _executable(path: str | os.PathLike[str] | None) -> Path | None:
    if not path:
        return None
    p = Path(path).expanduser()
    return p if p.is_file() and os.access(p, os.X_OK) else None


def find_llama_server() -> Path | None:
    """The llama-server binary: $CODETUTOR_LLAMA_SERVER, else `llama-server` on PATH, else the
    one `make llama-server` built. None when none is an executable file."""
    return (
        _executable(os.environ.get(LLAMA_SERVER_ENV))
        or _executable(shutil.which("llama-server"))
        or _executable(PROJECT_ROOT / BUILT_LLAMA_SERVER)
    )


def llama_cpp_server_available() -> str | None:
    """None when `python -m llama_cpp.server` can run here, else what to install."""
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if not missing:
        return None
    return (
        f"llama-cpp-python's server cannot run: {', '.join(missing)} "
        f"{'is' if len(missing) == 1 else 'are'} not installed. Install them with "
        "`pip install 'codetutor[server]'`."
    )


ONE_AT_A_TIME = (
    "llama-cpp-python's server answers one request at a time (the others wait their turn) — "
    "for a lab, build llama-server."
)


def choose_engine(engine: str) -> tuple[str, str | None]:
    """The engine to run for `engine` ("auto" or one of ENGINES), and a note for the admin.

    Raises:
        ServeError: the engine asked for is not here (or, for "auto", neither is).
    """
    if engine not in ("auto", *ENGINES):
        raise ServeError(f"No engine called “{engine}”: choose auto, {' or '.join(ENGINES)}.")
    if engine in ("auto", "llama-server") and find_llama_server() is not None:
        return "llama-server", None
    if engine == "llama-server":
        raise ServeError(
            "llama-server was not found: build it with `make llama-server` (a few minutes), "
            f"put it on PATH, or set {LLAMA_SERVER_ENV} to its path."
        )
    problem = llama_cpp_server_available()
    if problem:
        if engine == "auto":
            problem = (
                f"llama-server was not found (build it with `make llama-server`), and {problem}"
            )
        raise ServeError(problem)
    if engine == "auto":
        return "llama-cpp-python", (
            "llama-server was not found (build it with `make llama-server`): using " + ONE_AT_A_TIME
        )
    return "llama-cpp-python", ONE_AT_A_TIME


@functools.lru_cache(maxsize=8)
def _flags(binary: str) -> frozenset[str]:
    """The long options `binary --help` lists (none when it cannot say)."""
    try:
        done = subprocess.run(
            [binary, "--help"], capture_output=True, text=True, errors="replace", timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    return frozenset(re.findall(r"--[\w-]+", done.stdout + done.stderr))


def server_command(options: ServeOptions, engine: str) -> list[str]:
    """The command line that serves `options` with `engine` (one of ENGINES).

    The API key is not in it (the process list shows every command line to every user of
    the machine): `server_env` passes it.

    Raises:
        ServeError: llama-server is asked for and not found, or the engine is unknown.
    """
    o = options
    if engine == "llama-server":
        binary = find_llama_server()
        if binary is None:
            raise ServeError("llama-server was not found: build it with `make llama-server`.")
        cmd = [str(binary), "-m", str(o.model_path), "--alias", o.alias]
        cmd += ["--host", o.host, "--port", str(o.port), "-np", str(o.parallel)]
        cmd += ["-c", str(o.n_ctx * o.parallel)]  # the total, split across the slots
        flags = _flags(str(binary))  # the learners use the app, not llama.cpp's web page:
        cmd += [f for f in ("--no-ui", "--no-webui") if f in flags][:1]  # new name, else old
        if o.chat_format:
            cmd += ["--chat-template", CHAT_TEMPLATES.get(o.chat_format, o.chat_format)]
        if o.threads:
            cmd += ["-t", str(o.threads)]
        if o.gpu_layers:
            cmd += ["-ngl", str(999 if o.gpu_layers < 0 else o.gpu_layers)]
        return cmd
    if engine == "llama-cpp-python":
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(o.model_path)]
        cmd += ["--model_alias", o.alias, "--host", o.host, "--port", str(o.port)]
        cmd += ["--n_ctx", str(o.n_ctx)]
        cmd += ["--interrupt_requests", "False"]  # a new request waits; it never cuts one off
        if o.chat_format:
            cmd += ["--chat_format", o.chat_format]
        if o.threads:
            cmd += ["--n_threads", str(o.threads), "--n_threads_batch", str(o.threads)]
        if o.gpu_layers:
            cmd += ["--n_gpu_layers", str(o.gpu_layers)]
        return cmd
    raise ServeError(f"No engine called “{engine}”: choose {' or '.join(ENGINES)}.")


def server_env(
    options: ServeOptions, engine: str, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The child's environment: `base` (default: this process's) with the API key, which
    each engine reads from there (llama-server: LLAMA_API_KEY; llama-cpp-python's settings:
    API_KEY), and without what would override the command line."""
    env = dict(os.environ if base is None else base)
    if engine == "llama-cpp-python":
        for name in CHILD_ENV_DROPPED:
            env.pop(name, None)
        env["PYTHONUNBUFFERED"] = "1"
    for name in ("LLAMA_API_KEY", "API_KEY"):
        env.pop(name, None)  # a key of the admin's shell is not this server's
    if options.api_key:
        env["LLAMA_API_KEY" if engine == "llama-server" else "API_KEY"] = options.api_key
    return env


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this computer only (127.x, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _client_host(host: str) -> str:
    """The address this computer reaches a server listening on `host` at."""
    text = host.strip("[]")
    if text in ("", "0.0.0.0", "localhost"):
        return "127.0.0.1"
    if text == "::":
        return "[::1]"
    return f"[{text}]" if ":" in text else text


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host.strip("[]"), 0))
        return int(sock.getsockname()[1])


def port_problem(host: str, port: int) -> str | None:
    """None when a server could listen on `host`:`port`, else why not, in words."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        if os.name == "posix":  # as the servers do: a recent connection's TIME_WAIT is no user
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} is in use on {host} (another server, or `codetutor serve` "
                    "running already): stop it, or choose another port with --port."
                )
            if exc.errno == errno.EACCES:
                return f"Port {port} needs administrator rights: choose one above 1023 with --port."
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"{host} is not an address of this computer: check --host."
            return f"Cannot listen on {host}:{port}: {exc.strerror or exc}."
    return None


def site_config_line(url: str, alias: str, has_key: bool = False, key_file: str = "") -> str:
    """The TOML for the lab's site-wide settings file that points the learners' apps at the
    server (and, when it has a key, says where theirs goes: `key_file` when the admin gave
    one, which the learners' machines must be able to read)."""
    from app.core.server import API_KEY_ENV

    lines = ["[server]", f"url = {json.dumps(url)}", f"model = {json.dumps(alias)}"]
    if key_file:
        path = str(Path(key_file).expanduser().absolute())
        lines.append(f"api_key_file = {json.dumps(path)}  # readable by the learners")
    elif has_key:
        lines.append(
            '# the key: api_key_file = "/path/to/a/file/holding/it" here, or the environment '
            f"variable {API_KEY_ENV}"
        )
    return "\n".join(lines)


class ServerProcess:
    """A running server child: started, waited on until it answers, stopped.

    `ServerProcess.start(options, engine)` returns it ready; `ServerProcess(options, engine)`
    starts when entered as a context manager. Leaving the `with` block stops it.
    """

    def __init__(
        self,
        options: ServeOptions,
        engine: str,
        *,
        log_path: Path | None = None,
        ready_timeout_s: float = 120.0,
    ) -> None:
        self.options = options
        self._engine = engine
        self.log_path = log_path
        self.ready_timeout_s = ready_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @classmethod
    def start(
        cls,
        options: ServeOptions,
        engine: str,
        *,
        log_path: Path | None = None,
        ready_timeout_s: float = 120.0,
    ) -> ServerProcess:
        """Start `engine` on `options` and return once `GET /v1/models` answers 200.

        Args:
            options: what to serve.
            engine: one of ENGINES.
            log_path: the file for the child's output; None: a temporary file (its last
                lines still go into a ServeError).
            ready_timeout_s: how long loading may take.

        Raises:
            ServeError: the child could not start, ended, or did not answer in time.
        """
        server = cls(options, engine, log_path=log_path, ready_timeout_s=ready_timeout_s)
        server.launch()
        return server

    # --- what callers read -------------------------------------------------------------

    @property
    def engine(self) -> str:
        """The engine running (one of ENGINES)."""
        return self._engine

    @property
    def url(self) -> str:
        """The base URL an OpenAI client uses from this computer, e.g.
        "http://127.0.0.1:8080/v1"."""
        return f"http://{_client_host(self.options.host)}:{self.options.port}/v1"

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The child process (ServeError before it was started)."""
        if self._process is None:
            raise ServeError("The server has not been started.")
        return self._process

    @property
    def pid(self) -> int:
        """The child's process id."""
        return self.process.pid

    def log_tail(self, lines: int = 15) -> str:
        """The last `lines` lines the child wrote, the API key blanked out."""
        if self._log is not None and not self._log.closed:
            fd = self._log.fileno()
            size = os.fstat(fd).st_size
            data = os.pread(fd, min(size, 65536), max(0, size - 65536))
        elif self.log_path is not None and self.log_path.is_file():
            data = self.log_path.read_bytes()[-65536:]
        else:
            return ""
        text = "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])
        key = self.options.api_key
        return text.replace(key, "<api key>") if key else text

    # --- life cycle --------------------------------------------------------------------

    def launch(self) -> None:
        """Start the child and wait until it answers (see `start`)."""
        if self._process is not None:
            raise ServeError("This server was started already.")
        command = server_command(self.options, self._engine)
        env = server_env(self.options, self._engine, os.environ)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_path, "w+b")  # noqa: SIM115 - closed by stop()
        else:
            self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=os.name == "posix",  # Ctrl+C reaches us; we stop it
            )
        except OSError as exc:
            self._log.close()
            raise ServeError(f"Could not start {self._engine}: {exc.strerror or exc}.") from exc
        try:
            self._wait_ready()
        except BaseException:  # also Ctrl+C while the model loads: never leave it running
            self.stop()
            raise

    def _wait_ready(self) -> None:
        import httpx

        key = self.options.api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        deadline = time.monotonic() + self.ready_timeout_s
        with httpx.Client(trust_env=False, timeout=2.0) as client:  # no proxy for our own child
            while True:
                code = self.process.poll()
                if code is not None:
                    raise ServeError(
                        f"{self._engine} ended (exit code {code}) before it answered. "
                        f"Its last lines:\n{self.log_tail()}"
                    )
                try:
                    if client.get(f"{self.url}/models", headers=headers).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise ServeError(
                        f"{self._engine} did not answer within {self.ready_timeout_s:.0f} s. "
                        f"Its last lines:\n{self.log_tail()}"
                    )
                time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM, grace_s: float = STOP_GRACE_S) -> int | None:
        """End the child (`sig`, then SIGKILL after `grace_s`) and wait for it; returns its
        exit code (None if it never started). Safe to call twice."""
        proc = self._process
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(sig)
            try:
                proc.wait(grace_s)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):  # a second Ctrl+C too
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
        return None if proc is None else proc.returncode

    def kill(self) -> int | None:
        """End the child at once (SIGKILL), as a crash would, and wait for it."""
        return self.stop(getattr(signal, "SIGKILL", signal.SIGTERM))  # Windows: terminate

    def __enter__(self) -> ServerProcess:
        if self._process is None:
            self.launch()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP (a service manager, a closed terminal, a CI timeout) raise
    KeyboardInterrupt inside the block, as Ctrl+C does, so a server started in it is stopped
    on the way out instead of left running without us."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    saved = {}
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                sig = getattr(signal, name)
                saved[sig] = signal.signal(sig, interrupt)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
